"""The WebSocket API's behaviour: connect with a ticket, subscribe, unsubscribe, ping, disconnect.

Connect with `?ticket=…`, a single-use ticket from `POST /ws/tickets` (see `tickets`). The older
`?token=<API key or JWT>` is still accepted during its deprecation period, with a warning in the
log (never the token): long-lived credentials in URLs end up in access logs and browser history.
The connection stores the principal (user, key id, scope team, a JWT's expiry), never a token.

Client messages: {"action": "subscribe", "channel": "build:bld_…", "since": N?},
{"action": "unsubscribe", "channel": …}, {"action": "ping"}. Every reply is a JSON object with a
`type`: `subscribed`, `unsubscribed`, `pong`, or `error` with a machine-readable `code` (a refused
subscription is never a silent drop). On a log channel, `since` resumes from that offset: the
stored lines come first, then live ones, each line once. Without it, the subscription starts at the
log's end (as a subscribe in this process found it within the last second; the ack's `offset` says).
"""
from __future__ import annotations

import functools
import json
from datetime import datetime, timedelta

from chalicelib.auth.access import Principal, authenticate
from chalicelib.db import ws as store
from chalicelib.db import keys
from chalicelib.db.models import Connection, utcnow
from chalicelib.errors import AppError, BadRequest, Unauthorized
from chalicelib.control_plane_log import logger
from chalicelib.settings import get_settings
from chalicelib.ttl_cache import TTLCache
from chalicelib.services.live import channel_access, tickets
from chalicelib.services.live.broadcaster import Broadcaster, broadcaster
from chalicelib.services.live.rounds import Rounds

MAX_MESSAGE_BYTES = 4096


CLOSE_CODES = ("token_expired", "key_revoked")  # a subscribe refused for these closes the connection
KNOWN_MAX = 10_000
RECENT_END_S = 1.0  # a subscribe without `since` may start this far back in a log (its ack says where)



@functools.lru_cache(maxsize=1)
def _known() -> tuple[dict[str, Connection], dict[str, dict]]:
    """What this process learnt: connection id -> its Connection (its principal, which cannot change,
    from its connect until its disconnect); channel -> a finished build's status message (final).
    A subscribe in the process that took the connect (always locally, often in AWS) reads neither."""
    return {}, {}


@functools.lru_cache(maxsize=1)
def _recent_ends() -> TTLCache:
    """channel -> its log's end as a subscribe here found it within RECENT_END_S (subscribes arriving
    together read it once)."""
    return TTLCache(RECENT_END_S)


def _remember(known: dict, key: str, value) -> None:
    if len(known) >= KNOWN_MAX:
        known.clear()
    known[key] = value


def connect(connection_id: str, query: dict | None) -> dict:
    """API Gateway refuses the upgrade unless this answers 200."""
    query = query or {}
    try:
        if "ticket" in query:
            principal = tickets.redeem(query["ticket"])
        else:
            token = query.get("token")
            principal = authenticate(f"Bearer {token}" if token else None, get_settings())
            logger.warning("deprecated: WebSocket connect with ?token=; mint a ticket with POST /ws/tickets",
                           extra={"connectionId": connection_id, "userId": principal.user_id,
                                  "keyId": principal.key_id})
    except Unauthorized as e:
        return {"statusCode": 401, "body": json.dumps({"error": {"code": e.code, "message": e.message}})}
    connection = Connection(
        keys.connection(connection_id), keys.META, connection_id=connection_id, user_id=principal.user_id,
        key_id=principal.key_id, scope_team_id=principal.scope_team_id, token_expires_at=principal.expires_at,
        expires_at=_expiry(),
    )
    store.put_connection(connection)
    _remember(_known()[0], connection_id, connection)
    return {"statusCode": 200}


def disconnect(connection_id: str) -> None:
    _known()[0].pop(connection_id, None)
    store.forget_connection(connection_id)


def _connection(connection_id: str) -> Connection | None:
    connection = _known()[0].get(connection_id)
    if connection is None:
        connection = store.find_connection(connection_id)
        if connection is not None:
            _remember(_known()[0], connection_id, connection)
    return connection


def _expiry() -> datetime:
    return utcnow() + timedelta(seconds=get_settings().ws_connection_ttl_seconds)


def _error(code: str, message: str, **extra) -> dict:
    return {"type": "error", "code": code, "message": message, **extra}


def message(connection_id: str, body: str, out: Broadcaster | None = None) -> None:
    out = out or broadcaster()
    if out is None:
        raise RuntimeError("MA_WS_MANAGEMENT_URL is not set: the WebSocket API cannot reply")
    reply = _handle(connection_id, body, out)
    if reply is not None:
        out.post(connection_id, reply)
        if reply.get("type") == "error" and reply.get("code") in CLOSE_CODES:
            out.close(connection_id, reply["code"])


def _parse(body: str) -> dict:
    if body is None or len(body.encode()) > MAX_MESSAGE_BYTES:
        raise BadRequest(f"Messages are limited to {MAX_MESSAGE_BYTES} bytes", code="message_too_large")
    try:
        data = json.loads(body)
    except ValueError as e:
        raise BadRequest("The message is not JSON", code="invalid_json") from e
    if not isinstance(data, dict) or data.get("action") not in ("subscribe", "unsubscribe", "ping"):
        raise BadRequest("action must be subscribe, unsubscribe or ping", code="unknown_action")
    return data


def _handle(connection_id: str, body: str, out: Broadcaster) -> dict | None:
    channel = None
    try:
        data = _parse(body)
        if data["action"] == "ping":
            return {"type": "pong"}
        channel = data.get("channel")
        if not isinstance(channel, str):
            raise BadRequest("channel is required", code="missing_channel")
        connection = _connection(connection_id)
        if connection is None:
            raise Unauthorized("The connection is not registered; reconnect", code="unknown_connection")
        if data["action"] == "unsubscribe":
            channel_access.parse(channel)
            store.unsubscribe(connection_id, channel)
            return {"type": "unsubscribed", "channel": channel}
        return _subscribe(connection, channel, data.get("since"), out)
    except AppError as e:
        return _error(e.code, e.message, **({"channel": channel} if channel else {}))
    except Exception:
        logger.exception("websocket message failed", extra={"connectionId": connection_id})
        return _error("internal_error", "The message could not be handled", **({"channel": channel} if channel else {}))


def _principal(connection: Connection) -> Principal:
    """A key revoked after connecting no longer subscribes: `channel_access.require` checks it."""
    if channel_access.expired(connection.token_expires_at):
        raise Unauthorized("The token has expired; reconnect with a fresh ticket", code="token_expired")
    return Principal(user_id=connection.user_id, key_id=connection.key_id, scope_team_id=connection.scope_team_id)


def _subscribe(connection: Connection, channel: str, since, out: Broadcaster) -> None:
    if since is not None and (not isinstance(since, int) or isinstance(since, bool) or since < 0):
        raise BadRequest("since must be a non-negative integer offset", code="invalid_since")
    channel_access.require(_principal(connection), channel)
    source = channel_access.log_source(channel)
    cursor = None
    if source is not None:
        cursor = since if since is not None else _recent_end(channel, source)
    elif since is not None:
        raise BadRequest("This channel has no stored log to resume from", code="resume_unsupported")
    store.subscribe(connection, channel, _expiry(), cursor, announce=False)
    ack = {"type": "subscribed", "channel": channel}
    if cursor is not None:
        ack["offset"] = cursor
    out.post(connection.connection_id, ack)  # first: publishers read the subscription once announced
    end = _announce(channel, source)
    if end is not None:
        _recent_ends().put(channel, end)  # fresh: the next subscribes here start at it
    # Read after the subscription is visible to publishers: a later change reaches it live.
    current = _current_state(channel)
    then = [current] if current is not None else []
    if source is not None:  # the state goes out after the stored lines it owes, in one post if none
        end = out.catch_up(channel, connection.connection_id, source, cursor, then, end=end)
        if end is not None:
            _recent_ends().put(channel, end)
    out.post_all(connection.connection_id, then)
    return None


@functools.lru_cache(maxsize=1)
def _rounds() -> Rounds:
    return Rounds()


def _announce(channel: str, source) -> int | None:
    """Bump the channel's head, then read its log's end (None: no log), after our subscription's
    write: the catch-up's first look. Subscribes to one channel waiting here together share one
    round of these two calls, which starts after each of them wrote its subscription."""
    def announce_then_read_end() -> int | None:
        store.announce(channel)
        return source.end() if source is not None else None

    return _rounds().run(channel, announce_then_read_end)


def _recent_end(channel: str, source) -> int:
    """Where a subscribe without `since` starts: the log's end as a subscribe found it within
    RECENT_END_S, else as read now. Never past the end (it only grows), so at worst the catch-up sends
    the last second's lines once more to this new subscriber; each line still reaches it once."""
    return _recent_ends().get(channel, source.end)


def _current_state(channel: str) -> dict | None:
    """What a late subscriber should know at once (a build's status, for one)."""
    kind, item_id, logs = channel_access.parse(channel)
    if kind == "build" and not logs:
        finished = _known()[1]
        if channel in finished:
            return finished[channel]
        from chalicelib.db import builds

        build = builds.find(item_id)
        if build is not None:
            state = {"channel": channel, "type": "status", "status": build.status, "buildId": build.build_id,
                     "reason": build.reason, "current": True}
            if build.status in builds.TERMINAL:  # final: no transition leaves a terminal status
                _remember(finished, channel, state)
            return state
    return None
