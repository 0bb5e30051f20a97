"""Items with an "active" marker (builds, deploys, servers): one repository, three instances.

Every status change is a write conditional on the status (and attempt) that was read, so of two
racing writers exactly one wins; the marker that lets a scheduled job find the unfinished items with
one Query is put or removed in the same transaction.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Callable, Generic, Iterable, Iterator, TypeVar

from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.db import keys
from chalicelib.db.conditional import update_if
from chalicelib.db.connection import connection
from chalicelib.db.errors import is_condition_failure, translated
from chalicelib.db.models import utcnow
from chalicelib.db.pages import Page, query_page

M = TypeVar("M", bound=Model)


class ActiveItems(Generic[M]):
    """The store of one kind of item keyed {key(id)} / #META and listed per deployment on GSI1, with
    a marker item ({active_partition} / {id}) that exists exactly while its status is in `active`."""

    def __init__(self, model: type[M], marker: type[Model], id_name: str, active: tuple[str, ...], *,
                 key: Callable[[str], str], per_deployment: Callable[[str], str], active_partition: str):
        self.model, self.marker_model, self.id_name, self.active = model, marker, id_name, active
        self.key, self.per_deployment, self.active_partition = key, per_deployment, active_partition
        self.noun = id_name.removesuffix("_id")  # "build_id": "The build already exists", build_exists

    def _marker(self, item_id: str) -> Model:
        return self.marker_model(self.active_partition, item_id, **{self.id_name: item_id})

    def create(self, item: M) -> None:
        with translated(f"The {self.noun} already exists", code=f"{self.noun}_exists"):
            with TransactWrite(connection=connection()) as tx:
                tx.save(item, condition=self.model.pk.does_not_exist())
                tx.save(self._marker(getattr(item, self.id_name)))

    def find(self, item_id: str) -> M | None:
        with translated():
            try:
                return self.model.get(self.key(item_id), keys.META, consistent_read=True)
            except self.model.DoesNotExist:
                return None

    def list_for_deployment(self, deployment_id: str, limit: int, cursor: str | None) -> Page[M]:
        with translated():
            return query_page(self.model.gsi1.query, "GSI1PK", self.per_deployment(deployment_id), limit, cursor,
                              scan_index_forward=False)

    def find_many(self, item_ids: Iterable[str]) -> dict[str, M]:
        """id -> item for those that exist: BatchGetItem, 100 keys a call (a shard's read in one call)."""
        return find_many(self.model, self.key, self.id_name, item_ids)

    def active_ids(self) -> Iterator[str]:
        with translated():
            for marker in self.marker_model.query(self.active_partition):
                yield getattr(marker, self.id_name)

    def drop_marker(self, item_id: str) -> None:
        with translated():
            self._marker(item_id).delete()

    def transition(self, item_id: str, allowed: Iterable[str], to: str, *, expect_attempt: int | None = None,
                   **fields) -> M | None:
        """Move the item from one of `allowed` to `to`, setting `fields` (None removes one); None if it
        was not in `allowed` (or not at `expect_attempt`).

        Of two racing writers (worker and cancel, worker and reaper) exactly one wins; the loser
        re-reads and gives up.
        """
        model, allowed = self.model, tuple(allowed)
        has_attempt = hasattr(model, "attempt")
        for _ in range(5):
            item = self.find(item_id)
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
                    if to not in self.active and item.status in self.active:
                        tx.delete(self._marker(item_id))
                    elif to in self.active and item.status not in self.active:
                        tx.save(self._marker(item_id))
            except PynamoDBException as e:
                if is_condition_failure(e):
                    continue
                with translated():
                    raise
            return self.find(item_id)
        return None

    def claim(self, item_id: str, from_status: str, to: str, lease_seconds: float,
              **fields) -> tuple[M | None, str | None]:
        """A worker takes the item from `from_status` to `to` as its next attempt, holding a lease of
        `lease_seconds`: (the claimed item, which carries the attempt that now owns it, None), or
        (None, why not: "missing", "skipped ({status})", "lost the claim" to another worker or a cancel).
        """
        item = self.find(item_id)
        if item is None:
            return None, "missing"
        if item.status != from_status:
            return None, f"skipped ({item.status})"
        attempt, now = int(item.attempt or 0), utcnow()
        claimed = self.transition(item_id, (from_status,), to, expect_attempt=attempt, attempt=attempt + 1,
                                  started_at=now, lease_expires_at=now + timedelta(seconds=lease_seconds), **fields)
        return (claimed, None) if claimed is not None else (None, "lost the claim")

    def set_fields(self, item_id: str, condition, **fields) -> bool:
        """Record facts without changing the status; False when `condition` no longer holds."""
        actions = [getattr(self.model, n).remove() if v is None else getattr(self.model, n).set(v)
                   for n, v in fields.items()]
        return update_if(self.model, self.key(item_id), keys.META, actions, condition)


def find_many(model: type[M], key: Callable[[str], str], id_name: str, item_ids: Iterable[str]) -> dict[str, M]:
    """id -> item ({key(id)} / #META) for the ids that exist, read in BatchGetItem calls of 100 keys."""
    wanted = list(dict.fromkeys(item_ids))
    if not wanted:
        return {}
    with translated():
        return {getattr(item, id_name): item for item in model.batch_get([(key(i), keys.META) for i in wanted])}
