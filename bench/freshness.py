"""Freshness benchmark: from an agent's answer to its trace listed by the trace API.

    .venv/bin/python bench/freshness.py [--calls N] [--poll SECONDS]

Starts a real local stack with the shipping and flushing defaults (nothing here shortens them),
builds and deploys the mastra-weather example through it (needs the npm registry, as its e2e test
does), then makes N sequential agent calls through the router. For each call it times from the
response to the first listing of `GET /projects/{id}/traces` that holds the call's new trace
(polled every `--poll` seconds): the server's writer flushing its file, the stack's shipper
uploading it, S3's notification, the ingest pump and chDB, then the query. Prints each figure, the
p95, and last `freshness_p50_s X` (goal <= 5).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from bench.running import bench_stack  # noqa: E402
from tests.e2e.trace_api import listed_trace_ids  # noqa: E402
from tests.support.builds import BUILD_ENV  # noqa: E402
from tests.support.deploys import via_path, wait_deploy_of_build  # noqa: E402
from tests.support.weather import QUESTION, build_weather  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def one_call(stack, session, project: str, slug: str, seen: set[str], poll: float, timeout: float) -> float:
    """Seconds from the agent's response to its trace in the listing (new trace ids are added to seen)."""
    r = via_path(stack, slug, "/api/agents/weatherAgent/generate", method="POST", json=QUESTION, timeout=60)
    answered = time.perf_counter()
    assert r.status_code == 200, r.text[:300]
    while time.perf_counter() - answered < timeout:
        new = listed_trace_ids(stack, session, project) - seen
        if new:
            listed = time.perf_counter()
            seen |= new
            return listed - answered
        time.sleep(poll)
    raise RuntimeError(f"no new trace listed {timeout} s after the answer")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--poll", type=float, default=0.05)
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    with bench_stack("ma-bench-fresh-", {**BUILD_ENV, "MA_HEALTH_INTERVAL": "30"}) as (stack, work):
        owner = stack.session(stack.owner_key)
        team = owner.get(stack.url("/teams")).json()["items"][0]["id"]
        project, deployment, build = build_weather(stack, owner, team, work)
        assert wait_deploy_of_build(stack, owner, deployment, build["id"], timeout=300)["status"] == "succeeded"
        slug = owner.get(stack.url(f"/deployments/{deployment}")).json()["slug"]
        seen = listed_trace_ids(stack, owner, project)
        figures = []
        for i in range(args.calls):
            figures.append(one_call(stack, owner, project, slug, seen, args.poll, args.timeout))
            print(f"call {i + 1}: listed {figures[-1]:.2f} s after the answer", flush=True)
        print(f"load average {os.getloadavg()[0]:.2f}")
        print(f"freshness_p95_s {percentile(figures, 0.95):.2f}")
        print(f"freshness_p50_s {statistics.median(figures):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
