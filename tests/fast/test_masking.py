"""Secrets are masked in build logs (across lines and encodings), server logs and failure reasons.

The app in-process with fake runners: the build runner prints what a test gives it, the deploy
runner's servers "print" the lines a test gives them."""
from __future__ import annotations

import base64
import json
import uuid

import pytest

from tests.unit.test_secrets_mask import PEM


@pytest.fixture
def deployment(api, owner, tmp_path):
    """(deploymentId) of a project with a PEM key and a token among its variables."""
    team = owner.get(api.url("/teams")).json()["items"][0]["id"]
    (tmp_path / "src").mkdir()
    project = owner.post(api.url(f"/teams/{team}/projects"), json={
        "name": f"masked-{uuid.uuid4().hex[:6]}", "source": {"type": "local", "path": str(tmp_path / "src")}}).json()
    for name, value in (("PRIVATE_KEY", PEM), ("TOKEN", "tok-" + uuid.uuid4().hex)):
        assert owner.put(api.url(f"/projects/{project['id']}/env/{name}"), json={"value": value}).status_code == 200
    return owner.post(api.url(f"/projects/{project['id']}/deployments"), json={"type": "production"}).json()["id"]


def _printed() -> list[str]:
    return [*PEM.splitlines(), "json: " + json.dumps({"key": PEM}), "b64: " + base64.b64encode(PEM.encode()).decode()]


def _assert_masked(text: str) -> None:
    for line in PEM.splitlines():
        assert line not in text, line
    assert base64.b64encode(PEM.encode()).decode() not in text and json.dumps(PEM)[1:-1] not in text
    assert "***" in text


def test_a_pem_key_its_json_and_base64_forms_are_masked_in_a_build_log(api, owner, deployment, monkeypatch):
    real_run = api.builds.run

    def run(job, log, cancel):
        for line in _printed():
            log(line)
        return real_run(job, log, cancel)

    monkeypatch.setattr(api.builds, "run", run)
    build = owner.post(api.url(f"/deployments/{deployment}/builds"), json={}).json()["id"]
    api.run_builds()
    lines = owner.get(api.url(f"/builds/{build}/logs")).json()["lines"]
    assert any("b64:" in line for line in lines)
    _assert_masked("\n".join(lines))


def test_a_secret_printed_by_a_server_is_masked_in_its_logs(api, owner, deployment):
    owner.post(api.url(f"/deployments/{deployment}/builds"), json={})
    api.run_queues()
    server = owner.get(api.url(f"/deployments/{deployment}")).json()["serverId"]
    api.deploys.lines[server] = _printed()
    body = owner.get(api.url(f"/servers/{server}/logs"), params={"tail": "100"}).json()
    assert len(body["lines"]) == len(_printed())
    _assert_masked("\n".join(body["lines"]))

    from chalicelib.services.deploys.servers import log_source

    _assert_masked("\n".join(line for _, line in log_source(server).read(0)))


def test_a_deploy_failure_reason_holding_a_secret_is_masked(api, owner, deployment, monkeypatch):
    api.deploys.healthy = False
    monkeypatch.setattr("chalicelib.services.deploys.worker._wait_healthy",
                        lambda runner, server, settings: (False, "health said " + PEM.splitlines()[1]))
    real_start = api.deploys.start

    def start(spec):
        started = real_start(spec)
        api.deploys.lines[spec.server_id] = _printed()
        return started

    monkeypatch.setattr(api.deploys, "start", start)
    owner.post(api.url(f"/deployments/{deployment}/builds"), json={})
    api.run_queues()
    deploys = owner.get(api.url(f"/deployments/{deployment}/deploys")).json()["items"]
    failed = [d for d in deploys if d["status"] == "failed"]
    assert failed and "never became healthy" in failed[0]["reason"]
    _assert_masked(failed[0]["reason"])
    servers = owner.get(api.url(f"/deployments/{deployment}/servers")).json()["items"]
    _assert_masked(servers[0]["reason"])
