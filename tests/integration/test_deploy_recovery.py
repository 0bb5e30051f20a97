"""Servers outlive a killed local stack: a restarted stack reattaches to the live ones and marks the rest."""
from __future__ import annotations

import os
import signal

from tests.support.builds import copy_tiny, start_build, tiny_deployment, wait_build
from tests.support.deploys import DEPLOY_ENV, kill_servers, via_path, wait_deploy_of_build
from tests.support.waiting import wait_for
from tests.support.local_aws import free_port
from tests.support.stack import start_stack, stop_stack


def test_live_servers_are_reattached_and_dead_ones_marked_stopped_after_a_sigkill(tmp_path):
    home = tmp_path / "home"
    env = {**DEPLOY_ENV, "MA_ROUTER_PORT": str(free_port())}
    stack = start_stack(home, env)
    try:
        owner = stack.session(stack.owner_key)
        team = owner.get(stack.url("/teams")).json()["items"][0]["id"]
        deployments = []
        for name in ("keeps", "dies"):
            src = copy_tiny(tmp_path / name)
            _, deployment = tiny_deployment(stack, owner, team, {"type": "local", "path": str(src)}, name=name)
            build = wait_build(stack, owner, start_build(stack, owner, deployment)["id"])
            assert wait_deploy_of_build(stack, owner, deployment, build["id"])["status"] == "succeeded"
            deployments.append(owner.get(stack.url(f"/deployments/{deployment}")).json())
        keeps, dies = deployments
        servers = {d["id"]: owner.get(stack.url(f"/servers/{d['serverId']}")).json() for d in deployments}
        key = stack.owner_key
    except BaseException:
        stop_stack(stack)
        kill_servers(home)
        raise
    stop_stack(stack, sig=signal.SIGKILL)  # supervisor, moto and worker die; servers live on
    try:
        os.killpg(servers[dies["id"]]["pid"], signal.SIGKILL)  # this one dies while nobody watches
        wait_for(lambda: not _alive(servers[dies["id"]]["pid"]), 5, what="the killed server gone")
        assert _alive(servers[keeps["id"]]["pid"])

        stack = start_stack(home, env)
        try:
            assert any("servers: 1 reattached, 1 marked stopped" in line for line in stack.lines), stack.lines
            owner = stack.session(key)
            r = via_path(stack, keeps["slug"], "/again")
            assert r.status_code == 200 and r.json()["path"] == "/again"
            kept = owner.get(stack.url(f"/servers/{keeps['serverId']}")).json()
            assert kept["status"] == "running" and kept["pid"] == servers[keeps["id"]]["pid"]
            gone = owner.get(stack.url(f"/servers/{dies['serverId']}")).json()
            assert gone["status"] == "stopped" and gone["health"] == "dead"
            assert owner.get(stack.url(f"/deployments/{dies['id']}")).json()["status"] == "stopped"
            assert via_path(stack, dies["slug"], "/").status_code == 503
            # The reattached server is watched again: its log lines are readable and it is health-checked.
            logs = owner.get(stack.url(f"/servers/{keeps['serverId']}/logs"), params={"tail": 5}).json()
            assert logs["lines"][-1] == "GET /again"
            wait_for(lambda: owner.get(stack.url(f"/servers/{keeps['serverId']}")).json()["lastCheckAt"]
                     != kept["lastCheckAt"], 5, what="a health check after the restart")
        finally:
            stop_stack(stack)
    finally:
        kill_servers(home)


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
