"""Builds in DynamoDB: every status change is one conditional write on the status (and attempt).

A build is on the reaper's list (ActiveBuild) exactly while it is queued or building: the marker is
put and removed in the same transaction as the status, so no unfinished build can be missed.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Iterator

from pynamodb.exceptions import PynamoDBException
from pynamodb.transactions import TransactWrite

from chalicelib.db import keys
from chalicelib.db.conditional import update_if
from chalicelib.db.connection import connection
from chalicelib.db.errors import is_condition_failure, translated
from chalicelib.db.models import ActiveBuild, Build, BuildLogChunk, utcnow
from chalicelib.db.pages import Page, query_page

ACTIVE = ("queued", "building")
TERMINAL = ("succeeded", "failed", "cancelled", "superseded")


def _marker(build_id: str) -> ActiveBuild:
    return ActiveBuild(keys.ACTIVE_BUILDS, build_id, build_id=build_id)


def create(build: Build) -> None:
    with translated("The build already exists", code="build_exists"):
        with TransactWrite(connection=connection()) as tx:
            tx.save(build, condition=Build.pk.does_not_exist())
            tx.save(_marker(build.build_id))


def find(build_id: str) -> Build | None:
    with translated():
        try:
            return Build.get(keys.build(build_id), keys.META, consistent_read=True)
        except Build.DoesNotExist:
            return None


def list_for_deployment(deployment_id: str, limit: int, cursor: str | None) -> Page[Build]:
    with translated():
        return query_page(Build.gsi1.query, "GSI1PK", keys.deployment_builds(deployment_id), limit, cursor,
                          scan_index_forward=False)


def active_ids() -> Iterator[str]:
    with translated():
        for marker in ActiveBuild.query(keys.ACTIVE_BUILDS):
            yield marker.build_id


def transition(build_id: str, allowed: Iterable[str], to: str, *, expect_attempt: int | None = None,
               **fields) -> Build | None:
    """Move a build from one of `allowed` to `to`, setting `fields`; None if it was not in `allowed`.

    The write is conditional on the status (and attempt) that was read, so of two racing writers
    (worker and cancel, worker and reaper) exactly one wins; the loser re-reads and gives up.
    """
    allowed = tuple(allowed)
    for _ in range(5):
        build = find(build_id)
        if build is None or build.status not in allowed:
            return None
        if expect_attempt is not None and build.attempt != expect_attempt:
            return None
        now = utcnow()
        actions = [Build.status.set(to), Build.updated_at.set(now)]
        for name, value in fields.items():
            attr = getattr(Build, name)
            actions.append(attr.remove() if value is None else attr.set(value))
        condition = (Build.status == build.status) & (Build.attempt == build.attempt)
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.update(build, actions, condition=condition, add_version_condition=False)
                if to in TERMINAL:
                    tx.delete(_marker(build_id))
                elif build.status in TERMINAL:
                    tx.save(_marker(build_id))
        except PynamoDBException as e:
            if is_condition_failure(e):
                continue
            with translated():
                raise
        return find(build_id)
    return None


def drop_marker(build_id: str) -> None:
    with translated():
        _marker(build_id).delete()


def renew_lease(build_id: str, attempt: int, until: datetime) -> bool:
    """The worker's heartbeat; False once the build is no longer this attempt's (cancelled, reaped)."""
    return update_if(Build, keys.build(build_id), keys.META, [Build.lease_expires_at.set(until)],
                     (Build.status == "building") & (Build.attempt == attempt))


def set_fields(build_id: str, attempt: int, **fields) -> bool:
    """Record facts of a running attempt (external id, log lines) without changing its status."""
    return update_if(Build, keys.build(build_id), keys.META, [getattr(Build, n).set(v) for n, v in fields.items()],
                     Build.attempt == attempt)


def append_log(build_id: str, offset: int, lines: list[str]) -> None:
    """Idempotent: a chunk is keyed by its first line's offset, so a retried flush overwrites itself."""
    with translated():
        BuildLogChunk(keys.build(build_id), keys.build_log_sk(offset), offset=offset, lines=lines).save()


def read_log(build_id: str, since: int = 0) -> Iterator[tuple[int, str]]:
    """(offset, line) from `since` on, in order."""
    with translated():
        chunks = BuildLogChunk.query(
            keys.build(build_id), BuildLogChunk.sk.startswith(keys.LOG_PREFIX), consistent_read=True)
        for chunk in chunks:
            for i, line in enumerate(chunk.lines or []):
                if chunk.offset + i >= since:
                    yield chunk.offset + i, line


def next_log_offset(build_id: str) -> int:
    with translated():
        for chunk in BuildLogChunk.query(
            keys.build(build_id), BuildLogChunk.sk.startswith(keys.LOG_PREFIX),
            scan_index_forward=False, limit=1, consistent_read=True,
        ):
            return chunk.offset + len(chunk.lines or [])
    return 0
