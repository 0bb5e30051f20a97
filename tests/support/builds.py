"""Helpers for build tests: the tiny fixture, deployments of it, waiting on builds."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "fixtures" / "tiny-node"
ACTIVE = ("queued", "building")
# Short leases and timers so recovery is observable in seconds; the same code paths as in production.
BUILD_ENV = {
    "MA_NODE_CACHE": str(ROOT / ".cache" / "node22"),
    "MA_BUILD_LEASE_SECONDS": "10",
    "MA_REAPER_INTERVAL": "2",
    "MA_BUILD_VISIBILITY_TIMEOUT": "3",
}


def copy_tiny(dest: Path) -> Path:
    shutil.copytree(TINY, dest)
    return dest


def tiny_deployment(stack, session, team: str, source: dict, env: dict[str, str] | None = None,
                    name: str = "tiny") -> tuple[str, str]:
    """(projectId, deploymentId) of a new project with `source` and `env` variables."""
    r = session.post(stack.url(f"/teams/{team}/projects"), json={"name": name, "source": source})
    assert r.status_code == 201, r.text
    project = r.json()["id"]
    for key, value in (env or {}).items():
        assert session.put(stack.url(f"/projects/{project}/env/{key}"), json={"value": value}).status_code == 200
    r = session.post(stack.url(f"/projects/{project}/deployments"), json={"type": "production"})
    assert r.status_code == 201, r.text
    return project, r.json()["id"]


def start_build(stack, session, deployment: str, **body) -> dict:
    r = session.post(stack.url(f"/deployments/{deployment}/builds"), json=body)
    assert r.status_code == 202, r.text
    return r.json()


def wait_build(stack, session, build_id: str, until=lambda b: b["status"] not in ACTIVE,
               timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        build = session.get(stack.url(f"/builds/{build_id}")).json()
        if until(build):
            return build
        if time.monotonic() > deadline:
            raise AssertionError(f"build did not get there in {timeout} s: {build}")
        time.sleep(0.3)


def log_lines(stack, session, build_id: str, since: int = 0) -> list[str]:
    r = session.get(stack.url(f"/builds/{build_id}/logs"), params={"since": since})
    assert r.status_code == 200, r.text
    return r.json()["lines"]


def wait_log(stack, session, build_id: str, needle: str, timeout: float = 120) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = log_lines(stack, session, build_id)
        if any(needle in line for line in lines):
            return lines
        time.sleep(0.3)
    raise AssertionError(f"{needle!r} never appeared in the log of {build_id}")


def handled_messages(stack, kind: str, key: str, value: str) -> int:
    """How many `kind` ("build", "deploy") queue messages about `value` the stack's worker has handled,
    counted from the line it logs for each (`{"message": "build message handled", "buildId": ...}`)."""
    path = stack.home / "worker.log"
    count = 0
    for line in path.read_text(errors="replace").splitlines() if path.exists() else []:
        if f'"{kind} message handled"' in line and value in line:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            count += record.get("message") == f"{kind} message handled" and record.get(key) == value
    return count


def describe_processes(pids: list[int]) -> list[str]:
    """pid, parent, state and command line of each process: what a leak report needs."""
    import psutil

    out = []
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            out.append(f"{pid} ppid={proc.ppid()} {proc.status()} {' '.join(proc.cmdline())[:200]}")
        except psutil.Error:
            out.append(f"{pid} gone")
    return out


def build_processes(build_id: str) -> list[int]:
    """Pids of live processes started for this build (the runner stamps MASTRA_ADMIN_BUILD_ID)."""
    import psutil

    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.environ().get("MASTRA_ADMIN_BUILD_ID") == build_id and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc.pid)
        except (psutil.Error, OSError):
            continue
    return found
