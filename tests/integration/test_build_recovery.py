"""A build in flight when the whole local stack dies is recovered when it starts again."""
from __future__ import annotations

import signal
import time

from tests.support.builds import (
    BUILD_ENV, build_processes, describe_processes, copy_tiny, log_lines, start_build, tiny_deployment, wait_build, wait_log,
)
from tests.support.deploys import kill_servers
from tests.support.stack import start_stack, stop_stack


def test_a_build_in_flight_during_a_crash_finishes_after_restart(tmp_path):
    home = tmp_path / "home"
    src = copy_tiny(tmp_path / "tiny")
    stack = start_stack(home, BUILD_ENV)
    try:
        owner = stack.session(stack.owner_key)
        team = owner.get(stack.url("/teams")).json()["items"][0]["id"]
        _, deployment = tiny_deployment(stack, owner, team, {"type": "local", "path": str(src)},
                                        env={"BUILD_SLEEP_SECONDS": "5"})
        build_id = start_build(stack, owner, deployment)["id"]
        wait_log(stack, owner, build_id, "working 1")
    finally:
        stop_stack(stack, sig=signal.SIGKILL)  # supervisor, moto and worker, no goodbyes
    deadline = time.monotonic() + 15
    while build_processes(build_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    survivors = build_processes(build_id)
    assert survivors == [], f"the build's processes die with the worker: {describe_processes(survivors)}"

    stack = start_stack(home, BUILD_ENV)
    try:
        owner = stack.session(stack.owner_key)
        build = wait_build(stack, owner, build_id, timeout=120)
        assert build["status"] == "succeeded", build
        assert build["attempt"] == 2
        lines = log_lines(stack, owner, build_id)
        assert sum("==> install" in line for line in lines) == 2
        assert any("re-queued" in line for line in lines)
    finally:
        stop_stack(stack)
        kill_servers(home)  # the succeeded build was deployed
