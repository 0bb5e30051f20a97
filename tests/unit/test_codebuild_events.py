"""CodeBuild results moto cannot produce: recorded BatchGetBuilds responses through a Stubber, and
the pure part of the state-change handler on recorded events. No sockets, no DynamoDB."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.runners.codebuild import CodeBuildRunner, failure_reason
from chalicelib.runners.codebuild_completion import interpret, same_codebuild_build
from chalicelib.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "codebuild"
BUILD_ID = "bld_01kbq3z8m2d4c6e7f9g0h1j2k3"
CODEBUILD_ID = "mastra-admin-dev-builds:7b9d1f0e-3c2a-4e5b-9f8d-1a2b3c4d5e6f"
SECRET_ID = f"mastra-admin/dev/builds/{BUILD_ID}/5f2c9a1be0d34c77"
SETTINGS = Settings(stage="dev", bucket_name="mastra-admin-dev-artifacts", codebuild_project="mastra-admin-dev-builds")


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def client(service: str):
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing", endpoint_url="http://127.0.0.1:9")  # never reached


@pytest.fixture
def stubbed():
    codebuild, secrets, s3 = client("codebuild"), client("secretsmanager"), client("s3")
    stubs = [Stubber(codebuild), Stubber(secrets), Stubber(s3)]
    for stub in stubs:
        stub.activate()
    runner = CodeBuildRunner(SETTINGS, codebuild=codebuild, secrets_manager=secrets, s3=s3)
    yield runner, *stubs
    for stub in stubs:
        stub.assert_no_pending_responses()
        stub.deactivate()


def build(external_id: str | None = CODEBUILD_ID):
    return SimpleNamespace(build_id=BUILD_ID, external_id=external_id, status="building", attempt=1)


def test_check_of_a_failed_codebuild_build_is_finished_failed_with_the_phase_and_message(stubbed):
    runner, codebuild, secrets, _ = stubbed
    codebuild.add_response("batch_get_builds", fixture("batch_get_builds_failed.json"), {"ids": [CODEBUILD_ID]})
    secrets.add_response("delete_secret", {"Name": SECRET_ID},
                         {"SecretId": SECRET_ID, "ForceDeleteWithoutRecovery": True})
    check = runner.check(build())
    assert check.state == "finished"
    assert check.outcome.status == "failed"
    assert check.outcome.reason == ("build failed in BUILD: COMMAND_EXECUTION_ERROR: Error while executing command: "
                                    "npx --no-install mastra build. Reason: exit status 1")
    assert check.outcome.artifact_sha256 is None


def test_check_of_a_running_codebuild_build_is_running_and_keeps_its_secret(stubbed):
    runner, codebuild, _, _ = stubbed
    calls: list[str] = []
    runner.client("secretsmanager").meta.events.register(  # fires before the Stubber answers
        "before-parameter-build.secrets-manager.*", lambda model, **_: calls.append(model.name))
    codebuild.add_response("batch_get_builds", fixture("batch_get_builds_in_progress.json"), {"ids": [CODEBUILD_ID]})
    assert runner.check(build()).state == "running"
    assert calls == []


def test_check_of_a_build_codebuild_does_not_know_is_lost(stubbed):
    runner, codebuild, _, _ = stubbed
    codebuild.add_response("batch_get_builds", {"builds": [], "buildsNotFound": [CODEBUILD_ID]}, {"ids": [CODEBUILD_ID]})
    assert runner.check(build()).state == "lost"
    assert runner.check(build(external_id=None)).state == "lost"  # never started: no call at all


def test_check_when_codebuild_is_unavailable_raises_unavailable_for_the_reaper_to_retry(stubbed):
    from chalicelib.errors import Unavailable

    runner, codebuild, _, _ = stubbed
    codebuild.add_client_error("batch_get_builds", "ThrottlingException", "Rate exceeded", 400)
    with pytest.raises(Unavailable):
        runner.check(build())


def test_check_of_a_succeeded_build_takes_the_artifact_digest_from_s3_metadata(stubbed):
    runner, codebuild, secrets, s3 = stubbed
    response = fixture("batch_get_builds_failed.json")
    response["builds"][0]["buildStatus"] = "SUCCEEDED"
    for phase in response["builds"][0]["phases"]:
        if phase.get("phaseStatus") == "FAILED":
            phase["phaseStatus"], phase["contexts"] = "SUCCEEDED", []
    codebuild.add_response("batch_get_builds", response, {"ids": [CODEBUILD_ID]})
    s3.add_response("head_object", {"ContentLength": 1234, "Metadata": {"sha256": "ab" * 32, "build-id": BUILD_ID}},
                    {"Bucket": "mastra-admin-dev-artifacts", "Key": f"artifacts/{BUILD_ID}.tgz"})
    secrets.add_response("delete_secret", {"Name": SECRET_ID})
    outcome = runner.check(build()).outcome
    assert (outcome.status, outcome.artifact_key, outcome.artifact_sha256, outcome.artifact_bytes) == (
        "succeeded", f"artifacts/{BUILD_ID}.tgz", "ab" * 32, 1234)


def test_stop_ignores_a_build_that_already_finished(stubbed):
    runner, codebuild, _, _ = stubbed
    codebuild.add_client_error("stop_build", "InvalidInputException", "Build is not in progress", 400)
    runner.stop(build())  # no exception
    runner.stop(build(external_id=None))  # never started: no call


# --- the state-change event ---------------------------------------------------------------------

def test_a_succeeded_event_is_ours_and_maps_to_succeeded_with_its_log_stream():
    completion = interpret(fixture("event_succeeded.json"))
    assert completion is not None
    assert completion.build_id == BUILD_ID
    assert completion.status == "succeeded" and completion.reason is None
    assert completion.codebuild_id.endswith(CODEBUILD_ID)
    assert (completion.log_group, completion.log_stream) == (
        "/aws/codebuild/mastra-admin-dev-builds", "7b9d1f0e-3c2a-4e5b-9f8d-1a2b3c4d5e6f")
    assert completion.secret_id == SECRET_ID


def test_a_failed_event_maps_to_failed_with_the_failing_phase_and_its_context():
    completion = interpret(fixture("event_failed.json"))
    assert completion.status == "failed"
    assert completion.reason == ("build failed in BUILD: COMMAND_EXECUTION_ERROR: Error while executing command: "
                                 "npx --no-install mastra build. Reason: exit status 1")


@pytest.mark.parametrize("codebuild_status, status, reason_start", [
    ("FAULT", "failed", "CodeBuild fault"),
    ("TIMED_OUT", "failed", "timed out"),
    ("STOPPED", "cancelled", "stopped"),
])
def test_other_final_statuses_map_to_failed_or_cancelled(codebuild_status, status, reason_start):
    event = fixture("event_failed.json")
    event["detail"]["build-status"] = codebuild_status
    completion = interpret(event)
    assert completion.status == status and completion.reason.startswith(reason_start)


def test_events_that_are_not_a_final_state_of_our_build_are_ignored():
    in_progress = fixture("event_failed.json")
    in_progress["detail"]["build-status"] = "IN_PROGRESS"
    not_ours = copy.deepcopy(fixture("event_failed.json"))
    not_ours["detail"]["additional-information"]["environment"]["environment-variables"] = [
        {"name": "TEST", "type": "PLAINTEXT", "value": "TEST"}]
    other_type = fixture("event_failed.json")
    other_type["detail-type"] = "CodeBuild Build Phase Change"
    for event in (in_progress, not_ours, other_type, {}):
        assert interpret(event) is None


def test_the_event_arn_matches_the_id_start_build_returned():
    arn = f"arn:aws:codebuild:us-east-1:123456789012:build/{CODEBUILD_ID}"
    assert same_codebuild_build(CODEBUILD_ID, arn)
    assert same_codebuild_build(None, arn)
    assert not same_codebuild_build("mastra-admin-dev-builds:00000000-0000-0000-0000-000000000000", arn)


def test_failure_reason_without_phase_details_is_the_status_alone():
    assert failure_reason("FAILED", []) == "build failed"
    assert failure_reason("SUCCEEDED", [("BUILD", "SUCCEEDED", [])]) is None
