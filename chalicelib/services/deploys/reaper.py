"""No deploy stays queued or running forever (issue: "deploys stuck in progress").

For every unfinished deploy (one Query on the ActiveDeploy markers): a running deploy whose lease
expired lost its worker: it fails with that reason, and a server it had started but not switched
to is stopped. A queued deploy older than a minute gets its message re-sent (a lost send; the
claim makes a duplicate harmless). Every decision is a conditional write.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.db import deploys as store
from chalicelib.db import deployments as deployment_store
from chalicelib.db import servers as server_store
from chalicelib.db.models import utcnow
from chalicelib.db.statuses import DeployStatus, ServerStatus
from chalicelib.control_plane_log import logger
from chalicelib.services.deploys import servers as server_service
from chalicelib.services.deploys.actions import enqueue, publish

RESEND_AFTER = timedelta(seconds=60)


def reap(now: datetime | None = None) -> list[tuple[str, str]]:
    now = now or utcnow()
    actions = []
    for deploy_id in list(store.active_ids()):
        try:
            action = _reap_one(deploy_id, now)
        except Exception:
            logger.exception("reaping a deploy failed", extra={"deployId": deploy_id})
            action = "error"
        if action:
            actions.append((deploy_id, action))
    return actions


def reap_one(deploy_id: str) -> str | None:
    """One deploy, as a shard of the reaper's fan-out does it (chalicelib/workers/shards.py)."""
    return _reap_one(deploy_id, utcnow())


def _reap_one(deploy_id: str, now: datetime) -> str | None:
    deploy = store.find(deploy_id)
    if deploy is None or deploy.status in store.TERMINAL:
        store.drop_marker(deploy_id)
        return "dropped marker"
    if deploy.status == DeployStatus.QUEUED:
        if deploy.queued_at and now - deploy.queued_at > RESEND_AFTER and (
                deploy.updated_at is None or now - deploy.updated_at > RESEND_AFTER):
            if not enqueue(deploy_id):
                return None
            # touch updated_at: one re-send a minute
            store.transition(deploy_id, (DeployStatus.QUEUED,), DeployStatus.QUEUED)
            return "re-sent"
        return None
    if deploy.lease_expires_at is not None and deploy.lease_expires_at > now:
        return None
    failed = store.transition(deploy_id, (DeployStatus.RUNNING,), DeployStatus.FAILED,
                              expect_attempt=int(deploy.attempt or 0), finished_at=now, lease_expires_at=None,
                              reason="the deploy worker was lost")
    if failed is None:
        return None
    publish(failed)
    deployment = deployment_store.find(deploy.deployment_id)
    if failed.server_id and (deployment is None or deployment.server_id != failed.server_id):
        server = server_store.find(failed.server_id)
        if server is not None and server.status in (ServerStatus.STARTING, ServerStatus.RUNNING):
            server_service.stop_server(server, reason="its deploy was lost")
    return "failed (worker lost)"
