"""The AWS path under IAM: a stage made by `make deploy` in moto CloudFormation, the packaged
functions' handlers run in this process with credentials that hold exactly the functions' policy,
moto enforcing IAM.

Set-up, before enforcement starts: `make deploy STAGE=ci-iam` against a moto server (the command a
user runs: `make package`, the SAM template translated with aws-sam-translator, the four stacks,
the settings secret, the migration and the first owner). It leaves out what moto CloudFormation
rejects or skips, and what refers to it: `AWS::ApiGatewayV2::*` (the WebSocket API: its handlers
are called here with API-Gateway-shaped events), `AWS::ApiGateway::*` (the REST API: its routes are
called through chalice.test.Client), `AWS::CodeBuild::Project` (made here through the CodeBuild
API under the template's name, and its name put where the export was), `AWS::SQS::QueuePolicy`, and
FunctionsPolicy itself (it names the WebSocket API). So the policy is read from the package and
resolved against the stage's exports as CloudFormation would, then given to an IAM user whose keys
the handlers use; the function settings are those CloudFormation gave the packaged API function.

What moto checks: its enforcement (`/moto-api/reset-auth`, the server form of
`INITIAL_NO_AUTH_ACTION_COUNT`) denies any action the user's policy does not allow. It matches
Resource only for SQS, S3, IAM and STS; for DynamoDB, KMS, Secrets Manager, CodeBuild, ECS, SNS,
CloudWatch, CloudWatch Logs and execute-api only "*" matches, so those statements are
widened to "*" for the moto user (as is sqs:GetQueueUrl, whose resource moto cannot work out), and
Conditions are dropped (moto evaluates none of their keys). The real ARNs of every statement are
checked statically by tests/unit/test_functions_policy.py. moto names a few calls differently from
IAM (HeadBucket, TransactWriteItems, SendMessageBatch, monitoring:*, PostToConnection): tests/support/iam_actions.py
maps them both ways. moto workaround: the stage key's policy is put back as text (moto
CloudFormation stores it as a dict, and moto KMS then fails every use of the key).

Stand-ins where moto executes nothing: CodeBuild (the test uploads the artifact and writes the
build's log lines, then sends the "Build State Change" event) and the ECS task (the test writes
the observability object the server would ship). Everything the functions do, they do as
themselves.

GitHub: make deploy puts the App's id, key and webhook secret into the stage's settings secret;
a fake GitHub (tests/support/github_fake.py, on a free port) answers the App's token exchange and
takes the commit statuses.

The flow: /health → the owner key make deploy printed, and a JWT of the stage's secret → project
with a secret variable → build (CodeBuild runner) → completion event → deploy (ECS runner: boot
script, task definition, task; the route's change published to the router fleet's topic) → the
server's observability object and the build log ingested from S3 (with the release guard's check
after ingest) → the trace queried (chDB, as the other tests) → server logs, a sweep round (the
schedules fan out shards, the shard consumer checks health, reconciles and evaluates the guard), a reaped and a cancelled build, a redeploy that retires the first server,
a WebSocket subscriber that hears the build, and a signed GitHub push delivery → webhook queue →
its consumer → a build of the pushed commit → deploy → the commit statuses through the GitHub-writes
queue and its consumer. Any denial fails the test naming the call
and its action; every AWS action the handlers call is recorded (botocore's provide-client-params)
and must equal the policy's actions.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import random
import re
import shutil
import subprocess
import tarfile
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from botocore.config import Config

from tests.support.github_fake import FakeGitHub, rsa_key_pem
from tests.support.jwts import HS256_SECRET
from tests.support.iam_actions import Recorder, actions_of, for_moto
from tests.support.local_aws import hold_ecs_tasks, moto_server

STAGE = "ci-iam"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's
PROJECT = f"mastra-admin-{STAGE}-builds"  # infra/codebuild.yaml's name, created through the API here
ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "fixtures" / "tiny-node"
COMPLETION_EVENT = ROOT / "tests" / "fixtures" / "codebuild" / "event_succeeded.json"
SECRET_VALUE = "sk-live-iam-test-0123456789abcdef"
GITHUB_APP_ID, INSTALLATION, REPO = "424242", 41234567, "octo-org/weather-agent"
WEBHOOK_SECRET = "whsec-iam-" + "w" * 32


def _client(url: str, service: str, keys: dict[str, str]):
    return boto3.session.Session().client(service, endpoint_url=url, region_name=REGION,
                                          config=Config(retries={"max_attempts": 1}), **keys)


def _make_deploy(url: str, home: Path, app_key_file: Path) -> str:
    """`make deploy STAGE=…` against the moto server, as a user runs it (before enforcement: the
    deployer's credentials), with the GitHub App's id, key and webhook secret for the settings secret;
    its output. The in-process migration rehearses on a chDB of its own."""
    env = {"MA_GITHUB_APP_ID": GITHUB_APP_ID, "MA_GITHUB_APP_KEY_FILE": str(app_key_file),
           "MA_GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,"PATH": os.environ["PATH"], "HOME": str(home), "AWS_ACCESS_KEY_ID": "deployer",
           "AWS_SECRET_ACCESS_KEY": "deployer", "AWS_DEFAULT_REGION": REGION, "MA_AWS_ENDPOINT_URL": url,
           "MA_JWT_HS256_SECRET": HS256_SECRET, "MA_CLICKHOUSE_INTERFACE": "chdb",
           "MA_CLICKHOUSE_PATH": str(home / "chdb")}
    done = subprocess.run(["make", "--no-print-directory", "deploy", f"STAGE={STAGE}"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900, start_new_session=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _fix_key_policy(kms, cfn) -> None:
    """moto CloudFormation stores a key policy as a dict, which moto KMS then fails to parse on every
    use of the key (a 500): the same policy, put back as text."""
    exports = {e["Name"]: e["Value"] for e in cfn.list_exports()["Exports"]}
    kms.put_key_policy(KeyId=exports[f"mastra-admin-{STAGE}-KeyArn"], PolicyName="default", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Sid": "AccountAdmin", "Effect": "Allow", "Action": "kms:*",
                                                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
                                                "Resource": "*"}]}))


def _functions_policy(cfn) -> dict:
    """FunctionsPolicy of the package `make deploy` made, resolved against the stage's exports as
    CloudFormation resolves it. (make deploy leaves it out of the moto stack: it names the WebSocket
    API, which moto lacks; the API's id is a placeholder here, and execute-api is widened anyway.)"""
    from infra.stage import templates

    exports = {f"mastra-admin-{STAGE}-CodeBuildProjectName": PROJECT,  # the stand-in's: moto made no project
               **{e["Name"]: e["Value"] for e in cfn.list_exports()["Exports"]}}
    names = {"Stage": STAGE, "AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT_ID,
             "WebsocketAPI": templates.MOTO_PLACEHOLDER}

    def resolve(value):
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Fn::ImportValue"}:
            return exports[resolve(value["Fn::ImportValue"])]
        if set(value) == {"Fn::Sub"}:
            text, variables = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
            known = {**names, **{k: resolve(v) for k, v in variables.items()}}
            return re.sub(r"\$\{([^}]+)\}", lambda m: known[m.group(1)], text)
        return {k: resolve(v) for k, v in value.items()}

    packaged = templates.packaged_template()
    return resolve(packaged["Resources"]["FunctionsPolicy"]["Properties"]["PolicyDocument"])


def _user(iam, name: str, document: dict) -> dict[str, str]:
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName=name, PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}


def _set_auth(url: str, count: str) -> str:
    """moto's INITIAL_NO_AUTH_ACTION_COUNT, set on the running server; returns the previous value."""
    request = urllib.request.Request(f"{url}/moto-api/reset-auth", data=count.encode(), method="POST",
                                     headers={"Content-Type": "text/plain"})  # a form body would be parsed away
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"]


def _functions(cfn, lam) -> dict[str, dict]:
    """Each packaged function's configuration as CloudFormation created it, by logical id (read before
    enforcement starts: moto's signature check rejects its own Lambda paths)."""
    resources = cfn.describe_stack_resources(StackName=f"mastra-admin-{STAGE}-functions")["StackResources"]
    return {r["LogicalResourceId"]: lam.get_function_configuration(FunctionName=r["PhysicalResourceId"])
            for r in resources if r["ResourceType"] == "AWS::Lambda::Function"}


OWNER_KEY = re.compile(r"^\s+(ma_[0-9a-z]+_\S+)$", re.M)


@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    from chalice.test import Client

    from tests.support.chdb import chdb_path
    from chalicelib.services.github.client import forget_tokens
    from tests.support.inprocess import clear_caches

    work = tmp_path_factory.mktemp("aws-iam")
    app_key, app_public_key = rsa_key_pem()
    (work / "github-app.pem").write_text(app_key)
    with contextlib.ExitStack() as stack:
        github = FakeGitHub(app_id=GITHUB_APP_ID, app_public_key=app_public_key).start()
        stack.callback(github.stop)
        github.install(INSTALLATION, REPO)
        url = stack.enter_context(moto_server())
        hold_ecs_tasks(url)
        deployed = _make_deploy(url, work, work / "github-app.pem")
        [owner_key] = OWNER_KEY.findall(deployed)
        assert WEBHOOK_SECRET not in deployed and "PRIVATE KEY" not in deployed, "a GitHub secret was printed"
        setup_keys = {"aws_access_key_id": "setup", "aws_secret_access_key": "setup"}
        iam, cfn = _client(url, "iam", setup_keys), _client(url, "cloudformation", setup_keys)
        _fix_key_policy(_client(url, "kms", setup_keys), cfn)
        _client(url, "codebuild", setup_keys).create_project(
            name=PROJECT, source={"type": "S3", "location": "none/sources/none.zip"},  # moto wants one for NO_SOURCE
            artifacts={"type": "NO_ARTIFACTS"},
            serviceRole=f"arn:aws:iam::{ACCOUNT_ID}:role/{PROJECT}", environment={
                "type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0", "computeType": "BUILD_GENERAL1_MEDIUM"})
        policy = _functions_policy(cfn)
        functions_keys = _user(iam, "mastra-admin-functions", for_moto(policy))
        operator_keys = _user(iam, "operator", {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}]})
        functions = _functions(cfn, _client(url, "lambda", setup_keys))
        sources = work / "sources"
        shutil.copytree(TINY, sources / "tiny")
        mp = stack.enter_context(pytest.MonkeyPatch.context())
        for name in [n for n in os.environ if n.startswith("MA_")] + ["AWS_SESSION_TOKEN", "AWS_PROFILE"]:
            mp.delenv(name, raising=False)
        here = {  # what only this process needs: moto, chDB, a local source, no WebSocket API
            "AWS_ACCESS_KEY_ID": functions_keys["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": functions_keys["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
            "MA_AWS_ENDPOINT_URL": url, "MA_WS_MANAGEMENT_URL": url, "MA_CODEBUILD_PROJECT": PROJECT,
            "MA_CLICKHOUSE_INTERFACE": "chdb", "MA_CLICKHOUSE_PATH": chdb_path(),
            "MA_LOCAL_SOURCES_ENABLED": "true", "MA_LOCAL_SOURCE_ROOTS": str(sources),
            "MA_GITHUB_API_URL": github.url,
            "MA_BUILD_ROOT": str(work / "builds"), "MA_SERVER_ROOT": str(work / "servers"), "MA_DRAIN_SECONDS": "0",
        }
        # The packaged API function's variables as CloudFormation set them, then this process's.
        for name, value in {**functions["APIHandler"]["Environment"]["Variables"], **here}.items():
            mp.setenv(name, str(value))  # moto hands some variables back as numbers
        clear_caches()
        forget_tokens()
        stack.callback(forget_tokens)
        import app as app_module
        from chalicelib.settings import get_settings

        settings = get_settings()
        mp.setattr(app_module, "_settings", settings)  # app.py reads its settings at import: maybe another test's
        recorder = stack.enter_context(Recorder(functions_keys["aws_access_key_id"]).recording())
        previous = _set_auth(url, "0")
        stack.callback(_set_auth, url, previous)
        stack.callback(clear_caches)
        client = stack.enter_context(Client(app_module.app, stage_name="api", project_dir=str(ROOT)))
        yield SimpleNamespace(url=url, client=client, github=github, settings=settings, recorder=recorder, policy=policy,
                              sources=sources, functions=functions, owner_key=owner_key,
                              operator=lambda service: _client(url, service, operator_keys))


def _sqs_deliver(stage, queue_name: str, handler) -> int:
    """What the event source mapping does: receive (as the Lambda service), hand over, delete."""
    from tests.support.inprocess import sqs_record

    sqs = stage.operator("sqs")
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    delivered = 0
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages"):
        for message in got:
            record = sqs_record(message["Body"], queue_name, message["ReceiptHandle"])
            result = handler({"Records": [record]}, None)
            assert result == {"batchItemFailures": []}, f"{queue_name}: {result}"
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            delivered += 1
    return delivered


def _codebuild_finishes(stage, build_id: str, earlier: frozenset[str] = frozenset()) -> dict:
    """Stand-in for CodeBuild, which moto does not run: the artifact and log lines a build leaves,
    and the "Build State Change" event EventBridge would deliver. `earlier`: the project's builds
    started before this one."""
    from chalicelib.runners.build_port import artifact_key

    settings = stage.settings
    artifact = io.BytesIO()
    with tarfile.open(fileobj=artifact, mode="w:gz") as tar:
        data = json.dumps({"buildId": build_id}).encode()
        info = tarfile.TarInfo("mastra-admin.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    body = artifact.getvalue()
    stage.operator("s3").put_object(Bucket=settings.bucket_name, Key=artifact_key(build_id), Body=body,
                                    Metadata={"sha256": hashlib.sha256(body).hexdigest()})
    group, stream = f"/aws/codebuild/{settings.codebuild_project}", build_id
    logs = stage.operator("logs")
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
        {"timestamp": int(datetime.now(timezone.utc).timestamp() * 1000), "message": "[Container] npm run build\n"}])
    secrets = stage.operator("secretsmanager").list_secrets()["SecretList"]
    [secret] = [s["Name"] for s in secrets if s["Name"].startswith(f"mastra-admin/{STAGE}/builds/{build_id}/")]
    [external] = set(_codebuild_builds(stage)) - earlier
    event = json.loads(COMPLETION_EVENT.read_text())
    arn = f"arn:aws:codebuild:us-east-1:{ACCOUNT_ID}:build/{external}"
    event["resources"] = [arn]
    detail = event["detail"]
    detail.update({"project-name": settings.codebuild_project, "build-id": arn})
    info = detail["additional-information"]
    info["environment"]["environment-variables"] = [
        {"name": "MASTRA_ADMIN_BUILD_ID", "type": "PLAINTEXT", "value": build_id},
        {"name": "MASTRA_ADMIN_SECRET_ID", "type": "PLAINTEXT", "value": secret}]
    info["logs"] = {"group-name": group, "stream-name": stream}
    return event


def _codebuild_builds(stage) -> list[str]:
    return stage.operator("codebuild").list_builds_for_project(projectName=stage.settings.codebuild_project)["ids"]


def _owner(stage):
    """The team `make deploy` founded and the owner key it printed."""
    from tests.support.inprocess import Session

    owner = Session(stage.client.http, stage.owner_key)
    [team] = _ok(owner.get("/teams"))["items"]
    return team["id"], owner


def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


def _ws_event(route: str, connection_id: str, body: str | None = None, query: dict | None = None) -> dict:
    return {"requestContext": {"routeKey": route, "connectionId": connection_id, "apiId": "left-out-WebsocketAPI",
                               "domainName": "127.0.0.1", "stage": "api",
                               "eventType": {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")},
            "queryStringParameters": query, "body": body, "isBase64Encoded": False}


def _scheduled_event() -> dict:
    return {"version": "0", "id": "schedule-1", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": ACCOUNT_ID, "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION, "resources": [], "detail": {}}


def _new_build(stage, owner, deployment_id: str) -> str:
    from app import build_queue_consumer

    build_id = _ok(owner.post(f"/deployments/{deployment_id}/builds", json={}), 202)["id"]
    assert _sqs_deliver(stage, stage.settings.build_queue_name, build_queue_consumer) == 1
    assert _ok(owner.get(f"/builds/{build_id}"))["status"] == "building"
    return build_id


def test_the_main_flow_runs_under_the_functions_policy_and_calls_exactly_its_actions(stage):
    import app as handlers
    from chalicelib.services.builds import reaper
    from tests.support.ingest_env import s3_notification
    from tests.support.inprocess import Session, sqs_event
    from tests.support.jwts import token_for
    from tests.support.observability_records import Scope, jsonl, trace

    with stage.recorder.denials_named():
        settings = stage.settings
        health = stage.client.http.get("/health")
        assert health.status_code == 200, health.body

        team_id, owner = _owner(stage)
        # A login with a JWT of the stage's secret (read from its settings secret) sees the same team.
        jwt_user = Session(stage.client.http, token_for("owner", secret=HS256_SECRET))
        assert [t["id"] for t in _ok(jwt_user.get("/teams"))["items"]] == [team_id]
        project = _ok(owner.post(f"/teams/{team_id}/projects", json={
            "name": "tiny", "source": {"type": "local", "path": str(stage.sources / "tiny")}}), 201)
        _ok(owner.put(f"/projects/{project['id']}/env/OPENAI_API_KEY", json={"value": SECRET_VALUE}))
        deployment = _ok(owner.post(f"/projects/{project['id']}/deployments", json={"type": "production"}), 201)

        ticket = _ok(owner.post("/ws/tickets"), 201)["ticket"]
        connected = stage.client.lambda_.invoke("ws_connect", _ws_event("$connect", "conn-1", query={"ticket": ticket}))
        assert connected.payload["statusCode"] == 200, connected.payload

        build_id = _new_build(stage, owner, deployment["id"])
        stage.client.lambda_.invoke("ws_message", _ws_event(
            "$default", "conn-1", body=json.dumps({"action": "subscribe", "channel": f"build:{build_id}"})))

        event = _codebuild_finishes(stage, build_id)
        assert handlers.codebuild_completion(event, None) == "succeeded"
        assert _ok(owner.get(f"/builds/{build_id}"))["status"] == "succeeded"

        _deploys_after_build(stage, owner, deployment["id"])
        live = _ok(owner.get(f"/deployments/{deployment['id']}"))
        assert live["status"] == "running", live
        [server] = _ok(owner.get(f"/deployments/{deployment['id']}/servers"))["items"]
        _ok(owner.get(f"/servers/{server['id']}/logs"))

        # The release guard on (issue 17): the ingest below checks it, and so does its sweep round.
        _ok(owner.put(f"/deployments/{deployment['id']}/guard", json={
            "rules": [{"metric": "errorRate", "maxIncrease": 0.05}], "minRuns": 1}))
        # What the server's boot script ships, as the ECS task would (moto runs none).
        scope = Scope(team_id, project["id"], deployment["id"], build_id=build_id)
        records = trace(scope, datetime.now(timezone.utc) - timedelta(minutes=5), random.Random(3))
        key = scope.s3_key("spans")
        etag = stage.operator("s3").put_object(Bucket=settings.bucket_name, Key=key, Body=jsonl(records))["ETag"]
        log_key = f"builds/{build_id}/build.log"
        log_etag = stage.operator("s3").head_object(Bucket=settings.bucket_name, Key=log_key)["ETag"]
        result = handlers.ingest_queue_consumer(sqs_event(
            s3_notification(settings.bucket_name, key, etag.strip('"')),
            s3_notification(settings.bucket_name, log_key, log_etag.strip('"')),
            queue_name=settings.ingest_queue_name), None)
        assert result == {"batchItemFailures": []}
        traces = _ok(owner.get(f"/projects/{project['id']}/traces"))["items"]
        assert [t["traceId"] for t in traces] == [records[0]["traceId"]]

        # A sweep round: the schedules fan out shards (SendMessageBatch), their consumer does the work.
        for scheduled in (handlers.server_health_checks, handlers.ecs_reconciler, handlers.deploy_reaper,
                          handlers.build_reaper, handlers.release_guard):
            scheduled(_scheduled_event(), None)
        assert _sqs_deliver(stage, settings.shard_queue_name, handlers.shard_queue_consumer) >= 3  # health, ECS, guard
        guard = _ok(owner.get(f"/deployments/{deployment['id']}/guard"))
        assert guard["evaluations"] >= 2 and guard["lastEvaluation"]["verdict"] == "waiting", guard  # one build only

        reaped = _new_build(stage, owner, deployment["id"])  # CodeBuild "finished" it without an artifact
        reaper.reap(now=datetime.now(timezone.utc) + timedelta(hours=1))
        assert _ok(owner.get(f"/builds/{reaped}"))["status"] == "failed"
        cancelled = _new_build(stage, owner, deployment["id"])
        assert _ok(owner.post(f"/builds/{cancelled}/cancel", json={}))["status"] == "cancelled"

        _ok(owner.post(f"/deployments/{deployment['id']}/redeploy", json={}), 202)
        assert _sqs_deliver(stage, settings.deploy_queue_name, handlers.deploy_queue_consumer) == 1
        servers = _ok(owner.get(f"/deployments/{deployment['id']}/servers"))["items"]
        assert {s["id"]: s["status"] for s in servers}[server["id"]] == "stopped"
        _github_push_deploys_and_github_shows_it(stage, owner, team_id)
        stage.client.lambda_.invoke("ws_disconnect", _ws_event("$disconnect", "conn-1"))
        _ok(owner.delete(f"/projects/{project['id']}"), 204)

    called, allowed = set(stage.recorder.actions), actions_of(stage.policy)
    assert not called - allowed, f"called but not in the policy: {sorted(called - allowed)}"
    assert not allowed - called, f"in the policy but never called: {sorted(allowed - called)}"


def _deploys_after_build(stage, owner, deployment_id: str) -> None:
    """The deploy that the CodeBuild completion queued for the succeeded build (it used to queue none:
    a push on CodeBuild never deployed)."""
    from app import deploy_queue_consumer

    assert _sqs_deliver(stage, stage.settings.deploy_queue_name, deploy_queue_consumer) == 1, \
        f"the succeeded build of {deployment_id} queued no deploy"


def _github_push_deploys_and_github_shows_it(stage, owner, team_id: str) -> None:
    """A signed push delivery → the API (App webhook secret from the settings secret) → webhook queue
    → its consumer queues a build of the pushed commit → CodeBuild (its source token minted with the
    App key) → deploy → the commit statuses through the writes queue and its consumer, to the fake."""
    import app as handlers
    from tests.support import github_webhooks as gh

    settings = stage.settings
    project = _ok(owner.post(f"/teams/{team_id}/projects", json={"name": "weather", "source": {
        "type": "github", "repository": REPO, "installationId": INSTALLATION, "branch": "main"}}), 201)
    production = _ok(owner.post(f"/projects/{project['id']}/deployments", json={"type": "production"}), 201)
    sha = hashlib.sha1(b"iam push").hexdigest()
    headers, raw = gh.delivery("push", gh.push(REPO, INSTALLATION, "main", sha), WEBHOOK_SECRET)
    delivered = stage.client.http.post("/webhooks/github", headers=headers, body=raw)
    assert delivered.status_code == 202, delivered.body
    assert _sqs_deliver(stage, settings.github_webhook_queue_name, handlers.github_webhook_consumer) == 1
    [build] = _ok(owner.get(f"/deployments/{production['id']}/builds"))["items"]
    assert build["commit"] == sha and build["trigger"] == "push", build

    earlier = frozenset(_codebuild_builds(stage))
    assert _sqs_deliver(stage, settings.build_queue_name, handlers.build_queue_consumer) == 1
    assert _sqs_deliver(stage, settings.github_writes_queue_name, handlers.github_writes_consumer) == 1
    assert handlers.codebuild_completion(_codebuild_finishes(stage, build["id"], earlier), None) == "succeeded"
    _deploys_after_build(stage, owner, production["id"])
    assert _sqs_deliver(stage, settings.github_writes_queue_name, handlers.github_writes_consumer) >= 1
    public_url = _ok(owner.get(f"/deployments/{production['id']}"))["publicUrl"]
    statuses = [(s["state"], s.get("target_url")) for s in stage.github.statuses_for(sha)]
    assert statuses[0][0] == "pending" and statuses[-1] == ("success", public_url), statuses


def test_every_function_runs_as_the_one_role_the_policy_is_attached_to(stage):
    from infra.stage import templates

    roles = {f["Role"] for f in stage.functions.values()}
    assert len(stage.functions) >= 10 and len(roles) == 1, roles
    role_name = roles.pop().rsplit("/", 1)[-1]
    assert "-DefaultRole-" in role_name
    inline = stage.operator("iam").list_role_policies(RoleName=role_name)["PolicyNames"]
    assert inline == ["lambda-service"], "Chalice's generated policy is replaced whole"
    packaged = templates.packaged_template()["Resources"]
    assert packaged["FunctionsPolicy"]["Properties"]["Roles"] == [{"Ref": "DefaultRole"}]
    assert {r["Properties"]["Role"]["Fn::GetAtt"][0] for r in packaged.values()
            if r["Type"] == "AWS::Serverless::Function"} == {"DefaultRole"}
