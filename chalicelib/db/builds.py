"""Builds in DynamoDB: every status change is one conditional write on the status (and attempt).

A build is on the reaper's list (ActiveBuild) exactly while it is queued or building: the marker is
put and removed in the same transaction as the status, so no unfinished build can be missed.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterator

from chalicelib.db import keys, lifecycle
from chalicelib.db.conditional import update_if
from chalicelib.db.errors import translated
from chalicelib.db.models import ActiveBuild, Build, BuildLogChunk
from chalicelib.db.statuses import BUILD_ACTIVE as ACTIVE, BUILD_TERMINAL as TERMINAL, BuildStatus


_builds = lifecycle.ActiveItems(Build, ActiveBuild, "build_id", ACTIVE, key=keys.build,
                                per_deployment=keys.deployment_builds, active_partition=keys.ACTIVE_BUILDS)
create, find, list_for_deployment = _builds.create, _builds.find, _builds.list_for_deployment
active_ids, transition, drop_marker = _builds.active_ids, _builds.transition, _builds.drop_marker
claim = _builds.claim


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
