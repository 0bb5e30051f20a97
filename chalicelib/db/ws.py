"""WebSocket connections and channel subscriptions in DynamoDB, expiring with API Gateway's 2 h.

Subscribers of a channel are one Query (PK=CHANNEL#{name}); a connection's subscriptions are one
Query on GSI1 (CONN#{id}), for cleanup when it disconnects or is found gone.
"""
from __future__ import annotations

import time
from datetime import datetime

from chalicelib.db import keys
from chalicelib.db.conditional import update_if
from chalicelib.db.errors import translated
from chalicelib.db.models import Connection, Subscription


def put_connection(connection: Connection) -> None:
    with translated():
        connection.save()


def find_connection(connection_id: str) -> Connection | None:
    with translated():
        try:
            return Connection.get(keys.connection(connection_id), keys.META)
        except Connection.DoesNotExist:
            return None


def subscribe(connection_id: str, channel: str, expires_at: datetime, cursor: int | None) -> None:
    with translated():
        Subscription(
            keys.channel(channel), keys.connection(connection_id),
            gsi1pk=keys.connection(connection_id), gsi1sk=keys.channel(channel),
            channel=channel, connection_id=connection_id, expires_at=expires_at, cursor=cursor,
        ).save()


def unsubscribe(connection_id: str, channel: str) -> None:
    with translated():
        Subscription(keys.channel(channel), keys.connection(connection_id)).delete()


def subscribers(channel: str) -> list[Subscription]:
    with translated():
        return list(Subscription.query(keys.channel(channel)))


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
    with translated():
        for sub in Subscription.gsi1.query(keys.connection(connection_id)):
            sub.delete()
        Connection(keys.connection(connection_id), keys.META).delete()
