"""WebSocket connect tickets: signed at mint (nothing stored), used up by the connect's conditional
put, bound to the principal that minted them, short-lived; a revoked key mints none.

The REST side through the app in-process; the WebSocket side through the `ws_connect` handler with
API-Gateway-shaped events, and the service's subscribe with the replies recorded.
"""
from __future__ import annotations

import base64
import json
import time
import uuid

import pytest

from chalicelib.services.live import tickets
from chalicelib.services.live import websocket

TICKET_ITEMS = {"FilterExpression": "begins_with(PK, :p)", "ExpressionAttributeValues": {":p": {"S": "WSTICKET#"}}}


def _connect(api, ticket: str, connection_id: str | None = None) -> dict:
    event = {"requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "apiId": "local", "stage": "local",
                                "connectionId": connection_id or uuid.uuid4().hex, "domainName": "127.0.0.1"},
             "queryStringParameters": {"ticket": ticket}, "body": None, "isBase64Encoded": False}
    result = api.client.lambda_.invoke("ws_connect", event).payload
    return {"status": result["statusCode"], "code": json.loads(result["body"])["error"]["code"]
            if result["statusCode"] != 200 else None}


def _mint(api, token: str) -> str:
    r = api.session(token).post(api.url("/ws/tickets"))
    assert r.status_code == 201, r.text
    return r.json()["ticket"]


def _scan(api, **extra) -> list[dict]:
    from chalicelib.aws import client

    return client("dynamodb").scan(TableName=api.settings.table_name, **extra)["Items"]


def test_minting_stores_nothing_and_a_ticket_connects_once(api):
    ticket = _mint(api, api.owner_key)
    assert _scan(api, **TICKET_ITEMS) == []
    assert _connect(api, ticket) == {"status": 200, "code": None}
    assert _connect(api, ticket) == {"status": 401, "code": "invalid_ticket"}
    # What is stored is the used ticket's hash, never the ticket.
    [used] = _scan(api, **TICKET_ITEMS)
    assert ticket not in json.dumps(_scan(api)) and used["consumedAt"]


def test_two_connects_racing_with_one_ticket_let_exactly_one_in(api):
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.errors import Unauthorized

    ticket = _mint(api, api.owner_key)

    def redeem(_):
        try:
            return tickets.redeem(ticket).user_id
        except Unauthorized as e:
            return e.code

    with ThreadPoolExecutor(8) as pool:
        outcomes = sorted(pool.map(redeem, range(8)))
    assert outcomes == ["invalid_ticket"] * 7 + ["local-owner"]


def test_an_expired_ticket_is_refused(api, monkeypatch):
    ticket = _mint(api, api.owner_key)
    later = time.time() + api.settings.ws_ticket_ttl_seconds + 1
    monkeypatch.setattr(tickets, "time", type("Clock", (), {"time": staticmethod(lambda: later)}))
    assert _connect(api, ticket) == {"status": 401, "code": "ticket_expired"}


def test_a_ticket_altered_or_not_signed_by_the_stage_is_refused(api, as_user):
    ticket = _mint(api, api.owner_key)
    body, signature = ticket[len(tickets.PREFIX):].split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["u"] = "someone-else"  # claim another principal with the owner's signature
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    for bad in (f"{tickets.PREFIX}{forged}.{signature}", f"{tickets.PREFIX}{body}.{'A' * 43}",
                "wst_" + "A" * 43, "", "ticket"):
        assert _connect(api, bad) == {"status": 401, "code": "invalid_ticket"}, bad
    assert _connect(api, ticket)["status"] == 200  # the refusals used nothing up


class Replies:
    """The broadcaster's reply side, recorded."""

    def __init__(self):
        self.sent: list[dict] = []

    def post(self, connection_id, message):
        self.sent.append(message)
        return True

    def post_all(self, connection_id, messages):
        self.sent.extend(messages)
        return True

    def close(self, connection_id, reason):
        self.sent.append({"closed": reason})


def test_a_ticket_acts_as_the_principal_that_minted_it(api, as_user):
    """A member's ticket subscribes to its own team's channels and not to another team's."""
    mine, theirs = as_user(f"ana-{uuid.uuid4().hex[:6]}"), as_user(f"bo-{uuid.uuid4().hex[:6]}")
    my_team = mine.post(api.url("/teams"), json={"name": "mine"}).json()["id"]
    their_team = theirs.post(api.url("/teams"), json={"name": "theirs"}).json()["id"]
    source = {"type": "github", "repo": "a/b"}
    my_project = mine.post(api.url(f"/teams/{my_team}/projects"), json={"name": "p", "source": source}).json()["id"]
    their_project = theirs.post(api.url(f"/teams/{their_team}/projects"), json={"name": "q", "source": source}).json()["id"]
    key = mine.post(api.url(f"/teams/{my_team}/api-keys"), json={"name": "ws"}).json()["secret"]

    connection_id = uuid.uuid4().hex
    assert _connect(api, _mint(api, key), connection_id)["status"] == 200
    replies = Replies()
    for project in (my_project, their_project):
        websocket.message(connection_id, json.dumps({"action": "subscribe", "channel": f"project:{project}"}), replies)
    assert [(m["type"], m.get("code")) for m in replies.sent] == [("subscribed", None), ("error", "not_found")]


def test_a_revoked_key_mints_no_ticket_at_once_and_its_tickets_no_longer_connect(api, as_user):
    kim = as_user(f"kim-{uuid.uuid4().hex[:6]}")
    team = kim.post(api.url("/teams"), json={"name": "k"}).json()["id"]
    key = kim.post(api.url(f"/teams/{team}/api-keys"), json={"name": "ws"}).json()
    unused = _mint(api, key["secret"])  # verified, and kept as verified for a few seconds
    assert kim.delete(api.url(f"/api-keys/{key['id']}")).status_code == 204
    r = api.session(key["secret"]).post(api.url("/ws/tickets"))
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
    assert _connect(api, unused) == {"status": 401, "code": "invalid_token"}


@pytest.mark.parametrize("token", ["ma_garbage", "ma_01jabcdefghjkmnpqrstvwxyz0_" + "x" * 43])
def test_a_bad_key_is_refused_every_time(api, token):
    for _ in range(2):  # nothing about a failure is kept
        r = api.session(token).post(api.url("/ws/tickets"))
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"


def test_the_signing_key_is_stored_sealed_only(api):
    tickets._load_signing_key.cache_clear()  # made again in this test's table
    _mint(api, api.owner_key)
    [item] = _scan(api, FilterExpression="begins_with(PK, :p)", ExpressionAttributeValues={":p": {"S": "SIGNINGKEY#"}})
    assert item["sealed"]["S"].startswith("v1.")
