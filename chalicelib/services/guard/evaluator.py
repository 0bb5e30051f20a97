"""The release guard's evaluator: judge the build a deployment serves against the one it replaced,
and roll back a breach through the deploy path a person's rollback takes.

Runs from the schedule (a sharded sweep of the guards that are on: chalicelib/workers/shards.py;
locally the supervisor's timer) and after ingest of a deployment's data (`after_ingest`, at most one
check per deployment per MA_GUARD_INTERVAL). Every evaluation is safe to repeat:

- what it records is conditional on the guard not having acted on the build it judged;
- a breach acts only through the one conditional write that marks the build as acted on, so the
  same window judged twice, or by two evaluators at once, rolls back once;
- figures it cannot read (ClickHouse down, ingest behind: too few runs) make it wait, never act;
- it judges what it observed: the head's runs from the switch to it until the window's end (or
  now, while the window is open) against the base's over its last day of serving, the minimum of
  runs applying to those windowed counts; the evaluation records both windows;
- the guard never deploys a build forward, never rolls back to a build it rejected, and leaves a
  rejected build alone once a person deployed it again (the verdict says `overridden`).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Iterable

from chalicelib import channels
from chalicelib.control_plane_log import logger
from chalicelib.db import deployments as deployment_store
from chalicelib.db import guards as store
from chalicelib.db.models import Deployment, Guard, utcnow
from chalicelib.models.guard import GuardRule
from chalicelib.services.guard.figures import Comparer, DataUnavailable, releases_comparer
from chalicelib.services.guard.history import ACTOR, Serving, serving
from chalicelib.services.guard.rules import judge
from chalicelib.settings import get_settings

GITHUB_CONTEXT = "mastra-admin/release-guard"


def rules_of(guard: Guard) -> list[GuardRule]:
    return [GuardRule.model_validate(r) for r in json.loads(guard.rules or "[]")]


def last_evaluation(guard: Guard) -> dict | None:
    return json.loads(guard.last_evaluation) if guard.last_evaluation else None


def _evaluation(verdict: str, why: str | None, now: datetime, s: Serving, **extra) -> dict:
    return {"verdict": verdict, "why": why, "at": now.isoformat(), "baseBuildId": s.base_build_id,
            "headBuildId": s.head_build_id, **extra}


def evaluate(deployment_id: str, *, now: datetime | None = None, comparer: Comparer | None = None) -> dict | None:
    """One evaluation of the deployment's guard; returns what it recorded (None: nothing to record)."""
    now = now or utcnow()
    guard = store.find(deployment_id)
    if guard is None or not guard.enabled:
        return None
    deployment = deployment_store.find(deployment_id)
    if deployment is None:
        store.drop_marker(deployment_id)
        return None
    rejected = guard.rejected_or_empty()
    s = serving(deployment, rejected)
    last = last_evaluation(guard)
    if s.head is None:  # a deploy that switched the route is recorded as succeeded only after the old server went
        why = "the deploy of the current build is finishing" if deployment.current_build_id else "nothing is being served"
        return _record(guard, deployment, None, _evaluation("waiting", why, now, s), last)
    if s.head.requested_by == ACTOR or _rollback_pending(guard, s, last):
        store.count(deployment_id)
        return None  # the guard's own rollback (queued or done): its breach stays the last word until a new deploy
    if s.head_build_id in rejected:
        return _record(guard, deployment, s.head_build_id, _evaluation(
            "overridden", f"the guard rolled {s.head_build_id} back and a person deployed it again; "
                          "it is left alone", now, s), last)
    if s.base_build_id is None:
        return _record(guard, deployment, s.head_build_id, _evaluation(
            "waiting", "no earlier build served this deployment to compare with", now, s), last)
    window_end = s.switched_at + timedelta(minutes=int(guard.window_minutes))
    if now > window_end:
        if last and last.get("headBuildId") == s.head_build_id and last.get("verdict") != "waiting":
            store.count(deployment_id)
            return None  # judged within its window: that verdict stands
        return _record(guard, deployment, s.head_build_id, _evaluation(
            "waiting", f"the observation window closed at {window_end.isoformat()} before a judgement", now, s,
            windowClosed=True), last)
    head_window = (s.switched_at, min(window_end, now))  # open: the runs so far
    try:
        comparison = (comparer or releases_comparer)(deployment_id, s.base_build_id, s.head_build_id, head_window)
    except DataUnavailable as e:
        return _record(guard, deployment, s.head_build_id, _evaluation(
            "waiting", f"figures unavailable: {e}", now, s, headWindow=_window(head_window)), last)
    judgement = judge(rules_of(guard), comparison, int(guard.min_runs))
    evaluation = _evaluation(judgement.verdict, judgement.why, now, s, baseRuns=comparison.base.runs,
                             headRuns=comparison.head.runs, rules=judgement.rules,
                             windowEndsAt=window_end.isoformat(), headWindow=_window(head_window),
                             baseWindows=[_window(w) for w in comparison.base_windows])
    if judgement.verdict == "breached":
        return _act(guard, deployment, s, evaluation)
    return _record(guard, deployment, s.head_build_id, evaluation, last)


def _window(interval: tuple[datetime, datetime]) -> dict:
    return {"start": interval[0].isoformat(), "end": interval[1].isoformat()}


def _rollback_pending(guard: Guard, s: Serving, last: dict | None) -> bool:
    """The guard acted on the build served now, and this switch to it is older than the rollback
    (deploy ids sort by time); a newer switch to it is a person deploying it again."""
    if guard.acted_on_build_id != s.head_build_id:
        return False
    rollback = (last or {}).get("rollbackDeployId")
    return rollback is None or s.head.deploy_id < rollback


def _same(a: dict | None, b: dict) -> bool:
    """Published only when the verdict or the builds judged change (not at every run counted)."""
    keep = ("verdict", "headBuildId", "baseBuildId")
    return a is not None and all(a.get(k) == b.get(k) for k in keep)


def _record(guard: Guard, deployment: Deployment, build_id: str | None, evaluation: dict,
            last: dict | None) -> dict | None:
    changed = not _same(last, evaluation)
    if not store.record(guard.deployment_id, build_id, evaluation, overridden=evaluation["verdict"] == "overridden"):
        return None  # the guard acted on this build meanwhile (or was turned off)
    if changed:
        _publish(deployment, evaluation)
    return evaluation


def _act(guard: Guard, deployment: Deployment, s: Serving, evaluation: dict) -> dict | None:
    from chalicelib.services.deploys import actions

    head, base = s.head_build_id, s.base_build_id
    if not store.claim_breach(guard.deployment_id, head, evaluation):
        return None  # another evaluation of this window acted first
    reason = f"release guard: {evaluation['why']}"
    try:
        deploy = actions.rollback_by_rule(deployment, base, ACTOR, reason)
    except Exception:
        store.release_breach(guard.deployment_id, head)  # the next evaluation tries again
        raise
    evaluation = {**evaluation, "rollbackDeployId": deploy.deploy_id}
    store.record_rollback(deployment.deployment_id, deployment.team_id, head, deploy.deploy_id, evaluation)
    logger.warning("release guard rolled back", extra={"deploymentId": deployment.deployment_id, "buildId": head,
                                                       "to": base, "deployId": deploy.deploy_id})
    _publish(deployment, evaluation)
    _tell_github(head, evaluation, deployment)
    return evaluation


def _publish(deployment: Deployment, evaluation: dict) -> None:
    message = {"type": "guard", "deploymentId": deployment.deployment_id, "verdict": evaluation["verdict"],
               "evaluation": evaluation}
    channels.publish(f"deployment:{deployment.deployment_id}", message)
    channels.publish(channels.project_channel(deployment.project_id), message)


def _tell_github(build_id: str, evaluation: dict, deployment: Deployment) -> None:
    """A GitHub-triggered build's commit gets a failed status saying the guard rolled it back; a pull
    request's build also its comment (edited in place), which otherwise still calls the build ready."""
    from chalicelib.db import builds as build_store
    from chalicelib.db.models import map_or_empty
    from chalicelib.services.github import writes

    build = build_store.find(build_id)
    gh = map_or_empty(build.github) if build is not None else {}
    if not gh.get("sha") or not gh.get("installationId"):
        return
    text = f"Rolled back: {evaluation['why']}"
    writes.queue_status(int(gh["installationId"]), gh["repository"], gh["sha"], "failure", text[:140],
                        deployment.public_url, GITHUB_CONTEXT)
    if gh.get("pull"):
        writes.queue_comment(int(gh["installationId"]), gh["repository"], deployment.project_id, int(gh["pull"]),
                             f"**Rolled back by the release guard**: commit `{gh['sha'][:7]}` (build `{build_id}`): "
                             f"{evaluation['why']}. The preview serves build `{evaluation['baseBuildId']}` again: "
                             f"{deployment.public_url}")


# --- when it runs --------------------------------------------------------------------------------


def shard_work(ids: list[str]):
    """The sharded sweep's work of one id (chalicelib/workers/shards.py)."""
    return evaluate


def sweep() -> int:
    """Every guard that is on, in this process (the local stack's timer: only its process opens chDB)."""
    done = 0
    for deployment_id in list(store.active_ids()):
        try:
            evaluate(deployment_id)
            done += 1
        except Exception:
            logger.exception("guard evaluation failed", extra={"deploymentId": deployment_id})
    return done


def after_ingest(deployment_ids: Iterable[str], now: datetime | None = None) -> list[str]:
    """A check of each deployment whose data just arrived, debounced across processes by one
    conditional write per deployment per MA_GUARD_INTERVAL; returns the ids checked."""
    now = now or utcnow()
    until = now + timedelta(seconds=get_settings().guard_interval_seconds)
    checked = []
    for deployment_id in dict.fromkeys(deployment_ids):
        try:
            if store.debounce(deployment_id, now, until):
                evaluate(deployment_id, now=now)
                checked.append(deployment_id)
        except Exception:  # ingest never fails for the guard: the schedule's next round covers it
            logger.exception("guard check after ingest failed", extra={"deploymentId": deployment_id})
    return checked
