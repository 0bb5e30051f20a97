"""Deploys: what a deployment should serve next. Created by a succeeded build, a redeploy, a
rollback, a restart or a stop; carried out by the deploy worker (chalicelib/services/deploys/worker.py).
"""
from __future__ import annotations


from chalicelib import channels, queues
from chalicelib.auth.access import Access
from chalicelib.db import builds as build_store
from chalicelib.db import deploys as store
from chalicelib.db import keys
from chalicelib.db.models import Build, Deploy, Deployment, utcnow
from chalicelib.db.pages import Page
from chalicelib.db.statuses import BuildStatus, DeployStatus
from chalicelib.errors import Conflict, NotFound
from chalicelib.ids import check_id, new_id
from chalicelib.models import api
from chalicelib.services.deploys.deployments import require_deployment
from chalicelib.settings import get_settings

SUPERSEDE_SCAN = 25
BUILD_SCAN = 100


def deployment_channel(deployment_id: str) -> str:
    return f"deployment:{deployment_id}"


def enqueue(deploy_id: str) -> bool:
    """One message per deploy; the worker's claim makes a duplicate harmless. False: the reaper re-sends."""
    return queues.send(get_settings().deploy_queue_name, {"deployId": deploy_id})


def publish(deploy: Deploy) -> None:
    message = {"type": "deploy", "deployId": deploy.deploy_id, "action": deploy.action, "trigger": deploy.trigger,
               "status": deploy.status, "buildId": deploy.build_id, "serverId": deploy.server_id,
               "reason": deploy.reason}
    channels.publish(deployment_channel(deploy.deployment_id), message)
    channels.publish(channels.project_channel(deploy.project_id), {**message, "deploymentId": deploy.deployment_id})


def publish_deployment(deployment_id: str) -> None:
    """The deployment's status, as stored, to its channel and its project's."""
    from chalicelib.db import deployments as deployment_store

    deployment = deployment_store.find(deployment_id)
    if deployment is None:
        return
    message = {"type": "status", "status": deployment.status, "deploymentId": deployment.deployment_id,
               "serverId": deployment.server_id, "currentBuildId": deployment.current_build_id,
               "publicUrl": deployment.public_url, "reason": deployment.status_reason}
    channels.publish(deployment_channel(deployment_id), message)
    channels.publish(channels.project_channel(deployment.project_id), {**message, "type": "deployment"})


def _supersede_older(deployment_id: str, newer: str) -> None:
    """A newer deploy makes older queued ones pointless (a running one loses at its switch)."""
    for older in store.list_for_deployment(deployment_id, SUPERSEDE_SCAN, None).items:
        if older.deploy_id < newer and older.status == DeployStatus.QUEUED:
            moved = store.transition(older.deploy_id, (DeployStatus.QUEUED,), DeployStatus.SUPERSEDED,
                                     finished_at=utcnow(), reason=f"superseded by {newer}")
            if moved is not None:
                publish(moved)


def create(deployment: Deployment, action: str, trigger: str, build_id: str | None,
           requested_by: str | None = None, reason: str | None = None) -> Deploy:
    deploy_id = new_id("deploy")
    now = utcnow()
    deploy = Deploy(
        keys.deploy(deploy_id), keys.META,
        gsi1pk=keys.deployment_deploys(deployment.deployment_id),
        gsi1sk=keys.sorted_by_time(now.isoformat(), deploy_id),
        deploy_id=deploy_id, deployment_id=deployment.deployment_id, project_id=deployment.project_id,
        team_id=deployment.team_id, action=action, trigger=trigger, build_id=build_id, status=DeployStatus.QUEUED,
        attempt=0, requested_by=requested_by, queued_at=now, created_at=now, updated_at=now, reason=reason,
    )
    store.create(deploy)
    publish(deploy)
    _supersede_older(deployment.deployment_id, deploy_id)
    enqueue(deploy_id)
    return deploy


def after_build(build: Build) -> Deploy | None:
    """The build worker's hook: a succeeded build is deployed (its deployment may have gone)."""
    from chalicelib.db import deployments as deployment_store

    deployment = deployment_store.find(build.deployment_id)
    if deployment is None:
        return None
    return create(deployment, "deploy", "build", build.build_id)


# --- API ------------------------------------------------------------------------------------


def _deployable(deployment: Deployment, build_id: str) -> Build:
    check_id("build", build_id)
    build = build_store.find(build_id)
    if build is None or build.deployment_id != deployment.deployment_id:
        raise NotFound("No such build of this deployment")
    if build.status != BuildStatus.SUCCEEDED or not build.artifact_key:
        raise Conflict(f"Build {build_id} is {build.status}; only succeeded builds can be deployed",
                       code="build_not_deployable")
    return build


def _succeeded_builds(deployment: Deployment) -> list[Build]:
    """Succeeded builds of the deployment, newest first."""
    page = build_store.list_for_deployment(deployment.deployment_id, BUILD_SCAN, None)
    return [b for b in page.items if b.status == BuildStatus.SUCCEEDED and b.artifact_key]


def redeploy(access: Access, deployment_id: str, body: api.DeployRequest | None) -> Deploy:
    """Deploy a build again (default: the current one, else the newest succeeded), without building."""
    deployment = require_deployment(access, deployment_id)
    build_id = body.build_id if body and body.build_id else deployment.current_build_id
    if not build_id:
        succeeded = _succeeded_builds(deployment)
        if not succeeded:
            raise Conflict("The deployment has no succeeded build to deploy", code="no_build")
        build_id = succeeded[0].build_id
    build = _deployable(deployment, build_id)
    return create(deployment, "deploy", "redeploy", build.build_id, access.principal.user_id)


def rollback(access: Access, deployment_id: str, body: api.DeployRequest | None) -> Deploy:
    """Deploy an older succeeded build (default: the one before the current build); reuses its artifact."""
    deployment = require_deployment(access, deployment_id)
    if body and body.build_id:
        build = _deployable(deployment, body.build_id)
    else:
        succeeded = _succeeded_builds(deployment)
        current = deployment.current_build_id
        ids = [b.build_id for b in succeeded]
        older = succeeded[ids.index(current) + 1:] if current in ids else \
            [b for b in succeeded if current is None or b.build_id < current]
        if not older:
            raise Conflict("There is no earlier succeeded build to roll back to", code="no_previous_build")
        build = older[0]
    return create(deployment, "deploy", "rollback", build.build_id, access.principal.user_id)


def rollback_by_rule(deployment: Deployment, build_id: str, requested_by: str, reason: str) -> Deploy:
    """The release guard's rollback (chalicelib/services/guard): the same deploy of an older succeeded
    build's artifact that a person's rollback makes, with the rule that fired as its reason."""
    build = _deployable(deployment, build_id)
    return create(deployment, "deploy", "rollback", build.build_id, requested_by, reason=reason)


def restart(access: Access, deployment_id: str) -> Deploy:
    """A fresh server of the current build, switched to without a gap (also starts a stopped deployment)."""
    deployment = require_deployment(access, deployment_id)
    if not deployment.current_build_id:
        raise Conflict("The deployment has never been deployed", code="no_build")
    build = _deployable(deployment, deployment.current_build_id)
    return create(deployment, "deploy", "restart", build.build_id, access.principal.user_id)


def stop(access: Access, deployment_id: str) -> Deploy:
    deployment = require_deployment(access, deployment_id)
    return create(deployment, "stop", "stop", deployment.current_build_id, access.principal.user_id)


def get_deploy(access: Access, deploy_id: str) -> Deploy:
    return access.require_item("deploy", deploy_id, store.find, "deployment:read")


def list_deploys(access: Access, deployment_id: str, limit: int, cursor: str | None) -> Page[Deploy]:
    deployment = require_deployment(access, deployment_id)
    page = store.list_for_deployment(deployment.deployment_id, limit, cursor)
    return page
