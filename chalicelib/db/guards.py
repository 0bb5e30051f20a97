"""Release guards in DynamoDB: the guard item, its sweep marker, and the events of guards that acted.

Every change the evaluator makes is conditional: an evaluation is recorded only while the guard has
not acted on the build it judged, and a breach acts only through the one write that moves
`actedOnBuildId` to that build (two evaluators judging the same window: one rollback).

Nothing outlives the deployment: `forget` removes the guard, its marker and its events, and every
evaluator write is conditional on the guard existing (its event is written in one transaction with
the guard's update), so an evaluation racing the delete neither recreates the guard nor leaves an
event behind.
"""
from __future__ import annotations

import json
from datetime import datetime

from pynamodb.transactions import TransactWrite

from chalicelib.db import keys
from chalicelib.db.conditional import applied, update_if
from chalicelib.db.connection import connection
from chalicelib.db.errors import translated
from chalicelib.db.models import ActiveGuard, BaseItem, Deploy, Guard, GuardEvent, utcnow
from chalicelib.db.pages import Page, query_page
from chalicelib.ids import ulid


def find(deployment_id: str) -> Guard | None:
    with translated():
        try:
            return Guard.get(keys.deployment(deployment_id), keys.GUARD_SK, consistent_read=True)
        except Guard.DoesNotExist:
            return None


def save_settings(guard: Guard) -> None:
    """The guard's settings with its sweep marker (present exactly while it is on), in one transaction."""
    marker = ActiveGuard(keys.ACTIVE_GUARDS, guard.deployment_id, deployment_id=guard.deployment_id)
    with translated("The guard was changed by someone else; retry", code="version_conflict"):
        with TransactWrite(connection=connection()) as tx:
            tx.save(guard)
            if guard.enabled:
                tx.save(marker)
            else:
                tx.delete(marker)


def active_ids():
    with translated():
        for marker in ActiveGuard.query(keys.ACTIVE_GUARDS):
            yield marker.deployment_id


def drop_marker(deployment_id: str) -> None:
    with translated():
        ActiveGuard(keys.ACTIVE_GUARDS, deployment_id).delete()


def _update(deployment_id: str, actions: list, condition) -> bool:
    return update_if(Guard, keys.deployment(deployment_id), keys.GUARD_SK,
                     [*actions, Guard.updated_at.set(utcnow())], Guard.pk.exists() & condition)


def _not_acted_on(build_id: str):
    return Guard.acted_on_build_id.does_not_exist() | (Guard.acted_on_build_id != build_id)


def record(deployment_id: str, build_id: str | None, evaluation: dict, overridden: bool = False) -> bool:
    """Store an evaluation that did not act; False if the guard already acted on `build_id` (its
    breach stays the last word on that build) or is off. `overridden`: the verdict on a build the
    guard rejected and a person deployed again, stored whatever the guard acted on."""
    condition = Guard.enabled == 1
    if build_id and not overridden:
        condition &= _not_acted_on(build_id)
    return _update(deployment_id, [Guard.last_evaluation.set(json.dumps(evaluation)), Guard.evaluations.add(1)],
                   condition)


def count(deployment_id: str) -> None:
    """An evaluation that found nothing to judge or record (its verdict stands): counted only, so
    `evaluations` shows the guard is still looking."""
    _update(deployment_id, [Guard.evaluations.add(1)], Guard.enabled == 1)


def claim_breach(deployment_id: str, build_id: str, evaluation: dict) -> bool:
    """The one write that lets a breach of `build_id` act: True for exactly one of racing evaluators."""
    return _update(deployment_id, [Guard.acted_on_build_id.set(build_id), Guard.last_evaluation.set(json.dumps(evaluation)),
                                   Guard.evaluations.add(1),
                                   Guard.rejected_build_ids.set((Guard.rejected_build_ids | []).append([build_id]))],
                   (Guard.enabled == 1) & _not_acted_on(build_id))


def release_breach(deployment_id: str, build_id: str) -> bool:
    """Undo a claim whose rollback could not be queued, so that the next evaluation acts again."""
    return _update(deployment_id, [Guard.acted_on_build_id.remove()], Guard.acted_on_build_id == build_id)


def debounce(deployment_id: str, now: datetime, until: datetime) -> bool:
    """True for the first caller since `nextCheckAt` passed (then moved to `until`): one check after
    ingest per deployment per interval, whichever process ingested."""
    return _update(deployment_id, [Guard.next_check_at.set(until)],
                   (Guard.enabled == 1) & (Guard.next_check_at.does_not_exist() | (Guard.next_check_at <= now)))


def record_rollback(deployment_id: str, team_id: str, build_id: str, deploy_id: str,
                    evaluation: dict) -> GuardEvent | None:
    """The evaluation with its rollback, and the event of the guard that acted, in one transaction
    conditional on the guard (still there, still acting on `build_id`); None when it is not (its
    deployment was deleted meanwhile): nothing is left behind."""
    event_id = "gev_" + ulid()
    now = utcnow()
    event = GuardEvent(keys.guard_event(event_id), keys.META, gsi1pk=keys.deployment_deploys(deployment_id),
                       gsi1sk=keys.sorted_by_time(now.isoformat(), event_id), event_id=event_id,
                       deployment_id=deployment_id, team_id=team_id, build_id=build_id, deploy_id=deploy_id,
                       evaluation=json.dumps(evaluation), created_at=now, updated_at=now)
    guard = Guard(keys.deployment(deployment_id), keys.GUARD_SK, version=0)  # moves the stored version by one

    def write() -> None:
        with TransactWrite(connection=connection()) as tx:
            tx.update(guard, [Guard.last_evaluation.set(json.dumps(evaluation)), Guard.updated_at.set(now)],
                      condition=Guard.pk.exists() & (Guard.acted_on_build_id == build_id), add_version_condition=False)
            tx.save(event, condition=GuardEvent.pk.does_not_exist())

    return event if applied(write) else None


def forget(deployment_id: str) -> None:
    """Remove the deployment's guard, its sweep marker and its events; safe to repeat. Called before
    the deployment itself goes, so a delete that fails later is retried whole: the guard first, so
    that no evaluation can add an event once the events are being removed."""
    with translated():
        with TransactWrite(connection=connection()) as tx:
            tx.delete(Guard(keys.deployment(deployment_id), keys.GUARD_SK), add_version_condition=False)
            tx.delete(ActiveGuard(keys.ACTIVE_GUARDS, deployment_id))
        events = [i for i in BaseItem.gsi1.query(keys.deployment_deploys(deployment_id)) if isinstance(i, GuardEvent)]
        with GuardEvent.batch_write() as batch:
            for event in events:
                batch.delete(event)


def timeline(deployment_id: str, limit: int, cursor: str | None) -> Page[Deploy | GuardEvent]:
    """Deploys and guard events of the deployment, newest first: one Query of the shared partition."""
    with translated():
        return query_page(BaseItem.gsi1.query, "GSI1PK", keys.deployment_deploys(deployment_id), limit, cursor,
                          scan_index_forward=False)
