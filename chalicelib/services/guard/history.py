"""Which build a deployment serves now, since when, and which build served before it: read from the
deployment's succeeded deploys (the switches), newest first."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.db import deploys as deploy_store
from chalicelib.db.models import Deploy, Deployment
from chalicelib.db.statuses import DeployStatus

ACTOR = "release-guard"  # requestedBy of the guard's rollbacks
SCAN = 100  # deploys read per evaluation: far more than one observation window ever holds


@dataclass(frozen=True)
class Serving:
    head: Deploy | None  # the succeeded deploy that switched to the current build
    base_build_id: str | None  # the build served before it, skipping builds the guard rejected

    @property
    def head_build_id(self) -> str | None:
        return self.head.build_id if self.head else None

    @property
    def switched_at(self) -> datetime | None:
        """When the route switched to the head build (the worker switches right after the health
        check): the start of its observation window, as of its serving window on /releases."""
        return (self.head.healthy_at or self.head.finished_at or self.head.created_at) if self.head else None


def serving(deployment: Deployment, rejected: list[str]) -> Serving:
    if not deployment.current_build_id or not deployment.server_id:
        return Serving(None, None)
    switches = [d for d in deploy_store.list_for_deployment(deployment.deployment_id, SCAN, None).items
                if d.action == "deploy" and d.build_id and _switched(d, deployment)]
    head_at = next((i for i, d in enumerate(switches) if d.build_id == deployment.current_build_id), None)
    if head_at is None:
        return Serving(None, None)
    # A restart (same build) is not a new release: the window starts at the switch to this build.
    while head_at + 1 < len(switches) and switches[head_at + 1].build_id == deployment.current_build_id:
        head_at += 1
    base = next((d.build_id for d in switches[head_at + 1:]
                 if d.build_id != deployment.current_build_id and d.build_id not in rejected), None)
    return Serving(switches[head_at], base)


def _switched(deploy: Deploy, deployment: Deployment) -> bool:
    """Succeeded; or the guard's own rollback, running after it switched the route to the current
    build while the old server drains: it must read as the head, or the build's earlier deploy would
    (another deploy is judged only once it succeeded)."""
    return deploy.status == DeployStatus.SUCCEEDED or (
        deploy.status == DeployStatus.RUNNING and deploy.healthy_at is not None
        and deploy.requested_by == ACTOR and deploy.build_id == deployment.current_build_id)
