"""PynamoDB errors translated into the project's exceptions, at the adapter."""
from __future__ import annotations

import contextlib
from typing import Iterator

from pynamodb.exceptions import PynamoDBException, TransactWriteError

from chalicelib.errors import Conflict, Unavailable

CONDITION_FAILED = "ConditionalCheckFailedException"


def is_condition_failure(exc: PynamoDBException) -> bool:
    if exc.cause_response_code == CONDITION_FAILED:
        return True
    if isinstance(exc, TransactWriteError):
        reasons = exc.cancellation_reasons or []
        return any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons)
    return False


@contextlib.contextmanager
def translated(conflict: str = "The resource changed or already exists", code: str = "conflict") -> Iterator[None]:
    """Run store calls; a failed condition becomes Conflict, anything else Unavailable."""
    try:
        yield
    except PynamoDBException as e:
        if is_condition_failure(e):
            raise Conflict(conflict, code=code) from e
        raise Unavailable("The state store is unavailable", code="store_unavailable") from e
