"""The WebSocket API through the local gateway, with real WebSocket clients and real builds."""
from __future__ import annotations

import json
import time

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.support.builds import copy_tiny, log_lines, start_build, tiny_deployment, wait_build
from tests.support.live import mint_ticket, ws_client

FINAL = ("succeeded", "failed", "cancelled", "superseded")


@pytest.fixture(scope="module")
def team(stack):
    return stack.session(stack.owner_key).get(stack.url("/teams")).json()["items"][0]["id"]


def _client(stack, token: str):
    return ws_client(stack, token)


def _client_with_token_in_url(stack, token: str):
    """The deprecated way: the API key or JWT itself in `?token=`."""
    return connect(f"{stack.ws_url}/?token={token}", open_timeout=10)


def _subscribe(ws, channel: str, since: int | None = None) -> dict:
    message = {"action": "subscribe", "channel": channel}
    if since is not None:
        message["since"] = since
    ws.send(json.dumps(message))
    return json.loads(ws.recv(timeout=10))


def _collect(ws, stop, timeout: float = 120) -> list[dict]:
    """Messages until `stop(message)` is true."""
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = json.loads(ws.recv(timeout=deadline - time.monotonic()))
        got.append(message)
        if stop(message):
            return got
    raise AssertionError(f"stopped waiting; got {got[-5:]}")


def _is_final(message: dict) -> bool:
    return message.get("type") == "status" and message.get("status") in FINAL


def _lines_by_offset(messages: list[dict]) -> list[tuple[int, str]]:
    out = []
    for m in messages:
        if m.get("type") == "log":
            out.extend((m["offset"] + i, line) for i, line in enumerate(m["lines"]))
    return out


def test_a_subscriber_gets_every_line_in_order_and_the_final_status_and_outsiders_are_refused(
        stack, team, tmp_path, as_user):
    owner = stack.session(stack.owner_key)
    _, deployment = tiny_deployment(stack, owner, team, {"type": "local", "path": str(copy_tiny(tmp_path / "t"))},
                                    env={"BUILD_SLEEP_SECONDS": "2", "BUILD_LINES": "300"})
    build_id = start_build(stack, owner, deployment)["id"]
    channel = f"build:{build_id}"

    with _client(stack, stack.owner_key) as ws:
        ack = _subscribe(ws, channel, since=0)
        assert ack == {"type": "subscribed", "channel": channel, "offset": 0}
        messages = _collect(ws, _is_final)

    assert messages[-1]["status"] == "succeeded" and messages[-1]["channel"] == channel
    received = _lines_by_offset(messages)
    offsets = [n for n, _ in received]
    assert offsets == list(range(len(offsets))), "every line once, in order"
    assert [line for _, line in received] == log_lines(stack, owner, build_id)
    assert sum("build line" in line for _, line in received) == 300

    # A member of another team is refused the same channel, with a code, not silence.
    other = as_user("ws-outsider")
    other_team = other.post(stack.url("/teams"), json={"name": "elsewhere"}).json()["id"]
    assert other_team
    from tests.support.jwts import token_for

    with _client(stack, token_for("ws-outsider")) as ws:
        refusal = _subscribe(ws, channel)
    assert refusal["type"] == "error" and refusal["code"] == "not_found" and refusal["channel"] == channel


def test_reconnecting_with_since_resumes_without_gap_or_duplicate(stack, team, tmp_path):
    owner = stack.session(stack.owner_key)
    _, deployment = tiny_deployment(stack, owner, team, {"type": "local", "path": str(copy_tiny(tmp_path / "t"))},
                                    env={"BUILD_SLEEP_SECONDS": "5"})
    build_id = start_build(stack, owner, deployment)["id"]
    channel = f"build:{build_id}"

    with _client(stack, stack.owner_key) as ws:
        _subscribe(ws, channel, since=0)
        first = _collect(ws, lambda m: any("working 1" in line for line in m.get("lines", [])))
    first_lines = _lines_by_offset(first)
    resume_at = first_lines[-1][0] + 1
    time.sleep(1.5)  # lines keep coming while nobody listens

    with _client(stack, stack.owner_key) as ws:
        assert _subscribe(ws, channel, since=resume_at)["offset"] == resume_at
        second = _collect(ws, _is_final)
    second_lines = _lines_by_offset(second)
    assert second_lines[0][0] == resume_at, "the missed lines come first"

    union = first_lines + second_lines
    assert [n for n, _ in union] == list(range(len(union))), "no gap, no duplicate"
    assert [line for _, line in union] == log_lines(stack, owner, build_id)


def test_a_client_that_vanished_without_closing_is_removed_at_the_next_publish(stack, team, tmp_path):
    owner = stack.session(stack.owner_key)
    project, deployment = tiny_deployment(stack, owner, team,
                                          {"type": "local", "path": str(copy_tiny(tmp_path / "t"))})
    # API Gateway may drop a connection without a $disconnect reaching us: the registry still has
    # it, the gateway does not.
    ddb = stack.aws("dynamodb")
    ghost = "ghost-connection-id"
    expires = str(int(time.time()) + 3600)
    ddb.put_item(TableName="mastra-admin-local", Item={
        "PK": {"S": f"CONN#{ghost}"}, "SK": {"S": "#META"}, "kind": {"S": "Connection"},
        "connectionId": {"S": ghost}, "userId": {"S": "local-owner"}, "expiresAt": {"N": expires}})
    ddb.put_item(TableName="mastra-admin-local", Item={
        "PK": {"S": f"CHANNEL#project:{project}"}, "SK": {"S": f"CONN#{ghost}"}, "kind": {"S": "Subscription"},
        "GSI1PK": {"S": f"CONN#{ghost}"}, "GSI1SK": {"S": f"CHANNEL#project:{project}"},
        "channel": {"S": f"project:{project}"}, "connectionId": {"S": ghost}, "expiresAt": {"N": expires}})

    with _client(stack, stack.owner_key) as ws:
        _subscribe(ws, f"project:{project}")
        wait_build(stack, owner, start_build(stack, owner, deployment)["id"])
        events = _collect(ws, lambda m: m.get("type") == "build" and m.get("status") in FINAL)
    assert [e["status"] for e in events if e["type"] == "build"][-1] == "succeeded"

    def stored(pk, sk):
        return ddb.get_item(TableName="mastra-admin-local", Key={"PK": {"S": pk}, "SK": {"S": sk}}).get("Item")

    assert stored(f"CONN#{ghost}", "#META") is None
    assert stored(f"CHANNEL#project:{project}", f"CONN#{ghost}") is None


def test_bad_tokens_are_refused_and_bad_messages_get_error_codes(stack):
    for token in ("", "ma_not_a_real_key", "eyJhbGciOiJIUzI1NiJ9.e30.bad"):
        with pytest.raises(InvalidStatus) as refused:
            _client_with_token_in_url(stack, token)
        assert refused.value.response.status_code == 401
        assert stack.session(token).post(stack.url("/ws/tickets")).status_code == 401
    for ticket in ("", "wst_" + "A" * 43, "not-a-ticket"):
        with pytest.raises(InvalidStatus) as refused:
            connect(f"{stack.ws_url}/?ticket={ticket}", open_timeout=10)
        assert refused.value.response.status_code == 401

    # The deprecated ?token= still connects, and says so in the log (without the token).
    with _client_with_token_in_url(stack, stack.owner_key) as ws:
        ws.send(json.dumps({"action": "ping"}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "pong"}
    assert "deprecated: WebSocket connect with ?token=" in stack.log_text()

    with _client(stack, stack.owner_key) as ws:
        ws.send(json.dumps({"action": "ping"}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "pong"}
        for raw, code in (("not json", "invalid_json"), ('{"action": "dance"}', "unknown_action"),
                          ('{"action": "subscribe"}', "missing_channel"),
                          ('{"action": "subscribe", "channel": "team:secret"}', "unknown_channel"),
                          ('{"action": "subscribe", "channel": "build:bld_00000000000000000000000000"}', "not_found"),
                          ('{"action": "subscribe", "channel": "build:bld_00000000000000000000000000", "since": -1}',
                           "invalid_since")):
            ws.send(raw)
            reply = json.loads(ws.recv(timeout=10))
            assert reply["type"] == "error" and reply["code"] == code, (raw, reply)
    # The token rode in the query string: no log may hold it (beyond the one-time bootstrap print).
    assert stack.log_path.read_text(errors="replace").count(stack.owner_key) == 1
    assert stack.owner_key not in (stack.home / "worker.log").read_text(errors="replace")



def test_clients_subscribing_together_to_a_streaming_build_each_get_every_line_once(stack, team, tmp_path):
    """Subscribes arriving at once share the channel's announcement; each still gets its ack first,
    every line once, in order, and the final status (with `since`: from 0; without: from its ack)."""
    from concurrent.futures import ThreadPoolExecutor

    owner = stack.session(stack.owner_key)
    _, deployment = tiny_deployment(stack, owner, team, {"type": "local", "path": str(copy_tiny(tmp_path / "t"))},
                                    env={"BUILD_SLEEP_SECONDS": "2", "BUILD_LINES": "300"})
    build_id = start_build(stack, owner, deployment)["id"]
    channel = f"build:{build_id}"
    clients = [_client(stack, stack.owner_key) for _ in range(12)]
    try:
        def follow(i: int) -> tuple[dict, list[dict]]:
            ack = _subscribe(clients[i], channel, since=0 if i % 2 == 0 else None)
            return ack, _collect(clients[i], _is_final)

        with ThreadPoolExecutor(len(clients)) as pool:
            results = list(pool.map(follow, range(len(clients))))
    finally:
        for ws in clients:
            ws.close()
    stored = log_lines(stack, owner, build_id)
    for i, (ack, messages) in enumerate(results):
        assert ack["type"] == "subscribed" and ack["channel"] == channel, ack
        assert messages[-1]["status"] == "succeeded"
        received = _lines_by_offset(messages)
        start = 0 if i % 2 == 0 else ack["offset"]
        assert [n for n, _ in received] == list(range(start, len(stored))), f"client {i}: every line once, in order"
        assert [line for _, line in received] == stored[start:]


def test_a_ticket_is_signed_used_once_and_refused_once_its_key_is_revoked(stack, team):
    owner = stack.session(stack.owner_key)
    key = owner.post(stack.url(f"/teams/{team}/api-keys"), json={"name": "tickets"}).json()
    minted = mint_ticket(stack, key["secret"])
    with connect(minted["url"], open_timeout=10) as ws:
        ws.send(json.dumps({"action": "ping"}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "pong"}
    for replayed_or_forged in (minted["ticket"], _with_claim(minted["ticket"], "u", "local-owner")):
        with pytest.raises(InvalidStatus) as refused:
            connect(f"{stack.ws_url}/?ticket={replayed_or_forged}", open_timeout=10)
        assert refused.value.response.status_code == 401
        assert json.loads(refused.value.response.body)["error"]["code"] == "invalid_ticket"

    unused = mint_ticket(stack, key["secret"])  # the key is now verified and kept as such for seconds
    assert owner.delete(stack.url(f"/api-keys/{key['id']}")).status_code == 204
    r = stack.session(key["secret"]).post(stack.url("/ws/tickets"))  # at once, not after the cache window
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
    with pytest.raises(InvalidStatus) as refused:
        connect(unused["url"], open_timeout=10)
    assert json.loads(refused.value.response.body)["error"]["code"] == "invalid_token"


def _with_claim(ticket: str, name: str, value) -> str:
    """The ticket with one claim changed and its signature kept: what a forger can make."""
    import base64

    body, signature = ticket[len("wst_"):].split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims[name] = value
    return "wst_" + base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode() + "." + signature
