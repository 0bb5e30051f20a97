"""Build queue benchmark: queue latency, the runner's overhead against the same phases by hand, and
the warm/cold install ratio of the per-project package cache.

    .venv/bin/python bench/build_queue.py [--builds N] [--projects N] [--installs-only]

Starts a real local stack (moto, worker, reaper), then for the tiny fixture, alternating:
- via the stack: POST /deployments/{id}/builds, time until the build is `building` (queue
  latency: API -> SQS -> dispatcher -> claim) and until it is `succeeded` (everything);
- by hand, in this process: copy the source, `npm ci`, `npm run build`, the inject script, tar.gz
  + sha256 + PUT to S3 — the same phases with none of the machinery.
Prints medians and `ratio_to_by_hand X` (stack total / by hand total; 1.0 = no overhead).

Then the package cache: for npm and pnpm, N new projects depending on express (about 70 packages,
lockfile generated once at start), each built twice through the stack; the install phase's time
comes from the build log's timestamps (its `==> install` line to the next `==> `). The first build
of a project starts with an empty cache (cold), the second reuses the project's cache (warm).
Prints, last, `warm_cold_install_ratio X` (median warm / median cold; lower is better).
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
from chalicelib.runners import package_managers  # noqa: E402
from tests.support.builds import TINY, log_lines, start_build, tiny_deployment, wait_build  # noqa: E402
from tests.support.deploys import kill_servers  # noqa: E402
from tests.support.stack import start_stack, stop_stack  # noqa: E402

NODE_CACHE = ROOT / ".cache" / "node22"
INSTALL_DEPS = {"express": "4.21.2"}
PNPM = "pnpm@9.15.9"


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


def install_template(work: Path, manager: str, node_bin: Path) -> Path:
    """A project depending on express with its lockfile, written by the manager itself (once)."""
    src = work / f"template-{manager}"
    src.mkdir()
    package = {"name": "bench-install", "version": "1.0.0", "private": True, "dependencies": INSTALL_DEPS}
    if manager == "pnpm":
        package["packageManager"] = PNPM
    (src / "package.json").write_text(json.dumps(package))
    bins = [node_bin]
    if manager == "pnpm":
        bins.insert(0, package_managers.ensure_bin(NODE_CACHE, package_managers.from_label(PNPM), node_bin))
    env = {**os.environ, "PATH": os.pathsep.join([*map(str, bins), os.environ["PATH"]])}
    argv = ["pnpm", "install", "--lockfile-only"] if manager == "pnpm" else ["npm", "install", "--package-lock-only"]
    subprocess.run(argv, cwd=src, env=env, check=True, capture_output=True)
    return src


def install_seconds(lines: list[str]) -> float:
    """From the `==> install` line's timestamp to the next phase's (build-log lines start with one)."""
    from datetime import datetime

    def at(line: str) -> datetime:
        return datetime.fromisoformat(line[:24].replace("Z", "+00:00"))

    start = next(i for i, line in enumerate(lines) if line[25:].startswith("==> install"))
    end = next(i for i, line in enumerate(lines[start + 1:], start + 1) if line[25:].startswith("==> "))
    return (at(lines[end]) - at(lines[start])).total_seconds()


def installs(stack, session, team: str, work: Path, node_bin: Path, projects: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"cold": [], "warm": [], "npm cold": [], "npm warm": [], "pnpm cold": [],
                                       "pnpm warm": []}
    for manager in ("npm", "pnpm"):
        template = install_template(work, manager, node_bin)
        for n in range(projects):
            src = work / f"install-{manager}-{n}"
            shutil.copytree(template, src)
            _, deployment = tiny_deployment(stack, session, team, {"type": "local", "path": str(src)},
                                            name=f"install-{manager}-{n}")
            for which in ("cold", "warm"):
                build = wait_build(stack, session, start_build(stack, session, deployment)["id"], timeout=600)
                if build["status"] != "succeeded":
                    raise SystemExit(f"build {build['id']} ended {build['status']}: {build.get('reason')}")
                seconds = install_seconds(log_lines(stack, session, build["id"]))
                timings[which].append(seconds)
                timings[f"{manager} {which}"].append(seconds)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--builds", type=int, default=7)
    parser.add_argument("--projects", type=int, default=3, help="projects per package manager (install cache)")
    parser.add_argument("--installs-only", action="store_true", help="only the warm/cold install measure")
    args = parser.parse_args()
    node_bin = ensure_node(NODE_CACHE)
    to_building, stack_total, hand_total = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-builds-") as tmp:
        work = Path(tmp)
        stack = start_stack(work / "home", {"MA_NODE_CACHE": str(NODE_CACHE)})
        try:
            session = stack.session(stack.owner_key)
            team = session.get(stack.url("/teams")).json()["items"][0]["id"]
            if not args.installs_only:
                to_building, stack_total, hand_total = queue_and_overhead(stack, session, team, work, node_bin,
                                                                          args.builds)
            timings = installs(stack, session, team, work, node_bin, args.projects)
        finally:
            stop_stack(stack)
            kill_servers(work / "home")  # each succeeded build was deployed
    med = statistics.median
    if not args.installs_only:
        print(f"builds {args.builds} (tiny fixture, alternating)")
        print(f"post_to_building_ms p50 {med(to_building) * 1000:.0f} max {max(to_building) * 1000:.0f}")
        print(f"via_stack_total_ms p50 {med(stack_total) * 1000:.0f}")
        print(f"by_hand_total_ms p50 {med(hand_total) * 1000:.0f}")
        print(f"ratio_to_by_hand {med(stack_total) / med(hand_total):.2f}")
    print(f"installs {len(timings['cold'])} projects x 2 builds (npm ci and pnpm frozen, express {INSTALL_DEPS['express']})")
    for manager in ("npm", "pnpm"):
        print(f"{manager}_install_ms cold p50 {med(timings[f'{manager} cold']) * 1000:.0f}"
              f" warm p50 {med(timings[f'{manager} warm']) * 1000:.0f}")
    print(f"install_cold_ms p50 {med(timings['cold']) * 1000:.0f} max {max(timings['cold']) * 1000:.0f}")
    print(f"install_warm_ms p50 {med(timings['warm']) * 1000:.0f} max {max(timings['warm']) * 1000:.0f}")
    print(f"warm_cold_install_ratio {med(timings['warm']) / med(timings['cold']):.2f}")


def queue_and_overhead(stack, session, team: str, work: Path, node_bin: Path, builds: int):
    to_building, stack_total, hand_total = [], [], []
    src = work / "tiny"
    shutil.copytree(TINY, src)
    _, deployment = tiny_deployment(stack, session, team, {"type": "local", "path": str(src)})
    s3 = stack.aws("s3")
    via_stack(stack, session, deployment)  # warm-up: imports, first npm run
    by_hand(work, s3, node_bin, -1)
    for n in range(builds):
        latency, total = via_stack(stack, session, deployment)
        to_building.append(latency)
        stack_total.append(total)
        hand_total.append(by_hand(work, s3, node_bin, n))
    return to_building, stack_total, hand_total


if __name__ == "__main__":
    main()
