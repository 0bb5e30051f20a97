"""A deployment's guard as people see and set it, and the deployment's timeline of events."""
from __future__ import annotations

import json

from chalicelib.auth.access import Access
from chalicelib.db import guards as store
from chalicelib.db import keys
from chalicelib.db.models import Guard
from chalicelib.db.pages import Page
from chalicelib.models.guard import GuardSettings
from chalicelib.services.deploys.deployments import require_deployment


def _default(deployment) -> Guard:
    """The guard of a deployment that never set one: off, no rules."""
    return Guard(keys.deployment(deployment.deployment_id), keys.GUARD_SK, deployment_id=deployment.deployment_id,
                 team_id=deployment.team_id, project_id=deployment.project_id, enabled=0, rules="[]",
                 rejected_build_ids=[])


def get_guard(access: Access, deployment_id: str) -> Guard:
    deployment = require_deployment(access, deployment_id)
    return store.find(deployment.deployment_id) or _default(deployment)


def set_guard(access: Access, deployment_id: str, body: GuardSettings) -> Guard:
    """Rules, minimum runs and window (a conditional save on the guard's version). Changing the rules
    does not forget what the guard already did: rejected builds stay rejected."""
    deployment = require_deployment(access, deployment_id)
    guard = store.find(deployment.deployment_id) or _default(deployment)
    guard.enabled = 1 if body.enabled else 0
    guard.rules = json.dumps([r.model_dump(by_alias=True, exclude_none=True) for r in body.rules])
    guard.min_runs = body.min_runs
    guard.window_minutes = body.window_minutes
    store.save_settings(guard)
    return guard


def timeline(access: Access, deployment_id: str, limit: int, cursor: str | None) -> Page:
    deployment = require_deployment(access, deployment_id)
    return store.timeline(deployment.deployment_id, limit, cursor)
