"""The low-level PynamoDB connection that transactions need, built from the models' settings."""
from __future__ import annotations

import functools

from pynamodb.connection import Connection

from chalicelib.db.models import BaseItem


@functools.lru_cache(maxsize=1)
def connection() -> Connection:
    return Connection(region=BaseItem.Meta.region, host=BaseItem.Meta.host)
