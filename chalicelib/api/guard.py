"""A deployment's release guard (rules and last verdict) and its timeline of events."""
from __future__ import annotations

import json

from chalice import Blueprint

from chalicelib.api.routing import Call, route
from chalicelib.db.models import Deploy, Guard, GuardEvent
from chalicelib.models import api
from chalicelib.models.guard import EventOut, Evaluation, GuardOut, GuardSettings
from chalicelib.services.guard import settings as guard

bp = Blueprint(__name__)

EVENT_TYPES = {"build": "deploy", "redeploy": "redeploy", "rollback": "rollback", "restart": "restart", "stop": "stop"}


def _guard(item: Guard) -> GuardOut:
    last = json.loads(item.last_evaluation) if item.last_evaluation else None
    return GuardOut(deployment_id=item.deployment_id, enabled=bool(item.enabled), rules=json.loads(item.rules or "[]"),
                    min_runs=int(item.min_runs), window_minutes=int(item.window_minutes),
                    rejected_build_ids=item.rejected_or_empty(), evaluations=int(item.evaluations or 0),
                    last_evaluation=Evaluation.model_validate(last) if last else None,
                    updated_at=item.updated_at if item.version else None)


def _event(item: Deploy | GuardEvent) -> EventOut:
    if isinstance(item, GuardEvent):
        evaluation = Evaluation.model_validate(json.loads(item.evaluation))
        return EventOut(id=item.event_id, type="guard", at=item.created_at, build_id=item.build_id,
                        status=evaluation.verdict, by="release-guard", reason=evaluation.why,
                        deploy_id=item.deploy_id, evaluation=evaluation)
    return EventOut(id=item.deploy_id, type=EVENT_TYPES.get(item.trigger, "deploy"), at=item.created_at,
                    build_id=item.build_id, status=item.status, by=item.requested_by, reason=item.reason,
                    deploy_id=item.deploy_id)


@route(bp, "GET", "/deployments/{deploymentId}/guard", permission="deployment:read", response=GuardOut)
def get_guard(call: Call, deploymentId: str):
    """Read the deployment's release guard: its rules and its last evaluation (off by default)."""
    return _guard(guard.get_guard(call.access, deploymentId))


@route(bp, "PUT", "/deployments/{deploymentId}/guard", permission="deployment:update", body=GuardSettings,
       response=GuardOut)
def set_guard(call: Call, deploymentId: str):
    """Set the release guard: rules, minimum runs per build and the observation window after a deploy."""
    return _guard(guard.set_guard(call.access, deploymentId, call.body))


@route(bp, "GET", "/deployments/{deploymentId}/events", permission="deployment:read",
       response=api.Page[EventOut], paginated=True)
def list_events(call: Call, deploymentId: str):
    """The deployment's timeline, newest first: deploys, rollbacks (by a person or the guard) and guard actions."""
    page = guard.timeline(call.access, deploymentId, call.limit, call.cursor)
    return api.Page[EventOut](items=[_event(i) for i in page.items], next_cursor=page.next_cursor)
