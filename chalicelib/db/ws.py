"""WebSocket connections, channel subscriptions and connect tickets in DynamoDB.

Connections and subscriptions expire with API Gateway's 2 h. Subscribers of a channel are one
Query (PK=CHANNEL#{name}); a connection's subscriptions are one Query on GSI1 (CONN#{id}), for
cleanup when it disconnects or is found gone. A used ticket is one item keyed by its hash. Every change
to a channel's subscriptions bumps its `ChannelHead` after the change, so `changes(channel)` tells a
publisher whether the subscribers it read before are still the ones to read.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Iterable

from pynamodb.exceptions import PynamoDBException

from chalicelib.db import keys
from chalicelib.db.conditional import update_if
from chalicelib.db.errors import is_condition_failure, translated
from chalicelib.db.models import ChannelHead, Connection, Subscription, TicketSigningKey, WsTicket, utcnow
from chalicelib.settings import get_settings


def put_connection(connection: Connection) -> None:
    with translated():
        connection.save()


def find_connection(connection_id: str) -> Connection | None:
    with translated():
        try:
            return Connection.get(keys.connection(connection_id), keys.META)
        except Connection.DoesNotExist:
            return None


def subscribe(connection: Connection, channel: str, expires_at: datetime, cursor: int | None,
              announce: bool = True) -> None:
    """Subscribe `connection`; the subscription carries its principal for re-checks on delivery.
    Two calls, not one transaction: moto copies the whole table for every transaction. `announce`
    False leaves bumping the channel's head to the caller (`announce`), which must do it after."""
    connection_id = connection.connection_id
    with translated():
        Subscription(
            keys.channel(channel), keys.connection(connection_id),
            gsi1pk=keys.connection(connection_id), gsi1sk=keys.channel(channel),
            channel=channel, connection_id=connection_id, expires_at=expires_at, cursor=cursor,
            user_id=connection.user_id, key_id=connection.key_id, scope_team_id=connection.scope_team_id,
            token_expires_at=connection.token_expires_at,
        ).save()
    if announce:
        _changed([channel])


def announce(channel: str) -> None:
    """Bump `channel`'s head: publishers read its subscribers again at their next batch."""
    _changed([channel])


def drop_subscriptions(subs: list[Subscription]) -> None:
    """Delete these subscriptions in batches (their access is gone)."""
    with translated(), Subscription.batch_write() as batch:
        for sub in subs:
            batch.delete(Subscription(keys.channel(sub.channel), keys.connection(sub.connection_id)))
    _changed(sub.channel for sub in subs)


def unsubscribe(connection_id: str, channel: str) -> None:
    with translated():
        Subscription(keys.channel(channel), keys.connection(connection_id)).delete()
    _changed([channel])


def subscribers(channel: str) -> list[Subscription]:
    # Consistent: read after the head, it must see every subscription the head counts.
    with translated():
        return list(Subscription.query(keys.channel(channel), consistent_read=True))


def changes(channel: str) -> int:
    """How many times `channel`'s subscriptions changed (0: never, or not since its head expired)."""
    with translated():
        try:
            return int(ChannelHead.get(keys.channel(channel), keys.META, consistent_read=True).changes or 0)
        except ChannelHead.DoesNotExist:
            return 0


def changes_many(channels: Iterable[str]) -> dict[str, int]:
    """`changes` of many channels in BatchGetItem calls of 100 keys (PynamoDB's batch_get asks again
    for UnprocessedKeys); only the channels that have a head are in the answer."""
    by_key = {keys.channel(channel): channel for channel in channels}
    if not by_key:
        return {}
    with translated():
        return {by_key[head.pk]: int(head.changes or 0)
                for head in ChannelHead.batch_get([(pk, keys.META) for pk in by_key], consistent_read=True)}


def _changed(channels: Iterable[str]) -> None:
    expires_at = utcnow() + timedelta(seconds=get_settings().ws_connection_ttl_seconds)
    with translated():
        for channel in set(channels):
            ChannelHead(keys.channel(channel), keys.META).update(actions=[
                ChannelHead.changes.add(1), ChannelHead.expires_at.set(expires_at),
                ChannelHead.kind.set(ChannelHead)])


def claim(channel: str, connection_id: str, expected: int | None, new: int, lease_ms: int) -> int | None:
    """Advance a subscription's log cursor from `expected` to `new` and hold the right to send that
    range for `lease_ms`; returns the lease token (release it after sending), None if lost."""
    now = int(time.time() * 1000)
    token = now + lease_ms
    cursor_is = Subscription.cursor == expected if expected is not None else Subscription.cursor.does_not_exist()
    free = Subscription.sending_until.does_not_exist() | (Subscription.sending_until < now)
    won = update_if(Subscription, keys.channel(channel), keys.connection(connection_id),
                    [Subscription.cursor.set(new), Subscription.sending_until.set(token)],
                    Subscription.pk.exists() & cursor_is & free)
    return token if won else None


def release(channel: str, connection_id: str, token: int) -> None:
    # Fails only if someone took over after our lease ran out: the lease is theirs now.
    update_if(Subscription, keys.channel(channel), keys.connection(connection_id),
              [Subscription.sending_until.remove()], Subscription.sending_until == token)


def go_live(channel: str, connection_id: str, expected: int, token: int | None) -> bool:
    """Switch a caught-up subscription to live delivery (no cursor, no per-batch writes); only if
    nobody advanced its cursor meanwhile, and (token None) nobody holds the send lease."""
    now = int(time.time() * 1000)
    held = Subscription.sending_until == token if token is not None else (
        Subscription.sending_until.does_not_exist() | (Subscription.sending_until < now))
    return update_if(Subscription, keys.channel(channel), keys.connection(connection_id),
                     [Subscription.cursor.remove(), Subscription.sending_until.remove(),
                      Subscription.live_from.set(expected)],
                     Subscription.pk.exists() & (Subscription.cursor == expected) & held)


def find_subscription(channel: str, connection_id: str) -> Subscription | None:
    with translated():
        try:
            return Subscription.get(keys.channel(channel), keys.connection(connection_id), consistent_read=True)
        except Subscription.DoesNotExist:
            return None


def forget_connection(connection_id: str) -> None:
    """Delete the connection and every subscription it holds (idempotent)."""
    channels = []
    with translated():
        for sub in Subscription.gsi1.query(keys.connection(connection_id)):
            sub.delete()
            channels.append(sub.channel)
        Connection(keys.connection(connection_id), keys.META).delete()
    _changed(channels)


def use_ticket(ticket: WsTicket) -> bool:
    """Record that a ticket was used; False if it had been already.

    One conditional put: of two connects racing with the same ticket, exactly one gets True."""
    return _put_if_absent(ticket)


def find_signing_key(purpose: str) -> str | None:
    """The sealed key for `purpose`, None before the first process made it."""
    with translated():
        try:
            return TicketSigningKey.get(keys.signing_key(purpose), keys.META, consistent_read=True).sealed
        except TicketSigningKey.DoesNotExist:
            return None


def create_signing_key(purpose: str, sealed: str) -> bool:
    """Store the sealed key for `purpose` unless one exists (False: another process was first)."""
    return _put_if_absent(TicketSigningKey(keys.signing_key(purpose), keys.META, sealed=sealed))


def _put_if_absent(item) -> bool:
    try:
        item.save(condition=type(item).pk.does_not_exist())
    except PynamoDBException as e:
        if is_condition_failure(e):
            return False
        with translated():
            raise
    return True
