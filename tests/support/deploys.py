"""Helpers for deploy tests: waiting on deploys, calling servers through the router, cleanup."""
from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import requests

from tests.support.builds import BUILD_ENV
from tests.support.waiting import wait_for

# Fast timers so health checks, switches and drains are observable in seconds.
DEPLOY_ENV = {
    **BUILD_ENV,
    "MA_HEALTH_INTERVAL": "1",
    "MA_DEPLOY_HEALTH_TIMEOUT": "10",
    "MA_ROUTE_CACHE_SECONDS": "0.5",
    "MA_DRAIN_SECONDS": "1.5",
    "MA_SHIP_INTERVAL": "1",
}
DEPLOY_ACTIVE = ("queued", "running")


def deploys_of(stack, session, deployment: str) -> list[dict]:
    r = session.get(stack.url(f"/deployments/{deployment}/deploys"))
    assert r.status_code == 200, r.text
    return r.json()["items"]


def wait_deploy(stack, session, deploy_id: str, timeout: float = 60) -> dict:
    return wait_for(lambda: (lambda d: d if d["status"] not in DEPLOY_ACTIVE else None)(
        session.get(stack.url(f"/deploys/{deploy_id}")).json()), timeout, what=f"deploy {deploy_id} done")


def wait_deploy_of_build(stack, session, deployment: str, build_id: str, timeout: float = 60) -> dict:
    deploy = wait_for(lambda: next((d for d in deploys_of(stack, session, deployment)
                                    if d["buildId"] == build_id and d["trigger"] == "build"), None),
                      timeout, what=f"a deploy of {build_id}")
    return wait_deploy(stack, session, deploy["id"], timeout)


def router_url(stack) -> str:
    return f"http://127.0.0.1:{stack.env['MA_ROUTER_PORT']}"


def via_host(stack, slug: str, path: str, **kwargs) -> requests.Response:
    """A request as a browser sends it to http://{slug}.localhost:PORT (no DNS needed)."""
    headers = {"Host": f"{slug}.localhost:{stack.env['MA_ROUTER_PORT']}", **kwargs.pop("headers", {})}
    return requests.request(kwargs.pop("method", "GET"), router_url(stack) + path, headers=headers,
                            timeout=kwargs.pop("timeout", 10), **kwargs)


def via_path(stack, slug: str, path: str, **kwargs) -> requests.Response:
    return requests.request(kwargs.pop("method", "GET"), f"{router_url(stack)}/d/{slug}{path}",
                            timeout=kwargs.pop("timeout", 10), **kwargs)


def server_processes(home: Path) -> list[int]:
    """Pids of live processes running in a server directory of this stack."""
    import psutil

    root = str(Path(home) / "servers")
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.cwd().startswith(root) and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc.pid)
        except (psutil.Error, OSError):
            continue
    return found


def kill_servers(home: Path) -> None:
    """A safety net after a test: the stack stops its servers (a SIGKILLed one cannot); what is left is
    killed by process group."""
    for pid in server_processes(home):
        try:
            os.killpg(os.getpgid(pid), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


@contextlib.contextmanager
def stack_serving(home: Path, env: dict[str, str]):
    """A local stack for one test module; at the end, no deployed server may outlive it."""
    from tests.support.stack import start_stack, stop_stack

    stack = start_stack(home, env)
    try:
        yield stack
    finally:
        stop_stack(stack)
        left = server_processes(home)
        kill_servers(home)  # a safety net only: the stack stops its servers
        assert left == [], f"deployed servers outlived the stack: {left}"


@contextlib.contextmanager
def deploy_stack(home: Path, env: dict[str, str] | None = None):
    """A local stack of its own with the fast deploy timers (and `env`), stopped with every server it
    started, even when the test failed."""
    from tests.support.stack import start_stack, stop_stack

    s = start_stack(home, {**DEPLOY_ENV, **(env or {})})
    try:
        yield s
    finally:
        stop_stack(s)
        kill_servers(home)
