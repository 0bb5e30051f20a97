"""Builds in DynamoDB: every status change is one conditional write on the status (and attempt).

A build is on the reaper's list (ActiveBuild) exactly while it is queued or building: the marker is
put and removed in the same transaction as the status, so no unfinished build can be missed.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterator

from pynamodb.exceptions import PynamoDBException
from pynamodb.transactions import TransactWrite

from chalicelib.db import keys, lifecycle
from chalicelib.db.connection import connection
from chalicelib.db.conditional import applied, update_if
from chalicelib.db.errors import is_condition_failure, translated
from chalicelib.db.models import ActiveBuild, Build, BuildLogChunk, utcnow
from chalicelib.db.statuses import BUILD_ACTIVE as ACTIVE, BUILD_TERMINAL as TERMINAL, BuildStatus


_builds = lifecycle.ActiveItems(Build, ActiveBuild, "build_id", ACTIVE, key=keys.build,
                                per_deployment=keys.deployment_builds, active_partition=keys.ACTIVE_BUILDS)
create, find, list_for_deployment = _builds.create, _builds.find, _builds.list_for_deployment
active_ids, transition, drop_marker = _builds.active_ids, _builds.transition, _builds.drop_marker


def claim(build_id: str, lease_seconds: float, **fields) -> tuple[Build | None, str | None]:
    """queued -> building as the build's next attempt, holding a lease of `lease_seconds`: (the claimed
    build, None), or (None, why not: "missing", "skipped ({status})").

    One UpdateItem, conditional on `queued` alone, that returns the new item: of racing workers (a
    duplicated message, a re-queue) exactly one moves the build and counts its attempt up. Both
    statuses are active, so the reaper's marker stays as it is.
    """
    now = utcnow()
    actions = [Build.status.set(BuildStatus.BUILDING), Build.attempt.add(1), Build.started_at.set(now),
               Build.lease_expires_at.set(now + timedelta(seconds=lease_seconds)), Build.updated_at.set(now),
               *(getattr(Build, n).remove() if v is None else getattr(Build, n).set(v) for n, v in fields.items())]
    item = Build(keys.build(build_id), keys.META, version=0)  # the update adds one to the stored version
    if applied(lambda: item.update(actions, condition=Build.status == BuildStatus.QUEUED,
                                   add_version_condition=False)):
        return item, None
    current = find(build_id)
    return None, "missing" if current is None else f"skipped ({current.status})"


def record_result(build: Build, attempt: int, to: str, log_chunk: tuple[int, list[str]], **fields) -> Build | None:
    """building -> `to` (terminal) for the attempt that owns the build, in one TransactWriteItems: the
    status and `fields`, the reaper's marker removed, and the log's last chunk (offset, lines; none
    if empty) stored. None, and nothing written, if the build is no longer this attempt's (cancelled,
    reaped).

    Returns `build` with what was written applied, not read back; its version is the one it was read
    with, behind the stored one, so saving it would fail its version condition.
    """
    now = utcnow()
    values = {"status": to, "updated_at": now, **fields}
    actions = [getattr(Build, n).remove() if v is None else getattr(Build, n).set(v) for n, v in values.items()]
    offset, lines = log_chunk
    try:
        with TransactWrite(connection=connection()) as tx:
            # version 0, not unknown: the update adds one to the stored version (see db/conditional.py)
            tx.update(Build(keys.build(build.build_id), keys.META, version=0), actions,
                      condition=(Build.status == BuildStatus.BUILDING) & (Build.attempt == attempt),
                      add_version_condition=False)
            tx.delete(ActiveBuild(keys.ACTIVE_BUILDS, build.build_id, build_id=build.build_id))
            if lines:
                tx.save(BuildLogChunk(keys.build(build.build_id), keys.build_log_sk(offset), offset=offset,
                                      lines=lines))
    except PynamoDBException as e:
        if is_condition_failure(e):
            return None
        with translated():
            raise
    recorded = Build.from_raw_data(build.serialize())
    for name, value in values.items():
        setattr(recorded, name, value)
    return recorded


def renew_lease(build_id: str, attempt: int, until: datetime) -> bool:
    """The worker's heartbeat; False once the build is no longer this attempt's (cancelled, reaped)."""
    return update_if(Build, keys.build(build_id), keys.META, [Build.lease_expires_at.set(until)],
                     (Build.status == BuildStatus.BUILDING) & (Build.attempt == attempt))


def set_fields(build_id: str, attempt: int, **fields) -> bool:
    """Record facts of a running attempt (external id, log lines) without changing its status."""
    return _builds.set_fields(build_id, Build.attempt == attempt, **fields)


LOG_PAGE_CHUNKS = 64


def append_log(build_id: str, offset: int, lines: list[str]) -> None:
    """Idempotent: a chunk is keyed by its first line's offset, so a retried flush overwrites itself."""
    with translated():
        BuildLogChunk(keys.build(build_id), keys.build_log_sk(offset), offset=offset, lines=lines).save()


def read_log(build_id: str, since: int = 0) -> Iterator[tuple[int, str]]:
    """(offset, line) from `since` on, in order; the Query starts at the chunk holding `since`."""
    first_sk = keys.build_log_sk(0)
    with translated():
        if since > 0:
            for holder in BuildLogChunk.query(
                keys.build(build_id), BuildLogChunk.sk.between(first_sk, keys.build_log_sk(since)),
                scan_index_forward=False, limit=1, consistent_read=True,
            ):
                first_sk = keys.build_log_sk(holder.offset)
        # Small pages: a reader stops after one API page (5,000 lines, ~50 chunks); without a page size the
        # first call reads up to 1 MB of chunks (and moto evaluates every chunk of a long log per call).
        chunks = BuildLogChunk.query(
            keys.build(build_id), BuildLogChunk.sk.between(first_sk, keys.build_log_sk(10**10 - 1)),
            consistent_read=True, page_size=LOG_PAGE_CHUNKS)
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
