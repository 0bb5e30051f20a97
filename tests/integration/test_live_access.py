"""Access on the WebSocket API is re-checked on delivery, and clients connect with single-use tickets.

Real WebSocket clients against the real local stack; the publisher is a real build printing a line
a second (the worker's broadcaster), so each test watches what arrives after access changes.
"""
from __future__ import annotations

import json
import time
import uuid

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.support.builds import copy_tiny, start_build, tiny_deployment, wait_log
from tests.support.jwts import token_for
from tests.support.live import mint_ticket, ws_client

CACHE_SECONDS = 5.0  # MA_WS_ACCESS_CACHE_SECONDS's default, which the test stack keeps
SLACK = 3.0  # a line a second, plus delivery


@pytest.fixture(scope="module")
def team(stack):
    return stack.session(stack.owner_key).get(stack.url("/teams")).json()["items"][0]["id"]


@pytest.fixture(scope="module")
def streaming(stack, team, tmp_path_factory):
    """The channel of a build that prints `working N` every second for as long as the module runs."""
    owner = stack.session(stack.owner_key)
    src = copy_tiny(tmp_path_factory.mktemp("access") / "tiny")
    _, deployment = tiny_deployment(stack, owner, team, {"type": "local", "path": str(src)},
                                    env={"BUILD_SLEEP_SECONDS": "300"}, name="streaming")
    build = start_build(stack, owner, deployment)["id"]
    wait_log(stack, owner, build, "working 1")
    yield f"build:{build}"
    owner.post(stack.url(f"/builds/{build}/cancel"))


def _member(stack, team, role: str = "viewer") -> str:
    user = f"ws-{role}-{uuid.uuid4().hex[:8]}"
    r = stack.session(stack.owner_key).post(stack.url(f"/teams/{team}/members"), json={"userId": user, "role": role})
    assert r.status_code == 201, r.text
    return user


def _subscribe(ws, channel: str) -> dict:
    ws.send(json.dumps({"action": "subscribe", "channel": channel}))
    return json.loads(ws.recv(timeout=10))


def _until_working_line(ws, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = json.loads(ws.recv(timeout=deadline - time.monotonic()))
        if message.get("type") == "log" and any("working" in line for line in message["lines"]):
            return
    raise AssertionError("no live line arrived")


def _read_until_closed(ws, timeout: float) -> list[tuple[float, dict]]:
    """(arrival time, message) until the server closes the connection; fails if it stays open."""
    got: list[tuple[float, dict]] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            got.append((time.monotonic(), json.loads(ws.recv(timeout=deadline - time.monotonic()))))
    except ConnectionClosed:
        return got
    except TimeoutError:
        pass
    raise AssertionError(f"the connection stayed open; last messages {[m for _, m in got[-3:]]}")


def test_a_member_removed_mid_stream_gets_nothing_more_after_the_cache_window(stack, team, streaming):
    user = _member(stack, team)
    owner = stack.session(stack.owner_key)
    with ws_client(stack, token_for(user)) as member, ws_client(stack, stack.owner_key) as watcher:
        assert _subscribe(member, streaming)["type"] == "subscribed"
        assert _subscribe(watcher, streaming)["type"] == "subscribed"
        _until_working_line(member)

        assert owner.delete(stack.url(f"/teams/{team}/members/{user}")).status_code == 204
        removed_at = time.monotonic()
        window_end = removed_at + CACHE_SECONDS + SLACK
        after: list[tuple[float, dict]] = []
        while time.monotonic() < window_end + 4:  # past the window, and a few lines more
            try:
                after.append((time.monotonic(), json.loads(member.recv(timeout=window_end + 4 - time.monotonic()))))
            except TimeoutError:
                break
        # The stream went on for those still allowed.
        watcher_lines = [m for m in _drain(watcher) if m.get("type") == "log"]
        assert watcher_lines, "the owner's subscription kept receiving"

    told = [(t, m) for t, m in after if m.get("type") == "unsubscribed"]
    assert [m for _, m in told] == [{"type": "unsubscribed", "channel": streaming, "reason": "access_revoked"}], after
    assert told[0][0] <= window_end, "told within the cache window"
    late = [m for t, m in after if m.get("type") == "log" and t > told[0][0]]
    assert late == [], "nothing after the subscription was dropped"
    assert not [m for t, m in after if m.get("type") == "log" and t > window_end]


def _drain(ws, timeout: float = 0.5) -> list[dict]:
    got = []
    while True:
        try:
            got.append(json.loads(ws.recv(timeout=timeout)))
        except TimeoutError:
            return got


def test_a_revoked_keys_connection_is_closed(stack, team, streaming):
    owner = stack.session(stack.owner_key)
    key = owner.post(stack.url(f"/teams/{team}/api-keys"), json={"name": "ws-revoked"}).json()
    with ws_client(stack, key["secret"]) as ws:
        assert _subscribe(ws, streaming)["type"] == "subscribed"
        _until_working_line(ws)
        assert owner.delete(stack.url(f"/api-keys/{key['id']}")).status_code == 204
        revoked_at = time.monotonic()
        got = _read_until_closed(ws, CACHE_SECONDS + SLACK + 5)
    closing = [(t, m) for t, m in got if m.get("type") == "closing"]
    assert [m for _, m in closing] == [{"type": "closing", "reason": "key_revoked"}]
    assert closing[0][0] - revoked_at <= CACHE_SECONDS + SLACK
    # The key can no longer mint a ticket or connect.
    assert stack.session(key["secret"]).post(stack.url("/ws/tickets")).status_code == 401


def test_an_expired_jwt_closes_the_connection(stack, team, streaming):
    user = _member(stack, team)
    token = token_for(user, ttl=3)
    with ws_client(stack, token) as ws:
        assert _subscribe(ws, streaming)["type"] == "subscribed"
        got = _read_until_closed(ws, 3 + SLACK + 5)
    assert {"type": "closing", "reason": "token_expired"} in [m for _, m in got]
    assert stack.session(token).post(stack.url("/ws/tickets")).status_code == 401


def test_a_ticket_works_once_and_a_replay_is_refused(stack):
    minted = mint_ticket(stack, stack.owner_key)
    assert set(minted) == {"ticket", "expiresAt", "url"}
    assert minted["url"] == f"{stack.ws_url}?ticket={minted['ticket']}"
    with connect(minted["url"], open_timeout=10) as ws:
        ws.send(json.dumps({"action": "ping"}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "pong"}
    with pytest.raises(InvalidStatus) as replayed:
        connect(minted["url"], open_timeout=10)
    assert replayed.value.response.status_code == 401
    assert json.loads(replayed.value.response.body)["error"]["code"] == "invalid_ticket"
    # Only the ticket's hash is stored.
    assert minted["ticket"] not in json.dumps(stack.aws("dynamodb").scan(TableName="mastra-admin-local")["Items"])


def test_a_non_members_ticket_cannot_subscribe_to_another_teams_channel(stack, streaming):
    outsider = f"ws-outsider-{uuid.uuid4().hex[:8]}"
    assert stack.session(token_for(outsider)).post(stack.url("/teams"), json={"name": "theirs"}).status_code == 201
    with ws_client(stack, token_for(outsider)) as ws:
        refusal = _subscribe(ws, streaming)
        assert refusal["type"] == "error" and refusal["code"] == "not_found" and refusal["channel"] == streaming
        assert [m for m in _drain(ws, 2.5) if m.get("type") == "log"] == []
