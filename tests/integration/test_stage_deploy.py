"""`make deploy STAGE=…` and `make destroy STAGE=…` against moto server, as a user runs them.

The commands run as subprocesses with `MA_AWS_ENDPOINT_URL` pointing at a moto server on a free
port; the test then reads what they made over the wire (CloudFormation, DynamoDB, S3, SQS, Lambda,
Secrets Manager) and uses the printed owner key, and a JWT signed with the secret given at deploy
time, against the app in this process with the settings of the deployed functions.
"""
from __future__ import annotations

import json
import os
import re
import subprocess

import boto3
import pytest

from infra.stage import templates
from tests.support.jwts import token_for
from tests.support.local_aws import moto_server

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STAGE = "ci-test"
JWT_SECRET = "stage-jwt-secret-never-printed-0123456789"
CLICKHOUSE_PASSWORD = "clickhouse-password-never-printed"
OWNER_KEY = re.compile(r"^\s+(ma_[0-9a-z]+_\S+)$", re.M)
AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def moto():
    with moto_server() as url:
        yield url


def _client(url: str, service: str):
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def _make(url: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"], "HOME": str(tmp_path), **AWS, "MA_AWS_ENDPOINT_URL": url,
        # The stage's settings secret gets these; the in-process migration rehearses on chDB.
        "MA_CLICKHOUSE_URL": "https://clickhouse.invalid:8443", "MA_CLICKHOUSE_USER": "deployer",
        "MA_CLICKHOUSE_PASSWORD": CLICKHOUSE_PASSWORD, "MA_JWT_HS256_SECRET": JWT_SECRET,
        "MA_CLICKHOUSE_INTERFACE": "chdb", "MA_CLICKHOUSE_PATH": str(tmp_path / "chdb"),
    }
    done = subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=1200, start_new_session=True)
    for secret in (JWT_SECRET, CLICKHOUSE_PASSWORD):
        assert secret not in done.stdout + done.stderr, "a secret reached the terminal"
    return done


def test_a_refused_stage_name_creates_nothing(moto, tmp_path):
    # Compared with what was there before: moto servers started in one test process share their state.
    stacks_before = _client(moto, "cloudformation").describe_stacks()["Stacks"]
    buckets_before = _client(moto, "s3").list_buckets()["Buckets"]
    for bad, why in (("Prod_1", "lowercase letters, digits and hyphens"), ("local", "local stack"),
                     ("a-very-long-stage-name", "load balancer")):
        done = _make(moto, tmp_path, "deploy", f"STAGE={bad}")
        assert done.returncode == 2, done.stdout + done.stderr
        assert why in done.stderr
    assert _client(moto, "cloudformation").describe_stacks()["Stacks"] == stacks_before
    assert _client(moto, "s3").list_buckets()["Buckets"] == buckets_before


def test_deploy_creates_the_stage_runs_day_one_and_destroy_keeps_what_is_retained(moto, tmp_path, monkeypatch):
    done = _make(moto, tmp_path, "deploy", f"STAGE={STAGE}")
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    # What moto cannot create is listed, not silently missing.
    assert "WebsocketAPI (AWS::ApiGatewayV2::Api)" in out and "BuildProject (AWS::CodeBuild::Project)" in out
    assert re.search(r"migration: \d+ tables/views ensured", out), out
    packaged = templates.packaged_template()  # what make package left: functions of this stage by default
    assert packaged["Parameters"]["Stage"]["Default"] == STAGE

    cfn = _client(moto, "cloudformation")
    stacks = {s["StackName"]: s["StackStatus"] for s in cfn.describe_stacks()["Stacks"]
              if s["StackName"].startswith(f"mastra-admin-{STAGE}-")}
    assert stacks == {f"mastra-admin-{STAGE}-{part}": "CREATE_COMPLETE"
                      for part in ("resources", "codebuild", "ecs", "functions")}
    exports = {e["Name"]: e["Value"] for e in cfn.list_exports()["Exports"]}
    assert exports[f"mastra-admin-{STAGE}-BucketName"] == f"mastra-admin-{STAGE}-123456789012-artifacts"
    assert _client(moto, "dynamodb").describe_table(TableName=f"mastra-admin-{STAGE}")["Table"]["TableStatus"]
    _client(moto, "sqs").get_queue_url(QueueName=f"mastra-admin-{STAGE}-builds")

    # The functions' settings come from the stacks' exports, none typed by hand.
    functions = cfn.describe_stack_resources(StackName=f"mastra-admin-{STAGE}-functions")["StackResources"]
    api_handler = next(r["PhysicalResourceId"] for r in functions if r["LogicalResourceId"] == "APIHandler")
    stage_env = _client(moto, "lambda").get_function_configuration(FunctionName=api_handler)["Environment"]["Variables"]
    assert stage_env["MA_STAGE"] == STAGE and stage_env["MA_TABLE_NAME"] == f"mastra-admin-{STAGE}"
    assert stage_env["MA_ECS_CLUSTER"] == exports[f"mastra-admin-{STAGE}-EcsCluster"]
    assert stage_env["MA_SETTINGS_SECRET"] == f"mastra-admin/{STAGE}/settings"
    assert not [k for k in stage_env if "CLICKHOUSE_URL" in k or "PASSWORD" in k or "HS256" in k]
    secret = json.loads(_client(moto, "secretsmanager").get_secret_value(SecretId=stage_env["MA_SETTINGS_SECRET"])[
        "SecretString"])
    assert secret["clickhouse_password"] == CLICKHOUSE_PASSWORD and secret["jwt_hs256_secret"] == JWT_SECRET

    # The printed owner key, and a JWT checked against the secret, work against this stage.
    keys = OWNER_KEY.findall(out)
    assert len(keys) == 1, out
    teams = _teams_seen_by_the_app(moto, stage_env, monkeypatch, keys[0], token_for("owner", secret=JWT_SECRET))
    assert teams[0] == teams[1] == ["default"]

    again = _make(moto, tmp_path, "deploy", f"STAGE={STAGE}", "DEPLOY_ARGS=--no-package")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "no changes" in again.stdout and not OWNER_KEY.findall(again.stdout), "bootstrapped once only"

    gone = _make(moto, tmp_path, "destroy", f"STAGE={STAGE}")
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert cfn.describe_stacks()["Stacks"] == []
    assert _client(moto, "lambda").list_functions()["Functions"] == []
    assert not _client(moto, "sqs").list_queues().get("QueueUrls")
    # Retain: the data outlives its stacks.
    assert _client(moto, "dynamodb").describe_table(TableName=f"mastra-admin-{STAGE}")["Table"]["ItemCount"] >= 0
    assert f"mastra-admin-{STAGE}-123456789012-artifacts" in {
        b["Name"] for b in _client(moto, "s3").list_buckets()["Buckets"]}


def _teams_seen_by_the_app(url: str, stage_env: dict, monkeypatch, *tokens: str) -> list[list[str]]:
    """GET /teams with each token, through the Chalice app in this process, with the stage's settings."""
    from chalice.test import Client

    from tests.support.inprocess import clear_caches

    for name in [n for n in os.environ if n.startswith("MA_")]:
        monkeypatch.delenv(name)
    for name, value in {**stage_env, **AWS, "MA_AWS_ENDPOINT_URL": url, "AWS_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, str(value))  # moto hands some variables back as numbers
    clear_caches()
    try:
        from app import app

        seen = []
        with Client(app, stage_name="api", project_dir=ROOT) as client:
            for token in tokens:
                response = client.http.get("/teams", headers={"Authorization": f"Bearer {token}"})
                assert response.status_code == 200, response.body
                seen.append([t["name"] for t in json.loads(response.body)["items"]])
        return seen
    finally:
        clear_caches()
