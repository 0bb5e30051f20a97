"""Where a build's source is fetched, and what a source that cannot be fetched does to its build.

The build queue's consumer of the app in-process, AWS in moto's in-process mock. In CodeBuild mode
the consumer runs the real CodeBuildRunner: moto's CodeBuild runs nothing, so the test reads what
StartBuild received and then drives the completion event, as the CodeBuild tests do."""
from __future__ import annotations

import json

import pytest

from tests.support.inprocess import sqs_event

GIT_URL = "https://git.example/acme/agent.git"


@pytest.fixture
def team(owner, api):
    return owner.get(api.url("/teams")).json()["items"][0]["id"]


@pytest.fixture
def no_git(monkeypatch, tmp_path):
    """A PATH without git, as in the Lambda runtime."""
    empty = tmp_path / "bin-without-git"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def queued_build(api, owner, team, source: dict) -> str:
    r = owner.post(api.url(f"/teams/{team}/projects"), json={"name": "agent", "source": source})
    assert r.status_code == 201, r.text
    r = owner.post(api.url(f"/projects/{r.json()['id']}/deployments"), json={"type": "production"})
    assert r.status_code == 201, r.text
    r = owner.post(api.url(f"/deployments/{r.json()['id']}/builds"), json={})
    assert r.status_code == 202, r.text
    return r.json()["id"]


def consume(api, build_id: str) -> dict:
    from app import build_queue_consumer

    return build_queue_consumer(sqs_event(json.dumps({"buildId": build_id}),
                                          queue_name=api.settings.build_queue_name), None)


def test_a_missing_git_fails_the_build_with_that_reason_and_the_message_is_not_retried(
        api, owner, team, tmp_path, no_git):
    import subprocess

    repo = tmp_path / "repo"
    subprocess.run(["/usr/bin/git", "init", "-q", str(repo)], check=True)
    build_id = queued_build(api, owner, team, {"type": "git", "url": f"file://{repo}"})
    assert consume(api, build_id) == {"batchItemFailures": []}  # done with: not redelivered to the DLQ
    build = owner.get(api.url(f"/builds/{build_id}")).json()
    assert (build["status"], build["reason"]) == ("failed", "source: git is not installed where this build runs")
    assert api.builds.runs == []


@pytest.fixture
def codebuild(api, monkeypatch):
    """The real CodeBuildRunner on moto, with the StartBuild requests it sends."""
    from chalicelib.aws import client
    from chalicelib.runners.codebuild import CodeBuildRunner
    from tests.support.inprocess import install_fake_runners

    runner = CodeBuildRunner(api.settings)
    client("codebuild").create_project(
        name=api.settings.codebuild_project,
        # moto wants a location even for NO_SOURCE (AWS does not); the runner overrides it anyway
        source={"type": "S3", "location": f"{api.settings.bucket_name}/sources/placeholder.zip"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                     "computeType": "BUILD_GENERAL1_MEDIUM"},
        serviceRole="arn:aws:iam::123456789012:role/codebuild")
    started: list[dict] = []

    def record(params, **_):
        started.append(json.loads(params["body"]))

    client("codebuild").meta.events.register("before-call.codebuild.StartBuild", record)
    install_fake_runners(monkeypatch, runner, api.deploys)
    yield started
    client("codebuild").meta.events.unregister("before-call.codebuild.StartBuild", record)
    client("codebuild").delete_project(name=api.settings.codebuild_project)


def completion_event(api, build_id: str, codebuild_id: str, status: str) -> dict:
    return {
        "source": "aws.codebuild", "detail-type": "CodeBuild Build State Change",
        "resources": [f"arn:aws:codebuild:us-east-1:123456789012:build/{codebuild_id}"],
        "detail": {"build-status": status, "project-name": api.settings.codebuild_project, "build-id": codebuild_id,
                   "additional-information": {
                       "environment": {"environment-variables": [
                           {"name": "MASTRA_ADMIN_BUILD_ID", "value": build_id, "type": "PLAINTEXT"}]},
                       "phases": [{"phase-type": "INSTALL", "phase-status": "FAILED", "phase-context": [
                           "COMMAND_EXECUTION_ERROR: Error while executing command: PYTHONPATH=... Reason: exit status 1"]}],
                       "logs": {"group-name": "/aws/codebuild/builds", "stream-name": "stream-1"}}},
    }


def test_in_codebuild_mode_a_git_source_goes_to_codebuild_unfetched_and_its_fetch_failure_is_the_reason(
        api, owner, team, no_git, codebuild):
    from chalicelib.aws import client
    from chalicelib.runners.codebuild_completion import handle_state_change
    from chalicelib.runners.codebuild_fetch import FAILURE_MARK

    build_id = queued_build(api, owner, team, {"type": "git", "url": GIT_URL, "branch": "main"})
    assert consume(api, build_id) == {"batchItemFailures": []}
    build = owner.get(api.url(f"/builds/{build_id}")).json()
    assert build["status"] == "building", build  # started in CodeBuild: no git ran here
    [params] = codebuild
    overrides = {v["name"]: v for v in params["environmentVariablesOverride"]}
    assert overrides["MASTRA_ADMIN_SOURCE"]["type"] == "SECRETS_MANAGER"
    secret_id = overrides["MASTRA_ADMIN_SECRET_ID"]["value"]
    stored = json.loads(client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])
    assert json.loads(stored["MASTRA_ADMIN_SOURCE"]) == {"type": "git", "url": GIT_URL, "ref": "main"}
    assert GIT_URL not in json.dumps(params)

    # CodeBuild's fetch step could not clone: its log says why; the completion event records it.
    logs = client("logs")
    logs.create_log_group(logGroupName="/aws/codebuild/builds")
    logs.create_log_stream(logGroupName="/aws/codebuild/builds", logStreamName="stream-1")
    logs.put_log_events(logGroupName="/aws/codebuild/builds", logStreamName="stream-1", logEvents=[
        {"timestamp": 1795168800000, "message": f"cloning {GIT_URL} at main"},
        {"timestamp": 1795168800001, "message": "git: fatal: repository not found"},
        {"timestamp": 1795168800002, "message": f"{FAILURE_MARK}git clone failed (exit 128)"}])
    codebuild_id = build_external_id(api, build_id)
    assert handle_state_change(completion_event(api, build_id, codebuild_id, "FAILED")) == "failed"
    build = owner.get(api.url(f"/builds/{build_id}")).json()
    assert (build["status"], build["reason"]) == ("failed", "source: git clone failed (exit 128)")
    lines = owner.get(api.url(f"/builds/{build_id}/logs")).json()["lines"]
    assert any("git: fatal: repository not found" in line for line in lines)


def build_external_id(api, build_id: str) -> str:
    from chalicelib.db import builds as store

    return store.find(build_id).external_id
