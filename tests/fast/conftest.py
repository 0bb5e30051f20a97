"""The in-process tier: the Chalice app through `chalice.test.Client`, AWS through moto's `mock_aws`.

Resources come from infra/resources.yaml through the local stack's own provisioner; the
environment is set with monkeypatch and settings read under it; each test gets a fresh table with a
first team and owner key bootstrapped as `make up` does it, empty queues and fake build and deploy
runners. ClickHouse is this process's one chDB directory (tests/support/chdb.py).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.jwts import HS256_SECRET

ROOT = Path(__file__).resolve().parents[2]
OWNER_USER = "local-owner"


ENV = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
    "MA_STAGE": "local", "MA_JWT_HS256_SECRET": HS256_SECRET, "MA_CLICKHOUSE_INTERFACE": "chdb",
    "MA_DRAIN_SECONDS": "0", "MA_LOCAL_SOURCES_ENABLED": "true",
    "MA_WS_MANAGEMENT_URL": "http://127.0.0.1:9",  # no connection is ever subscribed here
    "MA_GITHUB_API_URL": "http://127.0.0.1:9",  # refused at once: a GitHub source fails its build
    "POWERTOOLS_SERVICE_NAME": "mastra-admin",
}
UNSET = ("MA_AWS_ENDPOINT_URL", "MA_TABLE_NAME", "MA_BUCKET_NAME", "MA_BUILD_QUEUE", "MA_DEPLOY_QUEUE",
         "MA_INGEST_QUEUE", "MA_KMS_KEY_ALIAS", "MA_JWKS_URL", "MA_CLICKHOUSE_URL", "AWS_PROFILE")


def _one_request_at_a_time(mp: pytest.MonkeyPatch) -> None:
    """moto's in-process backends are not thread safe (getmoto/moto#5881: a dict changes size while
    another thread iterates it), and the app's sweeps call AWS from a thread pool: requests into the
    mock are served one at a time, as a server would answer them. Re-entrant for moto's own calls."""
    import threading

    from moto.core.botocore_stubber import BotocoreStubber

    lock, serve = threading.RLock(), BotocoreStubber.process_request

    def process_request(self, request):
        with lock:
            return serve(self, request)

    mp.setattr(BotocoreStubber, "process_request", process_request)


@pytest.fixture(scope="package")
def _world(tmp_path_factory):
    """Once for the tier: the environment, moto's mock, and clients and connections made under it.

    botocore parses its service models for every new session, and moto's KMS makes an RSA key for
    every key it creates, so clients, queues, the bucket and the key outlive tests; the table does not.
    """
    import boto3
    from moto import mock_aws
    from chalice.test import Client

    from tests.support.chdb import chdb_path
    from tests.support.inprocess import clear_caches, reset_pynamodb_connections

    home = tmp_path_factory.mktemp("fast")
    with pytest.MonkeyPatch.context() as mp:
        for name in UNSET:
            mp.delenv(name, raising=False)
        for name, value in {**ENV, "MA_CLICKHOUSE_PATH": chdb_path(), "MA_BUILD_ROOT": str(home / "builds"),
                            "MA_SERVER_ROOT": str(home / "servers")}.items():
            mp.setenv(name, value)
        clear_caches()
        reset_pynamodb_connections(mp)
        _one_request_at_a_time(mp)
        with mock_aws():
            from app import app
            from chalicelib.settings import get_settings

            from local_stack.api_server import ApiGateway

            with Client(app, stage_name="local", project_dir=str(ROOT)) as client:
                # Requests go through the local stack's API Gateway stand-in, as `make up` serves them.
                client.http._local_gateway = ApiGateway(app, client.http._config)
                yield client, boto3.session.Session(), get_settings()
        clear_caches()


@pytest.fixture
def api(_world, monkeypatch):
    """A fresh table with a first team and owner key (as `make up` bootstraps it), empty queues, fake runners."""
    import boto3

    from chalicelib.aws import client as aws_client
    from chalicelib.services.accounts import api_keys as key_service
    from chalicelib.services.accounts import teams
    from local_stack.provision import provision
    from tests.support.inprocess import FakeBuildRunner, FakeDeployRunner, InProcessApi, install_fake_runners

    client, session, settings = _world
    ddb = aws_client("dynamodb")
    if settings.table_name in ddb.list_tables()["TableNames"]:
        ddb.delete_table(TableName=settings.table_name)
    with monkeypatch.context() as m:  # the local stack's provisioner (idempotent), on the tier's one session
        m.setattr(boto3.session, "Session", lambda: session)
        provision(None, settings.region, settings.stage)
    team = teams.found_team("default", OWNER_USER)
    owner_key = key_service.issue_owner_key(team.team_id, OWNER_USER, "owner (test bootstrap)")
    builds, deploys = FakeBuildRunner(), FakeDeployRunner()
    install_fake_runners(monkeypatch, builds, deploys)
    world = InProcessApi(client=client, owner_key=owner_key, builds=builds, deploys=deploys, settings=settings)
    for queue in (settings.build_queue_name, settings.deploy_queue_name, settings.ingest_queue_name):
        world.drop_messages(queue)  # what an earlier test left queued is not this test's work
    yield world


@pytest.fixture
def control_plane(api):
    """`owner` and `as_user` (tests/conftest.py) talk to the app in-process."""
    return api
