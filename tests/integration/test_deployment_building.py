"""The deployment's `building` status through the real local stack: set when a build of a deployment
that serves nothing starts, given back when that build fails or is cancelled, never over running."""
from __future__ import annotations

import pytest

from tests.support.builds import copy_tiny, start_build, tiny_deployment, wait_build
from tests.support.deploys import wait_deploy_of_build
from tests.support.waiting import wait_for


@pytest.fixture(scope="module")
def team(stack):
    return stack.session(stack.owner_key).get(stack.url("/teams")).json()["items"][0]["id"]


def _deployment(stack, owner, deployment_id: str) -> dict:
    r = owner.get(stack.url(f"/deployments/{deployment_id}"))
    assert r.status_code == 200, r.text
    return r.json()


def _wait_status(stack, owner, deployment_id: str, status: str, timeout: float = 60) -> dict:
    return wait_for(lambda: (lambda d: d if d["status"] == status else None)(_deployment(stack, owner, deployment_id)),
                    timeout, what=f"deployment {status}")


def _cancel(stack, owner, build_id: str) -> None:
    r = owner.post(stack.url(f"/builds/{build_id}/cancel"), json={})
    assert r.status_code == 200, r.text


def test_a_pending_deployment_is_building_while_its_build_runs_and_pending_again_when_cancelled(
        stack, owner, team, tmp_path):
    _, deployment = tiny_deployment(stack, owner, team, {"type": "local", "path": str(copy_tiny(tmp_path / "t"))},
                                    env={"BUILD_SLEEP_SECONDS": "60"}, name="building-cancel")
    assert _deployment(stack, owner, deployment)["status"] == "pending"
    build = start_build(stack, owner, deployment)
    wait_build(stack, owner, build["id"], until=lambda b: b["status"] == "building")
    _wait_status(stack, owner, deployment, "building", timeout=10)
    _cancel(stack, owner, build["id"])
    restored = _wait_status(stack, owner, deployment, "pending", timeout=10)
    assert restored["statusReason"] is None


def test_a_failed_build_gives_the_deployment_back_its_status(stack, owner, team, tmp_path):
    _, deployment = tiny_deployment(stack, owner, team, {"type": "local", "path": str(copy_tiny(tmp_path / "t"))},
                                    env={"BUILD_FAIL": "1"}, name="building-fail")
    before = _deployment(stack, owner, deployment)
    build = wait_build(stack, owner, start_build(stack, owner, deployment)["id"])
    assert build["status"] == "failed"
    after = wait_for(lambda: (lambda d: d if d["updatedAt"] != before["updatedAt"] and d["status"] != "building"
                              else None)(_deployment(stack, owner, deployment)), 10, what="restored")
    assert after["status"] == "pending" and after["statusReason"] is None


def test_builds_never_show_building_over_a_running_deployment_and_restore_stopped(stack, owner, team, tmp_path):
    project, deployment = tiny_deployment(stack, owner, team,
                                          {"type": "local", "path": str(copy_tiny(tmp_path / "t"))},
                                          name="building-running")
    first = wait_build(stack, owner, start_build(stack, owner, deployment)["id"])
    assert first["status"] == "succeeded", first
    assert wait_deploy_of_build(stack, owner, deployment, first["id"])["status"] == "succeeded"
    assert _deployment(stack, owner, deployment)["status"] == "running"

    assert owner.put(stack.url(f"/projects/{project}/env/BUILD_SLEEP_SECONDS"), json={"value": "60"}).status_code == 200
    second = start_build(stack, owner, deployment)
    wait_build(stack, owner, second["id"], until=lambda b: b["status"] == "building")
    assert _deployment(stack, owner, deployment)["status"] == "running", "never building over running"
    _cancel(stack, owner, second["id"])
    wait_build(stack, owner, second["id"])
    assert _deployment(stack, owner, deployment)["status"] == "running"

    r = owner.post(stack.url(f"/deployments/{deployment}/stop"), json={})
    assert r.status_code == 202, r.text
    stopped = _wait_status(stack, owner, deployment, "stopped", timeout=30)
    third = start_build(stack, owner, deployment)
    _wait_status(stack, owner, deployment, "building", timeout=20)
    _cancel(stack, owner, third["id"])
    restored = _wait_status(stack, owner, deployment, "stopped", timeout=10)
    assert restored["statusReason"] == stopped["statusReason"]
    assert restored["serverId"] == stopped["serverId"] and restored["currentBuildId"] == first["id"]
