"""WebSocket connections, channel subscriptions and connect tickets in DynamoDB.

Connections and subscriptions expire with API Gateway's 2 h. Subscribers of a channel are one
Query (PK=CHANNEL#{name}); a connection's subscriptions are one Query on GSI1 (CONN#{id}), for
cleanup when it disconnects or is found gone. A ticket is one item keyed by its hash.
"""
from __future__ import annotations

import time
from datetime import datetime

from pynamodb.exceptions import PynamoDBException

from chalicelib.db import keys
from chalicelib.db.conditional import update_if
from chalicelib.db.errors import is_condition_failure, translated
from chalicelib.db.models import Connection, Subscription, WsTicket, utcnow


def put_connection(connection: Connection) -> None:
    with translated():
        connection.save()


def find_connection(connection_id: str) -> Connection | None:
    with translated():
        try:
            return Connection.get(keys.connection(connection_id), keys.META)
        except Connection.DoesNotExist:
            return None


def subscribe(connection: Connection, channel: str, expires_at: datetime, cursor: int | None) -> None:
    """Subscribe `connection`; the subscription carries its principal for re-checks on delivery."""
    connection_id = connection.connection_id
    with translated():
        Subscription(
            keys.channel(channel), keys.connection(connection_id),
            gsi1pk=keys.connection(connection_id), gsi1sk=keys.channel(channel),
            channel=channel, connection_id=connection_id, expires_at=expires_at, cursor=cursor,
            user_id=connection.user_id, key_id=connection.key_id, scope_team_id=connection.scope_team_id,
            token_expires_at=connection.token_expires_at,
        ).save()


def drop_subscriptions(subs: list[Subscription]) -> None:
    """Delete these subscriptions in batches (their access is gone)."""
    with translated(), Subscription.batch_write() as batch:
        for sub in subs:
            batch.delete(Subscription(keys.channel(sub.channel), keys.connection(sub.connection_id)))


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


def put_ticket(ticket: WsTicket) -> None:
    with translated("The ticket already exists"):
        ticket.save(condition=WsTicket.pk.does_not_exist())


def consume_ticket(ticket_hash: str) -> WsTicket | None:
    """Mark the ticket used and return it; None if it does not exist or was used already.

    One conditional write: of two connects racing with the same ticket, exactly one gets it."""
    ticket = WsTicket(keys.ws_ticket(ticket_hash), keys.META)
    try:
        ticket.update([WsTicket.consumed_at.set(utcnow())],
                      condition=WsTicket.pk.exists() & WsTicket.consumed_at.does_not_exist())
    except PynamoDBException as e:
        if is_condition_failure(e):
            return None
        with translated():
            raise
    return ticket
