"""One conditional update, through PynamoDB's public `Model.update`: True if it applied, False if its
condition did not hold.

The item is not read first: the update is made on an instance that carries only its keys, so the
write is conditional on `condition` alone. On a versioned model `Model.update` always moves the
version (a save by someone who read the item before gets a version conflict); the instance's version
is 0, not unknown, so that the update adds one to the stored version instead of resetting it to 1.
"""
from __future__ import annotations

from typing import Callable, Sequence

from pynamodb.attributes import VersionAttribute
from pynamodb.exceptions import PynamoDBException

from chalicelib.db.errors import is_condition_failure, translated


def update_if(model: type, hash_key: str, range_key: str, actions: Sequence, condition) -> bool:
    item = model(hash_key, range_key)
    for name, attr in model.get_attributes().items():
        if isinstance(attr, VersionAttribute):
            setattr(item, name, 0)
    return applied(lambda: item.update(list(actions), condition=condition, add_version_condition=False))


def applied(write: Callable[[], object]) -> bool:
    """Run one conditional write (a put or an update): True if it applied, False if its condition did not hold."""
    try:
        write()
        return True
    except PynamoDBException as e:
        if is_condition_failure(e):
            return False
        with translated():
            raise
