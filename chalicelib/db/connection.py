"""The low-level PynamoDB connection that transactions need, built from the models' settings."""
from __future__ import annotations

import functools

from pynamodb.connection import Connection

from chalicelib.db.models import BaseItem, configure_tables


def connection() -> Connection:
    configure_tables()
    return _connection(BaseItem.Meta.region, BaseItem.Meta.host)


@functools.lru_cache(maxsize=4)
def _connection(region: str, host: str | None) -> Connection:
    return Connection(region=region, host=host)
