"""Builds in DynamoDB: every status change is one conditional write on the status (and attempt).

A build is on the reaper's list (ActiveBuild) exactly while it is queued or building: the marker is
put and removed in the same transaction as the status, so no unfinished build can be missed.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Iterator

from pynamodb.transactions import TransactWrite

from chalicelib.db import keys, lifecycle
from chalicelib.db.conditional import update_if
from chalicelib.db.connection import connection
from chalicelib.db.errors import translated
from chalicelib.db.models import ActiveBuild, Build, BuildLogChunk
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

    Of two racing writers (worker and cancel, worker and reaper) exactly one wins; the loser re-reads
    and gives up (see chalicelib/db/lifecycle.py).
    """
    return lifecycle.transition(lambda: find(build_id), Build, lambda: _marker(build_id), ACTIVE,
                                allowed, to, expect_attempt=expect_attempt, **fields)


def drop_marker(build_id: str) -> None:
    with translated():
        _marker(build_id).delete()


def renew_lease(build_id: str, attempt: int, until: datetime) -> bool:
    """The worker's heartbeat; False once the build is no longer this attempt's (cancelled, reaped)."""
    return update_if(Build, keys.build(build_id), keys.META, [Build.lease_expires_at.set(until)],
                     (Build.status == "building") & (Build.attempt == attempt))


def set_fields(build_id: str, attempt: int, **fields) -> bool:
    """Record facts of a running attempt (external id, log lines) without changing its status."""
    return lifecycle.set_fields(Build, keys.build(build_id), keys.META, condition=Build.attempt == attempt, **fields)


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
        chunks = BuildLogChunk.query(
            keys.build(build_id), BuildLogChunk.sk.between(first_sk, keys.build_log_sk(10**10 - 1)),
            consistent_read=True)
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
