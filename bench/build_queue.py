"""Build queue benchmark: queue latency, and the runner's overhead against the same phases by hand.

    .venv/bin/python bench/build_queue.py [--builds N]

Starts a real local stack (moto, worker, reaper), then for the tiny fixture, alternating:
- via the stack: POST /deployments/{id}/builds, time until the build is `building` (queue
  latency: API -> SQS -> dispatcher -> claim) and until it is `succeeded` (everything);
- by hand, in this process: copy the source, `npm ci`, `npm run build`, the inject script, tar.gz
  + sha256 + PUT to S3 — the same phases with none of the machinery.
Prints medians and, last, `ratio_to_by_hand X` (stack total / by hand total; 1.0 = no overhead).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from chalicelib.runners.build_plan import make_plan  # noqa: E402
from chalicelib.runners.injection import inject_command  # noqa: E402
from chalicelib.runners.node_toolchain import ensure_node  # noqa: E402
from tests.support.builds import TINY, start_build, tiny_deployment  # noqa: E402
from tests.support.deploys import kill_servers  # noqa: E402
from tests.support.stack import start_stack, stop_stack  # noqa: E402

NODE_CACHE = ROOT / ".cache" / "node22"


def by_hand(work: Path, s3, node_bin: Path, n: int) -> float:
    started = time.perf_counter()
    src = work / f"hand-{n}" / "src"
    shutil.copytree(TINY, src)
    env = {**os.environ, "PATH": f"{node_bin}{os.pathsep}{os.environ['PATH']}", "CI": "1"}
    plan = make_plan(src)
    stamp = work / f"hand-{n}" / "stamp.json"
    stamp.write_text(json.dumps({"teamId": "t", "projectId": "p", "deploymentId": "d", "buildId": "b",
                                 "commit": None, "environment": "production", "serviceName": "bench"}))
    for phase in [*(p.argv for p in plan.phases), inject_command(node_bin, src, src, stamp)]:
        subprocess.run(list(phase), cwd=src, env=env, check=True, capture_output=True)
    tarball = work / f"hand-{n}" / "artifact.tgz"
    with tarfile.open(tarball, "w:gz") as tar:
        for entry in sorted(src.iterdir()):
            tar.add(entry, arcname=entry.name)
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    with open(tarball, "rb") as body:
        s3.put_object(Bucket="mastra-admin-local-artifacts", Key=f"bench/{n}.tgz", Body=body,
                      Metadata={"sha256": digest})
    return time.perf_counter() - started


def via_stack(stack, session, deployment: str) -> tuple[float, float]:
    started = time.perf_counter()
    build_id = start_build(stack, session, deployment)["id"]
    building_at = None
    while True:
        status = session.get(stack.url(f"/builds/{build_id}")).json()["status"]
        now = time.perf_counter()
        if status != "queued" and building_at is None:
            building_at = now
        if status not in ("queued", "building"):
            if status != "succeeded":
                raise SystemExit(f"build {build_id} ended {status}")
            return building_at - started, now - started
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--builds", type=int, default=7)
    args = parser.parse_args()
    node_bin = ensure_node(NODE_CACHE)
    with tempfile.TemporaryDirectory(prefix="bench-builds-") as tmp:
        work = Path(tmp)
        stack = start_stack(work / "home", {"MA_NODE_CACHE": str(NODE_CACHE)})
        try:
            session = stack.session(stack.owner_key)
            team = session.get(stack.url("/teams")).json()["items"][0]["id"]
            src = work / "tiny"
            shutil.copytree(TINY, src)
            _, deployment = tiny_deployment(stack, session, team, {"type": "local", "path": str(src)})
            s3 = stack.aws("s3")
            via_stack(stack, session, deployment)  # warm-up: imports, first npm run
            by_hand(work, s3, node_bin, -1)
            to_building, stack_total, hand_total = [], [], []
            for n in range(args.builds):
                latency, total = via_stack(stack, session, deployment)
                to_building.append(latency)
                stack_total.append(total)
                hand_total.append(by_hand(work, s3, node_bin, n))
        finally:
            stop_stack(stack)
            kill_servers(work / "home")  # each succeeded build was deployed
    med = statistics.median
    print(f"builds {args.builds} (tiny fixture, alternating)")
    print(f"post_to_building_ms p50 {med(to_building) * 1000:.0f} max {max(to_building) * 1000:.0f}")
    print(f"via_stack_total_ms p50 {med(stack_total) * 1000:.0f}")
    print(f"by_hand_total_ms p50 {med(hand_total) * 1000:.0f}")
    print(f"ratio_to_by_hand {med(stack_total) / med(hand_total):.2f}")


if __name__ == "__main__":
    main()
