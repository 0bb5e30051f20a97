"""Build queue benchmark: the runner's overhead against the same phases by hand, phase by phase, and
the warm/cold install ratio of the per-project package cache.

    .venv/bin/python bench/build_queue.py [--builds N] [--weather-builds N] [--projects N]
                                          [--installs-only | --no-installs]

Starts a real local stack (moto, worker, reaper), then for the tiny fixture (tests/fixtures/tiny-node)
and for examples/mastra-weather, alternating, after one warm-up of each kind:
- via the stack: POST /deployments/{id}/builds, time until the build's `succeeded` arrives on the
  project's WebSocket channel (subscribed before the POST; the bench does not poll the API beside
  the build); its phases from the build log's timestamps (api: the POST's answer; queue+claim: from
  there to the log's first line; copy; prepare: plan, toolchain, sandbox ownership; install; build;
  inject; pack; upload; record: the artifact's line to `succeeded` heard). The deploy each success
  triggers is waited for before the next measure, so it never runs beside one. The stack runs with
  MA_BUILD_STEPS set, so its API and worker record each step of a build with the AWS calls it made
  (chalicelib/services/builds/steps.py); their medians are printed under the phases;
- by hand, in this process: the same phases with none of the machinery, inside the same tenant
  sandbox (bubblewrap as the tenant user, when the stack runs sandboxed) with a warm package cache
  of its own: copy the source, give it to the tenant user, install, build, inject, tar.gz (at the
  runner's gzip level, so packing compares like with like) + sha256, one PUT to S3.
Prints medians per phase and `ratio_to_by_hand` per project (stack total / by hand total; 1.0 = no
overhead).

Then the package cache: for npm and pnpm, N new projects depending on express (about 70 packages,
lockfile generated once at start), each built twice through the stack; the install phase's time
comes from the build log's timestamps (its `==> install` line to the next `==> `). The first build
of a project starts with an empty cache (cold), the second reuses the project's cache (warm).
Prints, last, `warm_cold_install_ratio X` (median warm / median cold; lower is better), or with
--no-installs the mastra-weather `ratio_to_by_hand`.
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
from collections import Counter
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from chalicelib.runners import injection, package_managers, sandbox  # noqa: E402
from chalicelib.runners.build_plan import make_plan  # noqa: E402
from chalicelib.runners.local_build import PACK_EXCLUDES, PACK_LEVEL  # noqa: E402
from chalicelib.runners.node_toolchain import ensure_node  # noqa: E402
from chalicelib.services.builds import steps as build_steps  # noqa: E402
from chalicelib.sources import SKIPPED  # noqa: E402
from tests.support.builds import TINY, log_lines, start_build, tiny_deployment, wait_build  # noqa: E402
from tests.support.deploys import kill_servers  # noqa: E402
from tests.support.live import ws_client  # noqa: E402
from tests.support.stack import start_stack, stop_stack  # noqa: E402

NODE_CACHE = ROOT / ".cache" / "node22"
WEATHER = ROOT / "examples" / "mastra-weather"
BUCKET = "mastra-admin-local-123456789012-artifacts"
INSTALL_DEPS = {"express": "4.21.2"}
PNPM = "pnpm@9.15.9"
# Build-log lines that open a phase (the text after the timestamp), in the order they appear.
STACK_MARKS = (("copy", "copying "), ("prepare", "package manager: "), ("install", "==> install"),
               ("build", "==> build"), ("inject", "==> inject"), ("pack", "==> pack"), ("upload", "packed "),
               ("record", "artifact s3://"))
PHASES = ("api", "queue+claim", "copy", "prepare", "install", "build", "inject", "pack", "upload", "record")


def _at(line: str) -> float:
    return datetime.fromisoformat(line[:24].replace("Z", "+00:00")).timestamp()


def stack_phases(lines: list[str], posted: float, accepted: float, done: float) -> dict[str, float]:
    """Seconds per phase of a build through the stack, from its log's timestamps (wall clock)."""
    marks = [("api", posted), ("queue+claim", accepted), ("start", _at(lines[0]))]
    for name, prefix in STACK_MARKS:
        hit = next((line for line in lines if line[25:].startswith(prefix)), None)
        if hit is not None:
            marks.append((name, _at(hit)))
    marks.append(("end", done))
    out = {name: end - begin for (name, begin), (_, end) in zip(marks, marks[1:])}
    out["queue+claim"] += out.pop("start", 0.0)  # the log's first line to the copy: claim's tail
    return out


def by_hand(source: Path, work: Path, s3, node_bin: Path, box, cache: Path) -> dict[str, float]:
    """The build's phases without the platform: one subprocess each, in the sandbox when there is one."""
    times: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        times[name] = times.get(name, 0.0) + now - clock
        clock = now

    src, home = work / "src", work / "home"
    shutil.copytree(source, src, symlinks=True, ignore=shutil.ignore_patterns(*SKIPPED))
    lap("copy")
    home.mkdir()
    plan = make_plan(src)
    bins = package_managers.toolchain_path(NODE_CACHE, plan.node_major, plan.manager)
    packages = injection.ensure_packages(NODE_CACHE, node_bin) if plan.mastra else None
    stamp = work / "stamp.json"
    stamp.write_text(json.dumps({"teamId": "t", "projectId": "p", "deploymentId": "d", "buildId": "b",
                                 "commit": None, "environment": "production", "serviceName": "bench"}))
    env = sandbox.clean_env({**plan.manager.cache_env(str(cache)), "CI": "1", "MASTRA_TELEMETRY_DISABLED": "1",
                             "PATH": os.pathsep.join([*map(str, bins), sandbox.tool_path(box)])},
                            str(home) if box else os.environ.get("HOME", "/"))
    if box is not None:
        box.give(src, home, cache)
        os.chmod(stamp, 0o644)
    lap("prepare")
    output = src / plan.output_dir
    inject = (*injection.inject_command(node_bin, src / plan.app_dir, output, stamp, packages=packages),
              "--manifest-extra", json.dumps(plan.manifest_extra))
    for name, argv, cwd in [*((p.name, p.argv, src / p.cwd) for p in plan.phases), ("inject", inject, src)]:
        argv, preexec = [shutil.which(argv[0], path=env["PATH"]) or argv[0], *argv[1:]], None
        if box is not None:
            launch = box.wrap(argv, cwd, [src, home, cache.resolve()],
                              [NODE_CACHE.resolve(), injection.INJECT_SCRIPT.parent.resolve(), stamp])
            argv, preexec = launch.argv, launch.preexec
        subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True, preexec_fn=preexec)
        lap(name)
    tarball = work / "artifact.tgz"
    with tarfile.open(tarball, "w:gz", compresslevel=PACK_LEVEL) as tar:
        for entry in sorted(output.resolve().iterdir()):
            if entry.name not in PACK_EXCLUDES:
                tar.add(entry, arcname=entry.name)
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    lap("pack")
    with open(tarball, "rb") as body:
        s3.put_object(Bucket=BUCKET, Key=f"bench/{work.name}.tgz", Body=body, Metadata={"sha256": digest})
    lap("upload")
    return times


def via_stack(stack, session, project: str, deployment: str, steps_file: Path) -> tuple[float, dict, dict]:
    """(seconds from the POST to `succeeded`, its phases, the worker's steps); returns once the deploy
    it triggered is done. The end is the build's status message on the project's WebSocket channel,
    as a client sees it: no polling of the API beside the build."""
    with ws_client(stack, stack.owner_key) as ws:
        ws.send(json.dumps({"action": "subscribe", "channel": f"project:{project}"}))
        while json.loads(ws.recv(timeout=30)).get("type") != "subscribed":
            pass
        posted, started = time.time(), time.perf_counter()
        build_id = start_build(stack, session, deployment)["id"]
        accepted = time.time()
        while True:
            message = json.loads(ws.recv(timeout=300))
            if message.get("buildId") == build_id and message.get("status") not in ("queued", "building"):
                total, done = time.perf_counter() - started, time.time()
                break
    if message["status"] != "succeeded":
        raise SystemExit(f"build {build_id} ended {message['status']}: {message.get('reason')}")
    phases = stack_phases(log_lines(stack, session, build_id), posted, accepted, done)
    deadline = time.monotonic() + 300
    while session.get(stack.url(f"/deployments/{deployment}")).json()["status"] in ("building", "deploying"):
        if time.monotonic() > deadline:
            raise SystemExit(f"the deploy after build {build_id} did not finish")
        time.sleep(0.2)
    return total, phases, worker_steps(steps_file, build_id, posted)


def worker_steps(steps_file: Path, build_id: str, posted: float) -> dict[str, tuple[float, Counter]]:
    """step -> (seconds, AWS calls) of one build, as the worker recorded them (MA_BUILD_STEPS)."""
    out: dict[str, tuple[float, Counter]] = {}
    for step in build_steps.read(steps_file):
        if step["build"] == build_id:
            seconds, calls = out.get(step["step"], (0.0, Counter()))
            out[step["step"]] = (seconds + step["end"] - step["start"], calls + Counter(step["calls"]))
    return out


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
    start = next(i for i, line in enumerate(lines) if line[25:].startswith("==> install"))
    end = next(i for i, line in enumerate(lines[start + 1:], start + 1) if line[25:].startswith("==> "))
    return _at(lines[end]) - _at(lines[start])


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
    parser.add_argument("--builds", type=int, default=7, help="tiny fixture builds, each way")
    parser.add_argument("--weather-builds", type=int, default=3, help="mastra-weather builds, each way")
    parser.add_argument("--projects", type=int, default=3, help="projects per package manager (install cache)")
    parser.add_argument("--installs-only", action="store_true", help="only the warm/cold install measure")
    parser.add_argument("--no-installs", action="store_true", help="only the overhead against builds by hand")
    args = parser.parse_args()
    node_bin = ensure_node(NODE_CACHE)
    overheads: dict[str, Overhead] = {}
    timings: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-builds-") as tmp:
        work = Path(tmp)
        stack = start_stack(work / "home", {"MA_NODE_CACHE": str(NODE_CACHE),
                                            "MA_BUILD_STEPS": str(work / "build-steps.jsonl")})
        try:
            session = stack.session(stack.owner_key)
            team = session.get(stack.url("/teams")).json()["items"][0]["id"]
            if not args.installs_only:
                box = sandbox.find(os.environ.get("MA_SANDBOX_USER", "mastra-tenant"))[0]
                print(f"sandbox: {'tenant user ' + box.user + ' in bubblewrap' if box else 'none (not root?)'}",
                      flush=True)
                for name, source, builds in (("tiny", TINY, args.builds), ("mastra-weather", WEATHER,
                                                                            args.weather_builds)):
                    if builds:
                        overheads[name] = overhead(stack, session, team, work, node_bin, box, name, source, builds)
            if not args.no_installs:
                timings = installs(stack, session, team, work, node_bin, args.projects)
        finally:
            stop_stack(stack)
            kill_servers(work / "home")  # each succeeded build was deployed
    for name, result in overheads.items():
        result.report(name)
    if timings:
        report_installs(timings)


class Overhead:
    def __init__(self):
        self.steps: dict[str, list[tuple[float, Counter]]] = {}
        self.stack_total: list[float] = []
        self.hand_total: list[float] = []
        self.stack: dict[str, list[float]] = {p: [] for p in PHASES}
        self.hand: dict[str, list[float]] = {p: [] for p in PHASES}

    def add(self, stack_total: float, stack: dict[str, float], hand: dict[str, float],
            steps: dict[str, tuple[float, Counter]]) -> None:
        for step, measured in steps.items():
            self.steps.setdefault(step, []).append(measured)
        self.stack_total.append(stack_total)
        self.hand_total.append(sum(hand.values()))
        for phase in PHASES:
            self.stack[phase].append(stack.get(phase, 0.0))
            self.hand[phase].append(hand.get(phase, 0.0))

    def report(self, name: str) -> None:
        med = statistics.median
        print(f"\n{name}: {len(self.stack_total)} builds each way, alternating; median seconds per phase")
        print(f"  {'phase':<12} {'stack':>8} {'by hand':>8} {'extra':>8}")
        for phase in PHASES:
            stack, hand = med(self.stack[phase]), med(self.hand[phase])
            print(f"  {phase:<12} {stack:8.2f} {hand:8.2f} {stack - hand:+8.2f}")
        print(f"  {'total':<12} {med(self.stack_total):8.2f} {med(self.hand_total):8.2f} "
              f"{med(self.stack_total) - med(self.hand_total):+8.2f}")
        print(f"  worker steps (median seconds; AWS calls per build, summed over the builds / builds):")
        for step, measured in self.steps.items():
            calls = sum((c for _, c in measured), Counter())
            per_build = ", ".join(f"{op} {n / len(measured):g}" for op, n in calls.most_common())
            print(f"    {step:<26} {med(s for s, _ in measured):6.3f}  {per_build or '-'}")
        print(f"{name} ratio_to_by_hand {med(self.stack_total) / med(self.hand_total):.2f}")


def overhead(stack, session, team: str, work: Path, node_bin: Path, box, name: str, source: Path,
             builds: int) -> Overhead:
    src = work / name
    shutil.copytree(source, src, ignore=shutil.ignore_patterns(*SKIPPED))
    project, deployment = tiny_deployment(stack, session, team, {"type": "local", "path": str(src)},
                                          name=f"bench-{name}")
    s3 = stack.aws("s3")
    cache = work / f"hand-cache-{name}"
    cache.mkdir(mode=0o700)
    result = Overhead()
    for n in range(-1, builds):  # -1: the warm-up of both (imports, first installs into each cache)
        total, phases, steps = via_stack(stack, session, project, deployment, work / "build-steps.jsonl")
        hand_work = work / f"hand-{name}-{n + 1}"
        hand_work.mkdir()
        hand = by_hand(src, hand_work, s3, node_bin, box, cache)
        shutil.rmtree(hand_work, ignore_errors=True)
        if n >= 0:
            result.add(total, phases, hand, steps)
        print(f"{name} {'warm-up' if n < 0 else n + 1}: stack {total:.1f} s, by hand {sum(hand.values()):.1f} s",
              flush=True)
    return result


def report_installs(timings: dict[str, list[float]]) -> None:
    med = statistics.median
    print(f"installs {len(timings['cold'])} projects x 2 builds (npm ci and pnpm frozen, express {INSTALL_DEPS['express']})")
    for manager in ("npm", "pnpm"):
        print(f"{manager}_install_ms cold p50 {med(timings[f'{manager} cold']) * 1000:.0f}"
              f" warm p50 {med(timings[f'{manager} warm']) * 1000:.0f}")
    print(f"install_cold_ms p50 {med(timings['cold']) * 1000:.0f} max {max(timings['cold']) * 1000:.0f}")
    print(f"install_warm_ms p50 {med(timings['warm']) * 1000:.0f} max {max(timings['warm']) * 1000:.0f}")
    print(f"warm_cold_install_ratio {med(timings['warm']) / med(timings['cold']):.2f}")


if __name__ == "__main__":
    main()
