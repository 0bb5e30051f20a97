"""Conditional status transitions with an "active" marker, shared by builds, deploys and servers.

The write is conditional on the status (and attempt) that
was read, so of two racing writers exactly one wins; the marker that lets a scheduled job find the
unfinished items with one Query is put or removed in the same transaction.
"""
from __future__ import annotations

from typing import Callable, Iterable, TypeVar

from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.db.conditional import update_if
from chalicelib.db.connection import connection
from chalicelib.db.errors import is_condition_failure, translated
from chalicelib.db.models import utcnow

M = TypeVar("M", bound=Model)


def transition(find: Callable[[], M | None], model: type[M], marker: Callable[[], Model],
               active: tuple[str, ...], allowed: Iterable[str], to: str, *,
               expect_attempt: int | None = None, **fields) -> M | None:
    """Move the item from one of `allowed` to `to`, setting `fields`; None if it was not in `allowed`."""
    allowed = tuple(allowed)
    has_attempt = hasattr(model, "attempt")
    for _ in range(5):
        item = find()
        if item is None or item.status not in allowed:
            return None
        if expect_attempt is not None and int(item.attempt or 0) != expect_attempt:
            return None
        actions = [model.status.set(to), model.updated_at.set(utcnow())]
        for name, value in fields.items():
            attr = getattr(model, name)
            actions.append(attr.remove() if value is None else attr.set(value))
        condition = model.status == item.status
        if has_attempt:
            condition &= model.attempt == item.attempt
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.update(item, actions, condition=condition, add_version_condition=False)
                if to not in active and item.status in active:
                    tx.delete(marker())
                elif to in active and item.status not in active:
                    tx.save(marker())
        except PynamoDBException as e:
            if is_condition_failure(e):
                continue
            with translated():
                raise
        return find()
    return None


def set_fields(model: type[M], hash_key: str, range_key: str, condition=None, **fields) -> bool:
    """Record facts without changing the status; False when `condition` no longer holds."""
    actions = [getattr(model, n).remove() if v is None else getattr(model, n).set(v) for n, v in fields.items()]
    return update_if(model, hash_key, range_key, actions, condition)
