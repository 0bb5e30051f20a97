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


def test_a_subscription_that_went_live_after_its_batch_list_was_read_gets_each_line_once_then_live(out, monkeypatch):
    """Going live does not move the channel's head: the broadcaster's list still shows a cursor. The
    batch that finds it live sends from its hand-over point, and the next batch reads the list again
    (no claim per subscriber per batch until the list ages out)."""
    from chalicelib.channels import LogSource

    channel = "build:bld_" + "b" * 26
    stored: list[str] = []
    monkeypatch.setattr(live, "log_source", lambda ch: LogSource(
        end=lambda: len(stored), read=lambda start: ((n, stored[n]) for n in range(start, len(stored)))))
    claims = []
    claim = store.claim
    monkeypatch.setattr(store, "claim", lambda *a, **k: claims.append(a) or claim(*a, **k))
    connection = Connection(keys.connection("c1"), keys.META, connection_id="c1", user_id="u1",
                            expires_at=utcnow() + timedelta(hours=2))
    store.put_connection(connection)
    store.subscribe(connection, channel, utcnow() + timedelta(hours=2), 0)  # resuming from offset 0

    def batch(*lines):
        offset = len(stored)
        stored.extend(lines)
        out.publish(channel, {"channel": channel, "type": "log", "offset": offset, "lines": list(lines)})

    batch("a", "b")  # claimed: the subscription has a cursor
    assert store.go_live(channel, "c1", 2, None)  # its resume hands over to live at 2
    batch("c")  # the list read before still shows a cursor: this batch finds it live
    claims_before = len(claims)
    batch("d")
    batch("e")

    got = [line for message in out.api.sent["c1"] for line in message["lines"]]
    assert got == ["a", "b", "c", "d", "e"]
    assert len(claims) == claims_before  # live now: no claim for d or e
