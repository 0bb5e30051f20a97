"""One conditional UpdateItem: True if it applied, False if its condition did not hold."""
from __future__ import annotations

from typing import Sequence

from pynamodb.exceptions import PynamoDBException

from chalicelib.db.errors import is_condition_failure, translated


def update_if(model: type, hash_key: str, range_key: str, actions: Sequence, condition) -> bool:
    try:
        model._get_connection().update_item(hash_key, range_key, actions=actions, condition=condition)
        return True
    except PynamoDBException as e:
        if is_condition_failure(e):
            return False
        with translated():
            raise
