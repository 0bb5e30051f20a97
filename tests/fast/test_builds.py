"""Build rules that need no real build: validation, reading, cancelling, and the claim that makes a
duplicated message harmless. The app in-process, the build queue's consumer invoked with events
built here, a fake runner."""
from __future__ import annotations

import json

import pytest


@pytest.fixture
def team(owner, api):
    return owner.get(api.url("/teams")).json()["items"][0]["id"]


def _deployment(api, owner, team, tmp_path) -> str:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "package.json").write_text('{"name": "tiny"}')
    r = owner.post(api.url(f"/teams/{team}/projects"),
                   json={"name": "tiny", "source": {"type": "local", "path": str(tmp_path / "src")}})
    assert r.status_code == 201, r.text
    r = owner.post(api.url(f"/projects/{r.json()['id']}/deployments"), json={"type": "production"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _start_build(api, owner, deployment: str) -> dict:
    r = owner.post(api.url(f"/deployments/{deployment}/builds"), json={})
    assert r.status_code == 202, r.text
    return r.json()


def test_build_endpoints_reject_bad_input_with_codes(api, owner, team, tmp_path):
    deployment = _deployment(api, owner, team, tmp_path)
    r = owner.post(api.url(f"/deployments/{deployment}/builds"), json={"commit": "not-a-sha"})
    assert r.status_code == 422
    r = owner.get(api.url("/builds/bld_" + "0" * 26))
    assert r.status_code == 404
    r = owner.get(api.url("/builds/nope"))
    assert r.status_code in (400, 404)
    build = _start_build(api, owner, deployment)
    r = owner.get(api.url(f"/builds/{build['id']}/logs"), params={"since": "-1"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_since"
    listed = owner.get(api.url(f"/deployments/{deployment}/builds")).json()["items"]
    assert [b["id"] for b in listed][0] == build["id"]


def test_a_duplicated_message_runs_the_build_once(api, owner, team, tmp_path):
    from app import build_queue_consumer
    from tests.support.inprocess import sqs_event

    build_id = _start_build(api, owner, _deployment(api, owner, team, tmp_path))["id"]
    body = json.dumps({"buildId": build_id})
    for _ in range(3):  # the same body, three deliveries, each its own message id
        result = build_queue_consumer(sqs_event(body, queue_name=api.settings.build_queue_name), None)
        assert result == {"batchItemFailures": []}
    assert api.builds.runs == [build_id]
    build = owner.get(api.url(f"/builds/{build_id}")).json()
    assert build["status"] == "succeeded" and build["attempt"] == 1
    lines = owner.get(api.url(f"/builds/{build_id}/logs")).json()["lines"]
    assert len([line for line in lines if "==> install" in line]) == 1


def test_a_poison_build_message_is_reported_as_failed(api):
    from app import build_queue_consumer
    from tests.support.inprocess import sqs_event

    event = sqs_event("not a build message", json.dumps({"buildId": "bld_" + "0" * 26}),
                      queue_name=api.settings.build_queue_name)
    result = build_queue_consumer(event, None)
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


def test_cancelling_twice_conflicts(api, owner, team, tmp_path):
    build_id = _start_build(api, owner, _deployment(api, owner, team, tmp_path))["id"]
    r = owner.post(api.url(f"/builds/{build_id}/cancel"))
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    again = owner.post(api.url(f"/builds/{build_id}/cancel"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "build_not_active"
    api.run_builds()  # the cancelled build's message arrives after all: nothing runs
    assert api.builds.runs == []
    assert owner.get(api.url(f"/builds/{build_id}")).json()["status"] == "cancelled"


def test_a_source_swapped_for_a_link_outside_its_roots_after_creation_fails_its_build(api, owner, team, tmp_path,
                                                                                       monkeypatch):
    """The build checks the source again when it fetches: a symlink swapped in after creation is caught."""
    import dataclasses
    import subprocess

    from chalicelib import sources
    from chalicelib.services.accounts import projects

    root = tmp_path / "root"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root / "app")], check=True)
    subprocess.run(["git", "init", "-q", str(tmp_path / "outside")], check=True)
    narrowed = lambda: dataclasses.replace(api.settings, local_source_roots=(str(root),))  # noqa: E731
    monkeypatch.setattr(sources, "get_settings", narrowed)
    monkeypatch.setattr(projects, "get_settings", narrowed)
    r = owner.post(api.url(f"/teams/{team}/projects"),
                   json={"name": "swap", "source": {"type": "git", "url": f"file://{root}/app"}})
    assert r.status_code == 201, r.text
    subprocess.run(["rm", "-rf", str(root / "app")], check=True)
    (root / "app").symlink_to(tmp_path / "outside")
    deployment = owner.post(api.url(f"/projects/{r.json()['id']}/deployments"), json={"type": "production"}).json()
    build_id = _start_build(api, owner, deployment["id"])["id"]
    api.run_builds()
    build = owner.get(api.url(f"/builds/{build_id}")).json()
    assert build["status"] == "failed" and "MA_LOCAL_SOURCE_ROOTS" in build["reason"], build
    assert api.builds.runs == []


def test_a_source_outside_its_roots_is_refused_when_the_project_is_created(api, owner, team, tmp_path, monkeypatch):
    """Creation makes the build's own checks: decoded `%2e%2e`, a root itself, the control plane's files."""
    import dataclasses

    from chalicelib.services.accounts import projects

    root = tmp_path / "root"
    (root / "app").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    monkeypatch.setattr(projects, "get_settings",
                        lambda: dataclasses.replace(api.settings, local_source_roots=(str(root),)))
    refused = [
        {"type": "git", "url": f"file://{root}/%2e%2e/outside"},
        {"type": "git", "url": f"file://{root}/%2fetc"},
        {"type": "local", "path": str(root)},
        {"type": "local", "path": str(tmp_path / "outside")},
    ]
    for source in refused:
        r = owner.post(api.url(f"/teams/{team}/projects"), json={"name": "esc", "source": source})
        assert r.status_code == 422 and r.json()["error"]["code"] == "local_source_outside_roots", (source, r.text)
    ok = owner.post(api.url(f"/teams/{team}/projects"), json={"name": "ok", "source": {"type": "local",
                                                                                       "path": str(root / "app")}})
    assert ok.status_code == 201, ok.text


def test_a_build_records_its_node_major_and_its_server_is_started_on_it(api, owner, team, tmp_path):
    api.builds.node_major = 24
    build_id = _start_build(api, owner, _deployment(api, owner, team, tmp_path))["id"]
    api.run_queues()
    build = owner.get(api.url(f"/builds/{build_id}")).json()
    assert build["status"] == "succeeded" and build["nodeMajor"] == 24
    assert [spec.node_major for spec in api.deploys.specs] == [24]
