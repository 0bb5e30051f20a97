"""Cursor pagination over one Query: the cursor is the opaque last evaluated key."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterable, TypeVar

from chalicelib.errors import BadRequest

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, partition_attr: str, partition_value: str) -> dict[str, Any] | None:
    """A cursor is only valid for the partition it came from: anything else is a 400, not a leak."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as e:
        raise BadRequest("The cursor is malformed", code="invalid_cursor") from e
    valid = (
        isinstance(key, dict)
        and all(isinstance(v, dict) and len(v) == 1 and isinstance(v.get("S"), str) for v in key.values())
        and key.get(partition_attr, {}).get("S") == partition_value
    )
    if not valid:
        raise BadRequest("The cursor does not belong to this list", code="invalid_cursor")
    return key


def query_page(
    query: Callable[..., Iterable[T]],
    partition_attr: str,
    partition_value: str,
    limit: int,
    cursor: str | None,
    **kwargs: Any,
) -> Page[T]:
    """One Query per page. `query` is a PynamoDB query method bound to its hash key value."""
    start = decode_cursor(cursor, partition_attr, partition_value)
    result = query(partition_value, limit=limit, last_evaluated_key=start, page_size=limit, **kwargs)
    items = list(result)
    return Page(items=items, next_cursor=encode_cursor(result.last_evaluated_key if items else None))
