"""Deploy benchmark: from a succeeded build to a healthy, routed server; and the router's cost.

    .venv/bin/python bench/deploy.py [--deploys N] [--requests N]

Starts a real local stack, builds the tiny fixture, then for N deploys (the first a fresh
deployment, the rest redeploys, which also wait the drain before stopping the old server):
- `build_to_routed_s`: from the moment the client sees the build `succeeded` to the first
  response of the new build through the router (deploy queue, worker claim, S3 download, unpack,
  start, health, switch, route cache);
- `redeploy_to_routed_s`: the same for POST /redeploy (no build).
Then `--requests` sequential GETs (keep-alive) straight to the server and through the router, and
last `router_latency_ratio X` (median via router / median direct; 1.0 = free).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from tests.support.builds import TINY, start_build, tiny_deployment, wait_build  # noqa: E402
from tests.support.deploys import DEPLOY_ENV, kill_servers, router_url  # noqa: E402
from tests.support.stack import start_stack, stop_stack  # noqa: E402


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


def timed(session: requests.Session, url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        r = session.get(url, timeout=10)
        out.append(time.perf_counter() - started)
        assert r.status_code == 200, r.text
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deploys", type=int, default=3)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ma-bench-deploy-"))
    env = {**DEPLOY_ENV, "MA_NODE_CACHE": str(ROOT / ".cache" / "node22"), "MA_HEALTH_INTERVAL": "30"}
    stack = start_stack(work / "home", env)
    try:
        owner = stack.session(stack.owner_key)
        team = owner.get(stack.url("/teams")).json()["items"][0]["id"]
        src = shutil.copytree(TINY, work / "tiny")
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
        with requests.Session() as direct_session, requests.Session() as routed_session:
            timed(direct_session, direct_url, 20)  # warm up both paths
            timed(routed_session, url, 20)
            direct = timed(direct_session, direct_url, args.requests)
            routed = timed(routed_session, url, args.requests)
        d_med, r_med = statistics.median(direct), statistics.median(routed)
        print(f"build_to_routed_s {build_to_routed:.2f}")
        if redeploys:
            print(f"redeploy_to_switched_s {statistics.median(redeploys):.2f} (median of {len(redeploys)}, "
                  f"includes the {env['MA_DRAIN_SECONDS']} s drain of the old server)")
        print(f"direct_median_ms {d_med * 1000:.2f}  router_median_ms {r_med * 1000:.2f}  "
              f"router_added_ms {(r_med - d_med) * 1000:.2f}")
        print(f"router_latency_ratio {r_med / d_med:.2f}")
    finally:
        stop_stack(stack)
        kill_servers(work / "home")
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
