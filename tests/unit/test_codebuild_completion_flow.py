"""handle_state_change's flow over an in-memory build store (the DynamoDB-backed version is
covered with the rest of the build tests): which events move a build, what is written, idempotency."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from botocore.stub import ANY, Stubber

from chalicelib.runners.codebuild import CodeBuildRunner
from chalicelib.runners import codebuild_completion as completion
from chalicelib.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "codebuild"
BUILD_ID = "bld_01kbq3z8m2d4c6e7f9g0h1j2k3"
CODEBUILD_ID = "mastra-admin-dev-builds:7b9d1f0e-3c2a-4e5b-9f8d-1a2b3c4d5e6f"
SECRET_ID = f"mastra-admin/dev/builds/{BUILD_ID}/5f2c9a1be0d34c77"
SETTINGS = Settings(stage="dev", bucket_name="mastra-admin-dev-artifacts", codebuild_project="mastra-admin-dev-builds")


@dataclass
class FakeStore:
    build: SimpleNamespace
    log: list[str] = field(default_factory=list)
    transitions: list[tuple] = field(default_factory=list)

    def find(self, build_id):
        return self.build if build_id == self.build.build_id else None

    def next_log_offset(self, build_id):
        return len(self.log)

    def append_log(self, build_id, offset, lines):
        self.log[offset:offset + len(lines)] = lines

    def transition(self, build_id, allowed, to, *, expect_attempt=None, **fields):
        if self.build.status not in allowed or self.build.attempt != expect_attempt:
            return None
        self.transitions.append((to, fields))
        self.build.status = to
        for name, value in fields.items():
            setattr(self.build, name, value)
        return self.build


def client(service):
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing", endpoint_url="http://127.0.0.1:9")


@pytest.fixture
def world(monkeypatch):
    build = SimpleNamespace(build_id=BUILD_ID, project_id="prj_1", deployment_id="dep_1", team_id="team_1",
                            status="building", attempt=1, external_id=CODEBUILD_ID, reason=None,
                            commit=None)
    store = FakeStore(build)
    published: list[str] = []
    monkeypatch.setattr(completion, "store", store)
    monkeypatch.setattr(completion, "note", lambda b, text: store.log.append(f"note {text}"))
    monkeypatch.setattr(completion, "store_full_log", lambda b: f"builds/{b.build_id}/build.log")
    monkeypatch.setattr(completion, "_masker", lambda b: (lambda text: text.replace("hunter2-secret", "***")))
    monkeypatch.setattr(completion.channels, "publish", lambda channel, message: None)
    import chalicelib.services.builds.trigger as builds_service

    monkeypatch.setattr(builds_service, "publish_status", lambda b: published.append(b.status))
    s3, logs, secrets = client("s3"), client("logs"), client("secretsmanager")
    stubs = SimpleNamespace(s3=Stubber(s3), logs=Stubber(logs), secrets=Stubber(secrets))
    for stub in vars(stubs).values():
        stub.activate()
    runner = CodeBuildRunner(SETTINGS, s3=s3, logs=logs, secrets_manager=secrets)
    yield SimpleNamespace(build=build, store=store, published=published, stubs=stubs, runner=runner)
    for stub in vars(stubs).values():
        stub.assert_no_pending_responses()


def event(name):
    return json.loads((FIXTURES / name).read_text())


def expect_log_stream(stubs, pages):
    token = None
    for i, messages in enumerate(pages):
        params = {"logGroupName": "/aws/codebuild/mastra-admin-dev-builds",
                  "logStreamName": "7b9d1f0e-3c2a-4e5b-9f8d-1a2b3c4d5e6f", "startFromHead": True}
        if token:
            params["nextToken"] = token
        nxt = f"f/{i}"
        stubs.logs.add_response("get_log_events", {
            "events": [{"timestamp": 1795168800000 + j, "message": m} for j, m in enumerate(messages)],
            "nextForwardToken": nxt, "nextBackwardToken": "b/0"}, params)
        token = nxt
    stubs.logs.add_response("get_log_events", {"events": [], "nextForwardToken": token, "nextBackwardToken": "b/0"},
                            {"logGroupName": ANY, "logStreamName": ANY, "startFromHead": True, "nextToken": token})


def test_a_succeeded_event_records_the_artifact_copies_the_log_and_deletes_the_secret(world):
    expect_log_stream(world.stubs, [["[Container] Running command npm ci\n", "added 0 packages\n"],
                                    ["echo hunter2-secret\nhunter2-secret\n"]])
    world.stubs.s3.add_response("head_object", {"ContentLength": 99, "Metadata": {"sha256": "ef" * 32}},
                                {"Bucket": "mastra-admin-dev-artifacts", "Key": f"artifacts/{BUILD_ID}.tgz"})
    world.stubs.secrets.add_response("delete_secret", {}, {"SecretId": SECRET_ID, "ForceDeleteWithoutRecovery": True})
    assert completion.handle_state_change(event("event_succeeded.json"), world.runner) == "succeeded"
    [(to, fields)] = world.store.transitions
    assert to == "succeeded"
    assert (fields["artifact_sha256"], fields["artifact_bytes"], fields["reason"]) == ("ef" * 32, 99, None)
    assert fields["log_key"] == f"builds/{BUILD_ID}/build.log" and fields["log_lines"] == len(world.store.log)
    copied = [line.split(" ", 1)[1] for line in world.store.log[:-1]]
    assert copied == ["[Container] Running command npm ci", "added 0 packages", "echo ***", "***"]
    assert world.store.log[0].startswith("2026-11-20T")  # the CloudWatch event's time, not the copy's
    assert world.store.log[-1] == "note codebuild: build succeeded"
    assert world.published == ["succeeded"]


def test_a_failed_event_records_the_reason_and_a_missing_log_stream_is_skipped(world):
    world.stubs.logs.add_client_error("get_log_events", "ResourceNotFoundException", "gone", 400)
    world.stubs.secrets.add_response("delete_secret", {})
    assert completion.handle_state_change(event("event_failed.json"), world.runner) == "failed"
    [(to, fields)] = world.store.transitions
    assert to == "failed" and fields["reason"].startswith("build failed in BUILD: COMMAND_EXECUTION_ERROR")
    assert "artifact_sha256" not in fields
    assert world.store.log == [f"note codebuild: build failed: {fields['reason']}"]


def test_the_commit_codebuild_fetched_is_recorded_on_the_build(world):
    from chalicelib.runners.codebuild_fetch import COMMIT_MARK

    sha = "9f" * 20
    expect_log_stream(world.stubs, [[f"{COMMIT_MARK}{sha}\n", "package manager: npm (from package-lock.json)\n"]])
    world.stubs.s3.add_response("head_object", {"ContentLength": 99, "Metadata": {"sha256": "ef" * 32}},
                                {"Bucket": "mastra-admin-dev-artifacts", "Key": f"artifacts/{BUILD_ID}.tgz"})
    world.stubs.secrets.add_response("delete_secret", {})
    assert completion.handle_state_change(event("event_succeeded.json"), world.runner) == "succeeded"
    [(_, fields)] = world.store.transitions
    assert fields["commit"] == sha


def test_a_source_the_fetch_step_could_not_fetch_is_the_failed_builds_reason(world):
    from chalicelib.runners.codebuild_fetch import FAILURE_MARK

    expect_log_stream(world.stubs, [["[Container] Running command PYTHONPATH=... python3 -m ...\n",
                                     "git: fatal: repository 'https://git.example/acme/gone.git/' not found\n",
                                     f"{FAILURE_MARK}git clone failed (exit 128)\n"]])
    world.stubs.secrets.add_response("delete_secret", {})
    assert completion.handle_state_change(event("event_failed.json"), world.runner) == "failed"
    [(to, fields)] = world.store.transitions
    assert (to, fields["reason"]) == ("failed", "source: git clone failed (exit 128)")
    assert world.store.log[-1] == "note codebuild: build failed: source: git clone failed (exit 128)"


def test_a_duplicate_event_changes_nothing(world):
    world.build.status = "failed"
    world.stubs.secrets.add_response("delete_secret", {})
    assert completion.handle_state_change(event("event_failed.json"), world.runner) == "ignored (failed)"
    assert world.store.transitions == [] and world.store.log == [] and world.published == []


def test_the_event_of_an_earlier_codebuild_build_of_the_same_build_is_ignored(world):
    world.build.external_id = "mastra-admin-dev-builds:00000000-0000-0000-0000-000000000000"
    world.stubs.secrets.add_response("delete_secret", {})
    result = completion.handle_state_change(event("event_succeeded.json"), world.runner)
    assert result == "ignored (an earlier CodeBuild build of this build)"
    assert world.store.transitions == []


def test_a_succeeded_build_without_artifact_is_recorded_as_failed(world):
    world.stubs.logs.add_client_error("get_log_events", "ResourceNotFoundException", "gone", 400)
    world.stubs.s3.add_client_error("head_object", "404", "Not Found", 404)
    world.stubs.secrets.add_response("delete_secret", {})
    assert completion.handle_state_change(event("event_succeeded.json"), world.runner) == "failed"
    assert "uploaded no artifact" in world.store.transitions[0][1]["reason"]


def test_events_of_other_projects_or_in_progress_are_ignored_without_any_call(world):
    in_progress = event("event_succeeded.json")
    in_progress["detail"]["build-status"] = "IN_PROGRESS"
    assert completion.handle_state_change(in_progress, world.runner).startswith("ignored")
    assert world.store.transitions == []


def test_events_of_another_stages_project_or_of_unknown_builds_touch_nothing(world):
    calls: list[str] = []
    world.runner.client("secretsmanager").meta.events.register(
        "before-parameter-build.secrets-manager.*", lambda model, **_: calls.append(model.name))
    other = event("event_succeeded.json")
    other["detail"]["project-name"] = "mastra-admin-prod-builds"
    assert completion.handle_state_change(other, world.runner) == "ignored (project mastra-admin-prod-builds, not this stage's)"
    world.build.build_id = "bld_someone_else"
    assert completion.handle_state_change(event("event_succeeded.json"), world.runner) == "missing"
    assert world.store.transitions == [] and calls == []  # another stage's secret is not ours to delete
    world.stubs.secrets.add_response("delete_secret", {})
    world.runner.forget("mastra-admin/dev/builds/x/y")
    assert calls == ["DeleteSecret"]  # the hook does see deletions
