"""Router benchmark: what the router adds to a request, against the same request sent straight.

    .venv/bin/python bench/router.py [--requests N] [--rounds N]

Starts a plain Node HTTP server (`http.createServer`, as the tiny fixture serves) and the router as
its own process (`python -m chalicelib.router`, a fixed route: no DynamoDB read on the path, as
with a warm route cache), then times sequential GETs straight to the server and through the router,
in alternating rounds so that both paths see the same machine load:
- over one kept-alive client connection per path (`requests.Session`, as bench/deploy.py);
- with a new client connection per request (`http.client`, connect + request + close).
Prints the medians and last `router_latency_ratio X` (median via router / median direct; 1.0 = free),
after `router_latency_ratio_new_conn X`.
"""
from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.node_upstream import start_node_upstream  # noqa: E402
from tests.support.stack import free_port  # noqa: E402


def timed_session(session: requests.Session, url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        r = session.get(url, timeout=10)
        out.append(time.perf_counter() - started)
        assert r.status_code == 200, r.text
    return out


def timed_new_connections(url: str, n: int) -> list[float]:
    parts = urlsplit(url)
    out = []
    for _ in range(n):
        started = time.perf_counter()
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        conn.request("GET", parts.path)
        r = conn.getresponse()
        r.read()
        conn.close()
        out.append(time.perf_counter() - started)
        assert r.status == 200
    return out


def latency_ratios(direct_url: str, routed_url: str, requests_per_round: int, rounds: int,
                   min_seconds: float = 0.0) -> dict[str, float]:
    """Medians (s) straight and through the router, kept-alive and new connections, in alternating
    rounds: at least `rounds`, and more until `min_seconds` have passed."""
    samples: dict[str, list[float]] = {"direct": [], "routed": [], "direct_new": [], "routed_new": []}
    with requests.Session() as direct, requests.Session() as routed:
        timed_session(direct, direct_url, 50)  # warm up both paths (and the router's upstream pool)
        timed_session(routed, routed_url, 50)
        timed_new_connections(direct_url, 20)
        timed_new_connections(routed_url, 20)
        started, i = time.perf_counter(), 0
        while i < rounds or time.perf_counter() - started < min_seconds:
            order = (("direct", direct, direct_url), ("routed", routed, routed_url))
            for name, session, url in order if i % 2 == 0 else order[::-1]:
                samples[name] += timed_session(session, url, requests_per_round)
                samples[name + "_new"] += timed_new_connections(url, requests_per_round)
            i += 1
    return {name: statistics.median(values) for name, values in samples.items()}


def print_ratios(m: dict[str, float]) -> None:
    print(f"direct_median_ms {m['direct'] * 1000:.3f}  router_median_ms {m['routed'] * 1000:.3f}  "
          f"router_added_ms {(m['routed'] - m['direct']) * 1000:.3f}")
    print(f"direct_new_conn_median_ms {m['direct_new'] * 1000:.3f}  router_new_conn_median_ms "
          f"{m['routed_new'] * 1000:.3f}  router_new_conn_added_ms {(m['routed_new'] - m['direct_new']) * 1000:.3f}")
    print(f"router_latency_ratio_new_conn {m['routed_new'] / m['direct_new']:.2f}")
    print(f"router_latency_ratio {m['routed'] / m['direct']:.2f}")


def start_router(upstream: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chalicelib.router", "--port", str(port), "--route", f"bench={upstream}"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("router ready"):
        proc.kill()
        raise RuntimeError(f"the router did not start: {line!r}")
    return proc, f"http://127.0.0.1:{port}/d/bench/bench"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100, help="requests per path per round")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    node = start_node_upstream()
    router = None
    try:
        router, routed_url = start_router(node.address)
        medians = latency_ratios(f"http://{node.address}/bench", routed_url, args.requests, args.rounds)
        print(f"{args.requests * args.rounds} requests per path and kind, {args.rounds} alternating rounds")
        print_ratios(medians)
    finally:
        if router is not None:
            router.terminate()
            router.wait(10)
        node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
