"""Ctrl-C means stopped: deployed servers stop with the stack and come back (same build) at the next
start; a SIGKILLed stack leaves nothing behind once started and stopped again; its files are private."""
from __future__ import annotations

import os
import signal
import stat
import subprocess

from tests.support.builds import copy_tiny, start_build, tiny_deployment, wait_build
from tests.support.deploys import DEPLOY_ENV, kill_servers, server_processes, via_path, wait_deploy_of_build
from tests.support.local_aws import free_port
from tests.support.stack import start_stack, stop_stack
from tests.support.waiting import wait_for


def _deploy_tiny(stack, tmp_path, name="tiny") -> tuple[dict, dict]:
    owner = stack.session(stack.owner_key)
    team = owner.get(stack.url("/teams")).json()["items"][0]["id"]
    _, deployment = tiny_deployment(stack, owner, team, {"type": "local", "path": str(copy_tiny(tmp_path / name))},
                                    name=name)
    build = wait_build(stack, owner, start_build(stack, owner, deployment)["id"])
    assert wait_deploy_of_build(stack, owner, deployment, build["id"])["status"] == "succeeded"
    return owner.get(stack.url(f"/deployments/{deployment}")).json(), build


def test_ctrl_c_stops_deployed_servers_and_the_next_start_serves_the_same_build_again(tmp_path):
    home = tmp_path / "home"
    env = {**DEPLOY_ENV, "MA_ROUTER_PORT": str(free_port())}
    stack = start_stack(home, env)
    try:
        deployment, build = _deploy_tiny(stack, tmp_path)
        assert via_path(stack, deployment["slug"], "/").json()["buildId"] == build["id"]
        assert server_processes(home)
        key = stack.owner_key
        assert stop_stack(stack, sig=signal.SIGINT) == 0  # Ctrl-C of `make up`
        assert server_processes(home) == []  # no node process (nor its log writer) outlives the stack

        stack = start_stack(home, env)
        owner = stack.session(key)
        old = owner.get(stack.url(f"/servers/{deployment['serverId']}")).json()
        assert old["status"] == "stopped" and old["reason"] == "the local stack stopped"
        back = wait_for(lambda: (lambda d: d if d["status"] == "running" and d["serverId"] != deployment["serverId"]
                                 else None)(owner.get(stack.url(f"/deployments/{deployment['id']}")).json()),
                        90, what="the deployment running again")
        assert back["currentBuildId"] == build["id"]
        restart = [d for d in owner.get(stack.url(f"/deployments/{deployment['id']}/deploys")).json()["items"]
                   if d["trigger"] == "restart"]
        assert [d["buildId"] for d in restart] == [build["id"]]
        r = via_path(stack, deployment["slug"], "/after")
        assert r.status_code == 200 and r.json() == {"buildId": build["id"], "path": "/after"}
        assert stop_stack(stack) == 0
        assert server_processes(home) == []
    finally:
        stop_stack(stack)
        kill_servers(home)


def test_a_sigkilled_stack_leaves_no_orphan_after_the_next_start_and_its_state_is_private(tmp_path):
    home = tmp_path / "home"
    env = {**DEPLOY_ENV, "MA_ROUTER_PORT": str(free_port())}
    stack = start_stack(home, env)
    stray = None
    try:
        deployment, build = _deploy_tiny(stack, tmp_path)
        _assert_private(home)
        server = stack.session(stack.owner_key).get(stack.url(f"/servers/{deployment['serverId']}")).json()
        stop_stack(stack, sig=signal.SIGKILL)
        assert server["pid"] in server_processes(home)  # a killed stack cannot stop anything
        # A process a killed deploy left in a server directory, with no Server item to find it by.
        lost = home / "servers" / "srv_lost" / "app"
        lost.mkdir(parents=True)
        for d in (lost, lost.parent):
            d.chmod(0o700)  # made by this test, not by the stack
        stray = subprocess.Popen(["sleep", "300"], cwd=lost, start_new_session=True)

        stack = start_stack(home, env)
        wait_for(lambda: stray.poll() is not None, 10, what="the stray process ended")
        owner = stack.session(stack.owner_key)
        kept = owner.get(stack.url(f"/servers/{deployment['serverId']}")).json()
        assert kept["status"] == "running" and kept["pid"] == server["pid"]  # reattached, not restarted
        assert via_path(stack, deployment["slug"], "/x").json()["buildId"] == build["id"]
        assert set(server_processes(home)) <= _group(server["pid"])
        assert stop_stack(stack) == 0
        assert server_processes(home) == []
        _assert_private(home)
    finally:
        stop_stack(stack)
        if stray is not None and stray.poll() is None:
            os.killpg(stray.pid, signal.SIGKILL)
        kill_servers(home)


def _group(pgid: int) -> set[int]:
    import psutil

    out = set()
    for proc in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(proc.pid) == pgid:
                out.add(proc.pid)
        except (OSError, psutil.Error):
            continue
    return out


def _assert_private(home) -> None:
    """$MA_HOME and the state under it: directories 0700, files 0600 (a deployed app's own files,
    unpacked from its artifact with their modes, and build workspaces are the project's, not state)."""
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    loose = []
    for root, dirs, files in os.walk(home):
        rel = os.path.relpath(root, home).split(os.sep)
        if rel[0] == "builds" or (rel[0] == "servers" and len(rel) > 2):
            dirs[:] = []
            continue
        for name in dirs + files:
            path = os.path.join(root, name)
            if os.path.islink(path):
                continue
            mode = stat.S_IMODE(os.stat(path).st_mode)
            if mode != (0o700 if os.path.isdir(path) else 0o600):
                loose.append(f"{os.path.relpath(path, home)} {oct(mode)}")
    assert not loose, loose
    for name in ("owner-key", "events.jsonl", "moto", "servers"):
        assert (home / name).exists(), name
