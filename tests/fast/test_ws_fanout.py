"""A published batch reaches exactly the channel's current subscribers, though the broadcaster keeps
the subscribers it read between batches (moto's DynamoDB in-process; the @connections API faked).
"""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib.db import keys
from chalicelib.db import ws as store
from chalicelib.db.models import Connection, utcnow
from chalicelib.services.live import broadcaster as live
from chalicelib.services.live.channel_access import Verdict
from chalicelib.services.live.connections_api import Outcome

CHANNEL = "deployment:dep_" + "a" * 26


class Recorded:
    """The @connections port: records what each connection was sent; `gone` ones answer GONE."""

    def __init__(self):
        self.sent: dict[str, list[dict]] = {}
        self.gone: set[str] = set()

    def post_many(self, frames):
        for cid, data in frames.items():
            if cid not in self.gone:
                self.sent.setdefault(cid, []).extend(json.loads(d) for d in data)
        return {cid: Outcome.GONE if cid in self.gone else Outcome.SENT for cid in frames}


@pytest.fixture
def out(api, monkeypatch):
    monkeypatch.setattr(live.channel_access, "recheck", lambda principal, channel: Verdict.DELIVER)
    broadcaster = live.Broadcaster("http://127.0.0.1:9", "us-east-1")
    broadcaster.api = Recorded()
    return broadcaster


def _connect(cid: str) -> Connection:
    connection = Connection(keys.connection(cid), keys.META, connection_id=cid, user_id="u1",
                            expires_at=utcnow() + timedelta(hours=2))
    store.put_connection(connection)
    store.subscribe(connection, CHANNEL, utcnow() + timedelta(hours=2), None)
    return connection


def _event(n: int) -> dict:
    return {"channel": CHANNEL, "type": "event", "n": n}


def test_a_subscriber_joining_or_leaving_between_batches_is_seen_by_the_next_batch(out):
    _connect("c1"), _connect("c2")
    out.publish(CHANNEL, _event(1))
    _connect("c3")  # after the broadcaster read the subscribers
    store.unsubscribe("c1", CHANNEL)
    out.publish(CHANNEL, _event(2))
    out.publish(CHANNEL, _event(3))  # nothing changed since the second: the same subscribers

    sent = out.api.sent
    assert sent["c1"] == [_event(1)]
    assert sent["c2"] == [_event(1), _event(2), _event(3)]
    assert sent["c3"] == [_event(2), _event(3)]


def test_a_connection_found_gone_is_forgotten_and_not_posted_to_again(out):
    _connect("c1"), _connect("c2")
    out.api.gone.add("c2")
    out.publish(CHANNEL, _event(1))
    assert store.find_connection("c2") is None
    assert [s.connection_id for s in store.subscribers(CHANNEL)] == ["c1"]
    out.api.gone.clear()
    out.publish(CHANNEL, _event(2))
    assert out.api.sent == {"c1": [_event(1), _event(2)]}
