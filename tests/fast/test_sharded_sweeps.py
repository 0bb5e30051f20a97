"""Sharded periodic work: the schedule only fans out shard messages; the shard consumer does the work.

GIVEN a fleet written to the table and a runner whose probes answer from memory, WHEN a round is
fanned out and the shard queue is delivered to the app's consumer, THEN every server is checked once,
a failing shard is retried alone, and a shard out of time hands the rest on.
"""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from chalicelib.db import keys
from chalicelib.db.models import ActiveServer, Deployment, Server
from tests.support.fleet import MemoryRunner, seed_fleet

pytestmark = pytest.mark.fast


@pytest.fixture
def fleet(api, monkeypatch):
    from chalicelib.services.deploys import servers

    api.drop_messages(api.settings.shard_queue_name)
    runner = MemoryRunner()
    monkeypatch.setattr(servers, "deploy_runner_named", lambda name=None: runner)
    seeded = seed_fleet(3, 20)
    return SimpleNamespace(runner=runner, seeded=seeded)


def _shard_bodies(api) -> list[dict]:
    sqs, url = api.aws("sqs"), api.queue_url(api.settings.shard_queue_name)
    bodies = []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages"):
        bodies.extend(json.loads(m["Body"]) for m in got)
        for m in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return bodies


def _deliver_shards(api) -> int:
    from app import shard_queue_consumer

    return api.deliver(api.settings.shard_queue_name, shard_queue_consumer)


def test_the_health_schedule_only_fans_out_and_the_shards_check_every_server_once(api, fleet, monkeypatch):
    import app

    monkeypatch.setenv("MA_SHARD_SIZE", "25")
    from tests.support.inprocess import clear_caches

    clear_caches()
    dead = fleet.seeded[7]
    fleet.runner.dead.add(dead.server_id)
    app.server_health_checks({"version": "0", "id": "e1", "detail-type": "Scheduled Event", "source": "aws.events",
                              "account": "123456789012", "time": "2026-11-27T00:00:00Z", "region": "us-east-1",
                              "resources": [], "detail": {}}, None)
    assert fleet.runner.probes == 0, "the schedule checks nothing itself"

    assert _deliver_shards(api) == 3  # 60 servers in shards of 25
    assert fleet.runner.probes == 60
    for s in fleet.seeded:
        server = Server.get(keys.server(s.server_id), keys.META)
        if s is dead:
            assert server.status == "exited" and server.health == "dead"
        else:
            assert server.status == "running" and server.last_check_at is not None
    deployment = Deployment.get(keys.deployment(dead.deployment_id), keys.META)
    assert deployment.status == "failed" and deployment.upstream is None
    assert dead.server_id not in {m.server_id for m in ActiveServer.query(keys.ACTIVE_SERVERS)}


def test_a_failing_shard_is_retried_alone_and_its_redelivery_changes_nothing_twice(api, fleet, monkeypatch):
    from app import shard_queue_consumer
    from tests.support.inprocess import sqs_record

    published: list[tuple[str, dict]] = []
    from chalicelib import channels

    remove = channels.add_sink(lambda c, m: published.append((c, m)))
    try:
        ids = [s.server_id for s in fleet.seeded]
        dead, broken = ids[0], ids[40]
        fleet.runner.dead.add(dead)
        original = fleet.runner.probe

        def probe(server):
            if server.server_id == broken:
                raise RuntimeError("the task API timed out")
            return original(server)

        monkeypatch.setattr(fleet.runner, "probe", probe)
        records = [sqs_record(json.dumps({"kind": "health", "ids": chunk, "round": "r1"}),
                              api.settings.shard_queue_name) for chunk in (ids[:30], ids[30:60])]
        for i, record in enumerate(records):
            record["messageId"] = f"m{i}"
        result = shard_queue_consumer({"Records": records}, None)
        assert result["batchItemFailures"] == [{"itemIdentifier": "m1"}], "only the shard with the failure"

        monkeypatch.setattr(fleet.runner, "probe", original)
        assert not shard_queue_consumer({"Records": records}, None)["batchItemFailures"]
        exited = [m for c, m in published if c == f"server:{dead}" and m.get("status") == "exited"]
        assert len(exited) == 1, "a redelivered shard does not kill the server twice"
    finally:
        remove()


def test_a_shard_out_of_time_hands_the_items_it_did_not_start_to_a_new_shard(api, fleet):
    from chalicelib.workers.shards import handle_shard_messages
    from tests.support.inprocess import sqs_record

    ids = [s.server_id for s in fleet.seeded[:20]]
    record = sqs_record(json.dumps({"kind": "health", "ids": ids, "round": "r2"}), api.settings.shard_queue_name)
    nearly_over = SimpleNamespace(get_remaining_time_in_millis=lambda: 2000, function_name="shards",
                                  aws_request_id="x", memory_limit_in_mb=512,
                                  invoked_function_arn="arn:aws:lambda:us-east-1:1:function:shards")
    assert not handle_shard_messages({"Records": [record]}, nearly_over)["batchItemFailures"]
    assert fleet.runner.probes == 0
    assert _shard_bodies(api) == [{"kind": "health", "ids": ids, "round": "r2"}]


def test_a_poison_shard_message_is_reported_as_failed(api):
    from app import shard_queue_consumer
    from tests.support.inprocess import sqs_record

    good = json.dumps({"kind": "health", "ids": ["srv_01hzzzzzzzzzzzzzzzzzzzzzzz"]})  # gone: nothing to do
    for body in ("not json", json.dumps({"kind": "mining", "ids": ["x"]}), json.dumps({"kind": "health", "ids": []})):
        records = [sqs_record(body, api.settings.shard_queue_name), sqs_record(good, api.settings.shard_queue_name)]
        records[0]["messageId"], records[1]["messageId"] = "poison", "good"
        result = shard_queue_consumer({"Records": records}, None)
        assert result["batchItemFailures"] == [{"itemIdentifier": "poison"}]


def test_the_deploy_reaper_round_drops_markers_of_deploys_that_are_gone(api):
    from chalicelib.db import deploys as deploy_store
    from chalicelib.db.models import ActiveDeploy
    from chalicelib.workers.shards import fan_out

    api.drop_messages(api.settings.shard_queue_name)
    ActiveDeploy(keys.ACTIVE_DEPLOYS, "dpl_01hzzzzzzzzzzzzzzzzzzzzzzz", deploy_id="dpl_01hzzzzzzzzzzzzzzzzzzzzzzz").save()
    assert fan_out("deploy-reaper") == 1
    assert list(deploy_store.active_ids()) == ["dpl_01hzzzzzzzzzzzzzzzzzzzzzzz"], "the schedule only fans out"
    assert _deliver_shards(api) == 1
    assert list(deploy_store.active_ids()) == []


class _Recorded:
    """The @connections port: what each connection was sent."""

    def __init__(self):
        self.sent: dict[str, list[dict]] = {}

    def post_many(self, frames):
        from chalicelib.services.live.connections_api import Outcome

        for cid, data in frames.items():
            self.sent.setdefault(cid, []).extend(json.loads(d) for d in data)
        return {cid: Outcome.SENT for cid in frames}


@pytest.fixture
def channel_reads(monkeypatch):
    """DynamoDB calls that touch a channel's keys (its head or its subscribers), by operation."""
    from collections import Counter

    from botocore.endpoint import Endpoint

    seen: Counter = Counter()
    original = Endpoint.make_request

    def make_request(endpoint, operation_model, request_dict):
        if operation_model.service_model.service_name == "dynamodb" and "CHANNEL#" in str(request_dict.get("body")):
            seen[operation_model.name] += 1
        return original(endpoint, operation_model, request_dict)

    monkeypatch.setattr(Endpoint, "make_request", make_request)
    return seen


@pytest.fixture
def viewer(api, monkeypatch):
    """A WebSocket connection (its @connections API recorded) that subscribes to channels."""
    from datetime import timedelta

    from chalicelib.db import ws
    from chalicelib.db.models import Connection, utcnow
    from chalicelib.services.live import broadcaster as live
    from chalicelib.services.live.channel_access import Verdict

    monkeypatch.setattr(live.channel_access, "recheck", lambda principal, channel: Verdict.DELIVER)
    recorded = _Recorded()
    monkeypatch.setattr(live.broadcaster(), "api", recorded)
    connection = Connection(keys.connection("viewer"), keys.META, connection_id="viewer", user_id="u1",
                            expires_at=utcnow() + timedelta(hours=2))
    ws.put_connection(connection)

    def subscribe(channel: str) -> None:
        ws.subscribe(connection, channel, utcnow() + timedelta(hours=2), None)

    return SimpleNamespace(subscribe=subscribe, sent=lambda: recorded.sent.get("viewer", []))


def _run_one_shard(api, ids: list[str]) -> None:
    from app import shard_queue_consumer
    from tests.support.inprocess import sqs_record

    record = sqs_record(json.dumps({"kind": "health", "ids": ids, "round": "r"}), api.settings.shard_queue_name)
    assert not shard_queue_consumer({"Records": [record]}, None)["batchItemFailures"]


def test_a_health_shard_reads_its_channels_heads_at_once_and_a_viewer_still_gets_its_servers_health(
        api, fleet, viewer, channel_reads):
    watched, dead = fleet.seeded[3], fleet.seeded[11]
    viewer.subscribe(f"server:{watched.server_id}")
    viewer.subscribe(f"server:{dead.server_id}")
    fleet.runner.dead.add(dead.server_id)
    channel_reads.clear()

    _run_one_shard(api, [s.server_id for s in fleet.seeded[:50]])

    assert fleet.runner.probes == 50
    assert channel_reads == {"BatchGetItem": 1, "Query": 2}, \
        "one head read for the shard's 50 channels; subscribers read only where someone subscribed"
    got = sorted((m["channel"], m["type"], m.get("health") or m.get("status")) for m in viewer.sent())
    assert got == sorted([(f"server:{watched.server_id}", "health", "healthy"),
                          (f"server:{dead.server_id}", "health", "dead"),
                          (f"server:{dead.server_id}", "status", "exited")])
    dead_news = [m["type"] for m in viewer.sent() if m["channel"] == f"server:{dead.server_id}"]
    assert dead_news == ["health", "status"], "a server's messages keep their order"


def test_a_shard_of_more_than_a_hundred_channels_reads_their_heads_a_hundred_at_a_time(api, monkeypatch, viewer,
                                                                                         channel_reads):
    from chalicelib.services.deploys import servers

    runner = MemoryRunner()
    monkeypatch.setattr(servers, "deploy_runner_named", lambda name=None: runner)
    seeded = seed_fleet(5, 30)
    last = seeded[-1]
    viewer.subscribe(f"server:{last.server_id}")
    channel_reads.clear()

    _run_one_shard(api, [s.server_id for s in seeded])

    assert runner.probes == 150
    assert channel_reads == {"BatchGetItem": 2, "Query": 1}
    assert [(m["channel"], m["health"]) for m in viewer.sent()] == [(f"server:{last.server_id}", "healthy")]
