"""Delivers channel messages to subscribed WebSocket connections through the management API.

`publish(channel, message)` finds the subscribers (one GetItem of the channel's head while they have
not changed since the last batch, else one Query), renders the message once, and
posts it to all of them in one hand-off to the `@connections` API (`connections_api`: bounded
concurrency over kept-alive connections; API Gateway in AWS, the local gateway locally, the
endpoint from settings). A connection that is gone (410) is forgotten with its subscriptions.
Messages respect API Gateway's limits: log batches are split into messages of at most
FRAME_BYTES, never truncated.

Before delivering, every subscription is re-checked (`channel_access.recheck`, cached per
principal and team, once per principal per batch): a subscription whose access is gone is deleted
and its connection told `{"type": "unsubscribed", "channel": …, "reason": "access_revoked"}`; a
connection whose JWT expired or whose API key was revoked is told `{"type": "closing", "reason":
…}` and closed through the management API (`DeleteConnection`).

On log channels each subscription has a cursor (the next offset it is owed), advanced only by a
conditional write: the live path here and the resume path of a (re)subscribing client both claim
a range before sending it, so every line reaches a subscriber exactly once, and a subscriber that
fell behind gets the missing lines from the stored log first.
"""
from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable

from chalicelib.db import ws as store
from chalicelib.db.models import Subscription
from chalicelib.control_plane_log import logger
from chalicelib.errors import Unavailable
from chalicelib.settings import get_settings
from chalicelib.channels import LogSource
from chalicelib.auth.access import Principal
from chalicelib.services.live import channel_access
from chalicelib.services.live.channel_access import Verdict, log_source
from chalicelib.services.live.connections_api import ConnectionsApi, Outcome

FRAME_BYTES = 32 * 1024  # API Gateway's frame size; a message may be up to 128 KB
MAX_MESSAGE_BYTES = 128 * 1024
CLAIM_ATTEMPTS = 40
SEND_LEASE_MS = 10_000
POST_CONCURRENCY = 32
SUBSCRIBERS_MAX_AGE_S = 30.0  # a subscriber list kept longer is read again, changed or not


@dataclass(frozen=True, slots=True)
class _Subscriber:
    """What a publish reads of a subscription, read from its item once per Query: PynamoDB's
    attribute access costs microseconds each, paid several times per subscriber per batch."""

    item: Subscription
    connection_id: str
    cursor: int | None
    principal: Principal | None  # None: written before subscriptions carried it, and its connection is gone
    token_expires_at: float | None


def _snapshot(subs: list[Subscription]) -> list[_Subscriber]:
    """Plain records of `subs`, equal principals as one object (one re-check each per batch)."""
    principals: dict[tuple, Principal] = {}
    out = []
    for sub in subs:
        owner = _owner(sub)
        principal = None
        expires = None
        if owner is not None:
            key = (owner[0].user_id, owner[0].key_id, owner[0].scope_team_id)
            principal = principals.setdefault(key, owner[0])
            expires = owner[1]
        cursor = sub.cursor
        out.append(_Subscriber(sub, sub.connection_id, int(cursor) if cursor is not None else None,
                               principal, expires))
    return out


def _dumps(message: dict) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


def split_log(channel: str, offset: int, lines: list[str], extra: dict | None = None) -> list[dict]:
    """Log messages of at most FRAME_BYTES each (a lone line may take a message up to 128 KB;
    a line longer than that goes out in parts, each with `part`/`parts`, so nothing is cut)."""
    base = {"channel": channel, "type": "log", **(extra or {})}
    overhead = len(_dumps({**base, "offset": offset + len(lines), "lines": []}))
    messages: list[dict] = []
    batch: list[str] = []
    start, size = offset, overhead
    for i, line in enumerate(lines):
        cost = len(_dumps([line])) + 1
        if batch and size + cost > FRAME_BYTES:
            messages.append({**base, "offset": start, "lines": batch})
            batch, start, size = [], offset + i, overhead
        if overhead + cost > MAX_MESSAGE_BYTES:
            step = (MAX_MESSAGE_BYTES - overhead) // 4  # worst case 4 bytes per character once escaped
            parts = [line[j:j + step] for j in range(0, len(line), step)]
            messages += [{**base, "offset": offset + i, "lines": [p], "part": n, "parts": len(parts)}
                         for n, p in enumerate(parts)]
            start, size = offset + i + 1, overhead
            continue
        batch.append(line)
        size += cost
    if batch:
        messages.append({**base, "offset": start, "lines": batch})
    return messages


class Broadcaster:
    def __init__(self, endpoint_url: str, region: str):
        import boto3
        from botocore.config import Config

        # Messages go through `api` (one hand-off per batch or reply, kept-alive connections);
        # DeleteConnection, rare, through boto3's client.
        # A session of its own, as in chalicelib.aws: boto3's default session keeps the credentials
        # it first resolved, whoever set them.
        self.client = boto3.session.Session().client(
            "apigatewaymanagementapi", endpoint_url=endpoint_url, region_name=region,
            config=Config(max_pool_connections=POST_CONCURRENCY, retries={"max_attempts": 2},
                          connect_timeout=3, read_timeout=10),
        )
        self.api = ConnectionsApi(endpoint_url, region, concurrency=POST_CONCURRENCY)
        self.pool = ThreadPoolExecutor(max_workers=POST_CONCURRENCY, thread_name_prefix="ws-publish")
        self._known: dict[str, tuple[int, float, list[_Subscriber]]] = {}  # channel -> (changes, read at, subs)

    # --- sending ---------------------------------------------------------------------------

    def post(self, connection_id: str, message: dict) -> bool:
        """False if the connection is gone (and it has been forgotten)."""
        return self.post_all(connection_id, [message])

    def post_all(self, connection_id: str, messages: Iterable[dict]) -> bool:
        """Post `messages` in order, in one hand-off to `api` (not a botocore call each); False if the
        connection is gone (and it has been forgotten). Raises Unavailable if they could not be sent."""
        frames = [_dumps(message) for message in messages]
        if not frames:
            return True
        outcome = self.api.post_many({connection_id: frames})[connection_id]
        if outcome is Outcome.GONE:
            store.forget_connection(connection_id)
            return False
        if outcome is not Outcome.SENT:
            raise Unavailable("The WebSocket management API did not take the message", code="ws_unavailable")
        return True

    def close(self, connection_id: str, reason: str) -> None:
        """Tell the client why, close the connection (DeleteConnection) and forget it."""
        self.post(connection_id, {"type": "closing", "reason": reason})
        self._delete(connection_id)

    def _delete(self, connection_id: str) -> None:
        try:
            self.client.delete_connection(ConnectionId=connection_id)
        except self.client.exceptions.GoneException:
            pass
        store.forget_connection(connection_id)

    def _deliver(self, frames: dict[str, list[bytes]]) -> None:
        """Post each connection its frames at once; forget the connections found gone."""
        for connection_id, outcome in self.api.post_many(frames).items():
            if outcome is Outcome.GONE:
                store.forget_connection(connection_id)

    # --- publishing ------------------------------------------------------------------------

    def publish(self, channel: str, message: dict) -> None:
        self._publish(channel, message, None)

    def publish_many(self, items: list[tuple[str, dict]]) -> None:
        """Publish (channel, message) pairs in order, reading the heads of all their channels in
        BatchGetItem calls: a channel with no head (nobody subscribed since it expired) costs nothing
        more; the others are published as by `publish`."""
        heads = store.changes_many(channel for channel, _ in items)
        for channel, message in items:
            if channel in heads:
                self._guarded(channel, self._publish, channel, message, heads[channel])

    def _publish(self, channel: str, message: dict, changes: int | None) -> None:
        subs = self._subscribers(channel, changes)
        if not subs:
            return
        subs, frames, closing = self._admit(channel, subs)
        source = log_source(channel) if subs and message.get("type") == "log" else None
        claimed = [sub for sub in subs if source is not None and sub.cursor is not None]
        live = [sub for sub in subs if source is None or sub.cursor is None]
        if live:
            # Rendered once for every live subscriber: batches of a channel are published one after
            # another, in offset order, so they go straight out with no write per subscriber.
            rendered = [_dumps(m) for m in (split_log(channel, int(message["offset"]), list(message["lines"]))
                                            if source is not None else [message])]
            for sub in live:
                frames.setdefault(sub.connection_id, []).extend(rendered)
        futures = [self.pool.submit(self._send_claimed, channel, sub, source, message) for sub in claimed]
        try:
            self._deliver(frames)
        except Exception:
            logger.exception("websocket delivery failed", extra={"channel": channel})
        for connection_id in closing:  # told why in `frames` above
            self._guarded(channel, self._delete, connection_id)
        went_live = [self._guarded(channel, future.result) for future in futures]
        if True in went_live:
            # Going live does not move the channel's head (a write per subscribe saved), so the list
            # read before still has these with a cursor: read it again rather than pay a claim and a
            # read for each of them at every batch until it ages out.
            self._known.pop(channel, None)

    def _subscribers(self, channel: str, changes: int | None = None) -> list[_Subscriber]:
        """The channel's subscriptions: those read before while its head has not moved since (and
        they are younger than SUBSCRIBERS_MAX_AGE_S), else one Query. The head is read first (here,
        or by the caller: `changes`) and bumped after each change, so a change is seen here or by
        the subscriber's catch-up."""
        if changes is None:
            changes = store.changes(channel)
        known = self._known.get(channel)
        now = time.monotonic()
        if known is not None and known[0] == changes and now - known[1] < SUBSCRIBERS_MAX_AGE_S:
            return list(known[2])
        subs = _snapshot(store.subscribers(channel))
        if len(self._known) >= 10_000:
            self._known.clear()
        self._known[channel] = (changes, now, subs)
        return list(subs)

    @staticmethod
    def _guarded(channel: str, fn, *args):
        """fn(*args), or None if it raised (logged)."""
        try:
            return fn(*args)
        except Exception:
            logger.exception("websocket delivery failed", extra={"channel": channel})
            return None

    def _admit(self, channel: str, subs: list[_Subscriber]
               ) -> tuple[list[_Subscriber], dict[str, list[bytes]], dict[str, str]]:
        """(the subscriptions still allowed, the notices owed to the others, the connections to
        close with their reason).

        One re-check per principal per batch (itself cached across batches; when the cache has
        expired, the principals' re-checks run concurrently); token expiry is per connection, a
        comparison with the clock."""
        now = time.time()
        allowed: list[_Subscriber] = []
        revoked: list[_Subscriber] = []
        orphans: list[_Subscriber] = []  # their connection is gone: nobody to tell
        closing: dict[str, str] = {}
        owned: list[_Subscriber] = []
        for sub in subs:
            if sub.principal is None:
                orphans.append(sub)
            elif channel_access.expired(sub.token_expires_at, now):
                closing[sub.connection_id] = Verdict.TOKEN_EXPIRED.value
            else:
                owned.append(sub)
        principals = list({id(sub.principal): sub.principal for sub in owned}.values())
        verdicts = dict(zip(map(id, principals),
                            self.pool.map(lambda p: channel_access.recheck(p, channel), principals)))
        for sub in owned:
            verdict = verdicts[id(sub.principal)]
            if verdict is Verdict.DELIVER:
                allowed.append(sub)
            elif verdict is Verdict.ACCESS_REVOKED:
                revoked.append(sub)
            else:
                closing[sub.connection_id] = verdict.value
        if revoked or orphans:
            store.drop_subscriptions([sub.item for sub in revoked + orphans])
        notice = _dumps({"type": "unsubscribed", "channel": channel, "reason": Verdict.ACCESS_REVOKED.value})
        frames = {sub.connection_id: [notice] for sub in revoked}
        if revoked:
            logger.info("subscriptions dropped: access revoked", extra={"channel": channel, "count": len(revoked)})
        for connection_id, reason in closing.items():
            frames[connection_id] = [_dumps({"type": "closing", "reason": reason})]
        return allowed, frames, closing

    def _send_claimed(self, channel: str, sub: _Subscriber, source: LogSource, message: dict) -> bool:
        """Send a batch to a subscription read with a cursor; True if it had gone live since."""
        offset, lines = int(message["offset"]), list(message["lines"])
        end = offset + len(lines)
        return self._claim_and_send(channel, sub.connection_id, sub.cursor, offset, end,
                                    lambda start: owed(channel, source, start, offset, lines))

    def catch_up(self, channel: str, connection_id: str, source: LogSource, cursor: int,
                 then: list[dict] | None = None, end: int | None = None) -> int | None:
        """The resume path: send what the stored log holds from `cursor`, then go live.

        Each range is claimed (cursor advanced under a send lease) before it is sent, and the
        switch to live is conditional on nobody having advanced the cursor since, so a batch
        published meanwhile is sent either here or by the live path, never both. Returns the log's end
        it went live at (None if it did not settle here). `then` (the channel's current state) goes
        out after the stored lines, before going live, and is emptied then (what is left is the
        caller's to send). `end`: the log's end as read after the subscription was announced, for
        the first look."""
        then = then if then is not None else []
        delay = 0.01
        for attempt in range(CLAIM_ATTEMPTS):
            if attempt or end is None:
                end = source.end()
            token = None
            if end > cursor:
                token = store.claim(channel, connection_id, cursor, end, SEND_LEASE_MS)
                if token is not None:
                    try:
                        self.post_all(connection_id, owed(channel, source, cursor, end, []) + then)
                        then.clear()
                    except Exception:
                        store.release(channel, connection_id, token)
                        raise
                    cursor = end
            if token is not None or end <= cursor:
                if then:
                    self.post_all(connection_id, then)
                    then.clear()
                if store.go_live(channel, connection_id, cursor, token):
                    return end
            if token is not None:
                store.release(channel, connection_id, token)
            fresh = store.find_subscription(channel, connection_id)
            if fresh is None or fresh.cursor is None:
                return None
            cursor = int(fresh.cursor)
            if fresh.sending_until is not None and fresh.sending_until > time.time() * 1000:
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
        logger.warning("resume did not settle; the next publish catches up",
                       extra={"channel": channel, "connectionId": connection_id})
        return None

    def _claim_and_send(self, channel: str, connection_id: str, cursor, default_start: int, end: int,
                        messages) -> bool:
        """Claim [cursor, end) on the subscription, then send it. A sender that finds another one
        mid-send waits for it, so ranges reach the client in offset order, each once. True if the
        subscription turned out to be live (no cursor any more)."""
        delay = 0.01
        for _ in range(CLAIM_ATTEMPTS):
            start = int(cursor) if cursor is not None else default_start
            if start >= end:
                return False
            expected = int(cursor) if cursor is not None else None
            token = store.claim(channel, connection_id, expected, end, SEND_LEASE_MS)
            if token is not None:
                try:
                    self.post_all(connection_id, messages(start))
                finally:
                    store.release(channel, connection_id, token)
                return False
            fresh = store.find_subscription(channel, connection_id)
            if fresh is None:
                return False
            if fresh.cursor is None:
                # It went live after we read it: lines before `live_from` were sent by the resume.
                start = max(default_start, int(fresh.live_from if fresh.live_from is not None else default_start))
                if start < end:
                    self.post_all(connection_id, messages(start))
                return True
            cursor = fresh.cursor
            if fresh.sending_until is not None and fresh.sending_until > time.time() * 1000:
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
        logger.warning("gave up sending log lines; the next publish catches up",
                       extra={"channel": channel, "connectionId": connection_id})
        return False


def _owner(sub: Subscription) -> tuple[Principal, float | None] | None:
    """(the principal, its token's expiry) a subscription was made by; items written before
    subscriptions carried it are completed from their connection (None if that is gone)."""
    if sub.user_id is None:
        connection = store.find_connection(sub.connection_id)
        if connection is None:
            return None
        sub.user_id, sub.key_id = connection.user_id, connection.key_id
        sub.scope_team_id, sub.token_expires_at = connection.scope_team_id, connection.token_expires_at
    return (Principal(user_id=sub.user_id, key_id=sub.key_id, scope_team_id=sub.scope_team_id),
            sub.token_expires_at)


def owed(channel: str, source: LogSource, start: int, offset: int, lines: list[str]) -> list[dict]:
    """Messages for lines [start, offset + len(lines)): the stored ones before `offset`, then `lines`."""
    stored = [line for n, line in source.read(start) if n < offset] if start < offset else []
    if start > offset:
        lines = lines[start - offset:]
        offset = start
    return split_log(channel, start, stored + lines) if stored else split_log(channel, offset, lines)


@functools.lru_cache(maxsize=1)
def broadcaster() -> Broadcaster | None:
    settings = get_settings()
    if not settings.ws_management_url:
        return None
    return Broadcaster(settings.ws_management_url, settings.region)


def sink(channel: str, message: dict) -> None:
    """The channels sink: a no-op where no WebSocket API is configured."""
    target = broadcaster()
    if target is not None:
        target.publish(channel, message)


def sink_many(items: list[tuple[str, dict]]) -> None:
    """The channels batch sink (what a `channels.held()` block published)."""
    target = broadcaster()
    if target is not None:
        target.publish_many(items)
