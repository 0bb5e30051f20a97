"""The reaper: no build stays queued or building forever.

Runs every minute (a Chalice schedule in AWS, the supervisor's timer locally, and once when the
local stack starts). For every unfinished build (one Query on the ActiveBuild markers):
- building with an expired lease: ask the runner that ran it. Still running (CodeBuild) extends
  the lease; finished records the result; lost kills what is left and re-queues the build, or
  fails it with a reason once it has used its attempts;
- queued too long: re-send its message (a lost send), and fail it past the queue limit.
Every decision is a conditional write, so a reaper racing a worker (or another reaper) is safe.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.db import builds as store
from chalicelib.db.models import Build, utcnow
from chalicelib.db.statuses import BuildStatus
from chalicelib.control_plane_log import logger
from chalicelib.runners.factory import runner_named
from chalicelib.services.builds.logs import note, store_full_log
from chalicelib.services.builds.trigger import deploy_after, enqueue, publish_status
from chalicelib.settings import Settings, get_settings


@dataclass(frozen=True)
class Action:
    build_id: str
    action: str


def reap(now: datetime | None = None) -> list[Action]:
    settings = get_settings()
    now = now or utcnow()
    actions: list[Action] = []
    for build_id in list(store.active_ids()):
        try:
            action = _reap_one(build_id, now, settings)
        except Exception:
            logger.exception("reaping a build failed", extra={"buildId": build_id})
            action = "error"
        if action:
            actions.append(Action(build_id, action))
    return actions


def reap_one(build_id: str) -> str | None:
    """One build, as a shard of the reaper's fan-out does it (chalicelib/workers/shards.py)."""
    return _reap_one(build_id, utcnow(), get_settings())


def _reap_one(build_id: str, now: datetime, settings: Settings) -> str | None:
    build = store.find(build_id)
    if build is None or build.status in store.TERMINAL:
        store.drop_marker(build_id)
        return "dropped marker"
    if build.status == BuildStatus.QUEUED:
        return _reap_queued(build, now, settings)
    if build.lease_expires_at is not None and build.lease_expires_at > now:
        return None
    runner = runner_named(build.runner)
    check = runner.check(build)
    attempt = int(build.attempt or 0)
    if check.state == "running":
        store.renew_lease(build_id, attempt, now + timedelta(seconds=settings.build_lease_seconds))
        return "still running"
    if check.state == "finished" and check.outcome is not None:
        return _record(build, check.outcome.status, check.outcome.reason, now, **check.outcome.artifact_fields())
    runner.stop(build)  # kill whatever the lost worker left running
    if attempt < settings.build_max_attempts:
        moved = store.transition(build_id, (BuildStatus.BUILDING,), BuildStatus.QUEUED, expect_attempt=attempt,
                                 queued_at=now, enqueued_at=now, lease_expires_at=None,
                                 reason=f"worker lost on attempt {attempt}; re-queued")
        if moved is None:
            return None
        note(moved, f"reaper: the worker of attempt {attempt} stopped renewing its lease; re-queued")
        publish_status(moved)
        enqueue(build_id)
        return "re-queued"
    return _record(build, BuildStatus.FAILED, f"worker lost: lease expired on attempt {attempt} of "
                                    f"{settings.build_max_attempts}", now)


def _record(build: Build, status: str, reason: str | None, now: datetime, **fields) -> str | None:
    note(build, f"reaper: build {status}" + (f": {reason}" if reason else ""))
    key = store_full_log(build)
    moved = store.transition(build.build_id, (build.status,), status, expect_attempt=int(build.attempt or 0),
                             finished_at=now, reason=reason, lease_expires_at=None, log_key=key, **fields)
    if moved is None:
        return None
    publish_status(moved)
    deploy_after(moved)  # a CodeBuild build whose completion event was lost still deploys
    return status


def _reap_queued(build: Build, now: datetime, settings: Settings) -> str | None:
    waited = now - (build.queued_at or build.created_at)
    if waited > timedelta(seconds=settings.build_queue_limit_seconds):
        return _record(build, BuildStatus.FAILED,
                       f"waited more than {settings.build_queue_limit_seconds} s in the queue without a worker", now)
    last_sent = build.enqueued_at or build.queued_at or build.created_at
    if now - last_sent > timedelta(seconds=max(settings.build_lease_seconds, settings.build_queue_limit_seconds / 3)):
        # The message may have been lost (a failed send); a duplicate is harmless.
        if store.set_fields(build.build_id, int(build.attempt or 0), enqueued_at=now):
            enqueue(build.build_id)
            return "re-sent"
    return None

