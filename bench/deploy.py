"""Deploy benchmark: from a succeeded build to a healthy, routed server; and the router's cost.

    .venv/bin/python bench/deploy.py [--deploys N] [--requests N]

Starts a real local stack, builds the tiny fixture, then for N deploys (the first a fresh
deployment, the rest redeploys, which also wait the drain before stopping the old server):
- `build_to_routed_s`: from the moment the client sees the build `succeeded` to the first
  response of the new build through the router (deploy queue, worker claim, S3 download, unpack,
  start, health, switch, route cache);
- `redeploy_to_routed_s`: the same for POST /redeploy (no build).
Then `--requests` sequential GETs (more rounds until `--min-seconds` have passed) straight to the server and through the router, in alternating
rounds, over kept-alive client connections and with a new client connection per request (as
bench/router.py measures them), and last `router_latency_ratio X` (median via router / median
direct, kept-alive; 1.0 = free), after `router_latency_ratio_new_conn X`.

The server is the tiny fixture with the injected writer (tests/support/span_server.py): every
request writes a span, so during the measurement the writer closes a file every 2 s, the stack's
shipper uploads it and the ingest pump inserts it, at their defaults, as a busy Mastra server
would make them (`--no-spans`: the plain fixture). The objects shipped meanwhile are printed.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from bench.router import latency_ratios, print_ratios  # noqa: E402
from bench.running import bench_stack  # noqa: E402
from tests.support.builds import TINY, start_build, tiny_deployment, wait_build  # noqa: E402
from tests.support.deploys import DEPLOY_ENV, router_url  # noqa: E402
from tests.support.span_server import copy_tiny_writing_spans  # noqa: E402


def first_routed(url: str, expect_build: str, timeout: float = 120) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            r = requests.get(url, timeout=5)
            if r.status_code == 200 and r.json().get("buildId") == expect_build:
                return time.perf_counter()
        except requests.RequestException:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"{expect_build} never served at {url}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deploys", type=int, default=3)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--min-seconds", type=float, default=10.0, help="measure at least this long")
    parser.add_argument("--no-spans", action="store_true", help="the plain tiny fixture, writing no spans")
    args = parser.parse_args()
    # Shipping at the stack's default interval, not the tests' (DEPLOY_ENV's MA_SHIP_INTERVAL).
    env = {**{k: v for k, v in DEPLOY_ENV.items() if k != "MA_SHIP_INTERVAL"},
           "MA_NODE_CACHE": str(ROOT / ".cache" / "node22"), "MA_HEALTH_INTERVAL": "30"}
    with bench_stack("ma-bench-deploy-", env) as (stack, work):
        owner = stack.session(stack.owner_key)
        team = owner.get(stack.url("/teams")).json()["items"][0]["id"]
        src = shutil.copytree(TINY, work / "tiny") if args.no_spans else copy_tiny_writing_spans(work / "tiny")
        _, deployment = tiny_deployment(stack, owner, team, {"type": "local", "path": str(src)})
        slug = owner.get(stack.url(f"/deployments/{deployment}")).json()["slug"]
        url = f"{router_url(stack)}/d/{slug}/bench"
        build = wait_build(stack, owner, start_build(stack, owner, deployment)["id"], timeout=300)
        seen = time.perf_counter()
        build_to_routed = first_routed(url, build["id"]) - seen
        redeploys = []
        for _ in range(max(0, args.deploys - 1)):
            started = time.perf_counter()
            r = owner.post(stack.url(f"/deployments/{deployment}/redeploy"), json={})
            assert r.status_code == 202, r.text
            deploy_id = r.json()["id"]
            while owner.get(stack.url(f"/deploys/{deploy_id}")).json()["status"] in ("queued", "running"):
                time.sleep(0.02)
            redeploys.append(time.perf_counter() - started)
        server = owner.get(stack.url(f"/servers/{owner.get(stack.url(f'/deployments/{deployment}')).json()['serverId']}")).json()
        direct_url = f"http://127.0.0.1:{server['port']}/bench"
        rounds = 10
        shipped_before = shipped_objects(stack, team)
        # Long enough for the writer to close files and the stack to ship and ingest them meanwhile.
        medians = latency_ratios(direct_url, url, max(1, args.requests // rounds), rounds,
                                 min_seconds=0 if args.no_spans else args.min_seconds)
        shipped = shipped_objects(stack, team) - shipped_before
        print(f"build_to_routed_s {build_to_routed:.2f}")
        if redeploys:
            print(f"redeploy_to_switched_s {statistics.median(redeploys):.2f} (median of {len(redeploys)}, "
                  f"includes the {env['MA_DRAIN_SECONDS']} s drain of the old server)")
        print(f"span files shipped during the measurement: {shipped}; load average {os.getloadavg()[0]:.2f}")
        print_ratios(medians)
    return 0


def shipped_objects(stack, team: str) -> int:
    """Span files the stack has shipped for the team so far (each one an S3 notification to ingest)."""
    pages = stack.aws("s3").get_paginator("list_objects_v2").paginate(
        Bucket="mastra-admin-local-123456789012-artifacts", Prefix=f"observability/spans/{team}/")
    return sum(page.get("KeyCount", 0) for page in pages)


if __name__ == "__main__":
    sys.exit(main())
