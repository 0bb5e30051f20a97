"""Carrying out one deploy: claim, start, wait for health, switch the route, then stop the old server.

Idempotent per deploy: only the worker whose conditional write moved the deploy `queued -> running`
acts, so a redelivered or duplicated message does nothing twice. The order is what makes a deploy
gapless: the new server must answer its health check before the route moves to it, and the old
server keeps serving until every router has seen the move (the drain), only then is it stopped. A
server that never gets healthy fails the deploy with its last log lines, and the old one never
stopped serving.
"""
from __future__ import annotations

import time

from chalicelib.db import builds as build_store
from chalicelib.db import deployments as deployment_store
from chalicelib.db import deploys as store
from chalicelib.db import keys
from chalicelib.db import projects as project_store
from chalicelib.db import servers as server_store
from chalicelib.db.models import Deploy, Deployment, Server, utcnow
from chalicelib.db.statuses import BuildStatus, DeploymentStatus, DeployStatus, ServerStatus
from chalicelib.ids import new_id
from chalicelib.control_plane_log import logger
from chalicelib.runners.deploy_port import DeployRunner, ServerSpec
from chalicelib.runners.factory import deploy_runner
from chalicelib.services.deploys import servers as server_service
from chalicelib.secrets_mask import Masker
from chalicelib.services.deploys.actions import publish, publish_deployment
from chalicelib.services.deploys.deployments import decrypted_overrides
from chalicelib.services.accounts.projects import decrypted_env
from chalicelib.services.github.tokens import withholds_secrets
from chalicelib.settings import Settings, get_settings

LAST_LOG_LINES = 15


class DeployFailed(Exception):
    """The deploy cannot go on; the message is the reason stored on the deploy."""


def process(deploy_id: str, runner: DeployRunner | None = None, settings: Settings | None = None) -> str:
    """Run the deploy if it is still queued. Returns what happened (for logs and tests)."""
    settings = settings or get_settings()
    runner = runner or deploy_runner()
    claimed, refused = store.claim(deploy_id, DeployStatus.QUEUED, DeployStatus.RUNNING, settings.deploy_lease_seconds)
    if claimed is None:
        return refused
    attempt = int(claimed.attempt)
    publish(claimed)
    try:
        if claimed.action == "stop":
            status, reason = _stop(claimed)
        else:
            status, reason = _deploy(claimed, attempt, runner, settings)
    except DeployFailed as e:
        status, reason = DeployStatus.FAILED, server_service.mask_reason(claimed.deployment_id, str(e))
    except Exception as e:
        logger.exception("deploy crashed", extra={"deployId": deploy_id})
        status, reason = DeployStatus.FAILED, f"internal error: {type(e).__name__}"
    # A request's own reason (the release guard's rule) stays unless the outcome has one of its own.
    done = store.transition(deploy_id, (DeployStatus.RUNNING,), status, expect_attempt=attempt, finished_at=utcnow(),
                            reason=reason if reason is not None else claimed.reason, lease_expires_at=None)
    if done is not None:
        publish(done)
    return status


def _deployment(deploy: Deploy) -> Deployment:
    deployment = deployment_store.find(deploy.deployment_id)
    if deployment is None:
        raise DeployFailed("the deployment was deleted")
    return deployment


def _stop(deploy: Deploy) -> tuple[str, str | None]:
    deployment = _deployment(deploy)
    switched, previous = server_store.switch_route(
        deployment.deployment_id, deploy.deploy_id, None, None, status=DeploymentStatus.STOPPED,
        current_build_id=deployment.current_build_id, reason=f"stopped by {deploy.requested_by or 'request'}")
    if not switched:
        return DeployStatus.SUPERSEDED, "a newer deploy changed the deployment first"
    publish_deployment(deployment.deployment_id)
    store.set_fields(deploy.deploy_id, int(deploy.attempt), previous_server_id=previous)
    _retire(previous, deployment, None)
    return DeployStatus.SUCCEEDED, None


def _deploy(deploy: Deploy, attempt: int, runner: DeployRunner, settings: Settings) -> tuple[str, str | None]:
    deployment = _deployment(deploy)
    build = build_store.find(deploy.build_id or "") if deploy.build_id else None
    if build is None or build.status != BuildStatus.SUCCEEDED or not build.artifact_key:
        raise DeployFailed(f"build {deploy.build_id} has no artifact to deploy")
    project = project_store.find(deployment.project_id)
    if project is None:
        raise DeployFailed("the project was deleted")
    server_store.set_deployment_status(deployment.deployment_id, deploy.deploy_id, DeploymentStatus.DEPLOYING)
    publish_deployment(deployment.deployment_id)
    env = {} if withholds_secrets(build) else {**decrypted_env(project), **decrypted_overrides(deployment)}
    mask = Masker(env.values())
    server = _new_server(deploy, deployment, runner)
    store.set_fields(deploy.deploy_id, attempt, server_id=server.server_id)
    spec = ServerSpec(
        server_id=server.server_id, deploy_id=deploy.deploy_id, deployment_id=deployment.deployment_id,
        project_id=deployment.project_id, team_id=deployment.team_id, build_id=build.build_id,
        slug=deployment.slug, environment=deployment.type, commit=build.commit,
        artifact_bucket=settings.bucket_name, artifact_key=build.artifact_key,
        artifact_sha256=build.artifact_sha256, env=env,
        node_major=int(build.node_major) if build.node_major is not None else None,
    )
    try:
        started = runner.start(spec)
    except Exception as e:
        reason = f"the server did not start: {mask(str(e))}"
        _give_up(server, deployment, deploy, runner, reason, stop=False)
        return DeployStatus.FAILED, reason
    server_store.set_fields(server.server_id, (ServerStatus.STARTING,), started_at=utcnow(), **started.fields())
    server = server_store.find(server.server_id) or server
    server_service.publish_status(server)
    learnt = runner.activate(deployment, server, None)
    if learnt:
        server_store.set_fields(server.server_id, (ServerStatus.STARTING,), **learnt)
        server = server_store.find(server.server_id) or server
    healthy, detail = _wait_healthy(runner, server, settings)
    if not healthy:
        lines = runner.logs(server, None, LAST_LOG_LINES, LAST_LOG_LINES).lines
        reason = mask(f"the server never became healthy: {detail}" + (
            "; last log lines:\n" + "\n".join(lines) if lines else "; it wrote no log lines"))
        _give_up(server, deployment, deploy, runner, reason, stop=True)
        return DeployStatus.FAILED, reason
    running = server_store.transition(server.server_id, (ServerStatus.STARTING,), ServerStatus.RUNNING,
                                      health="healthy", last_check_at=utcnow())
    if running is None:
        raise DeployFailed("the new server was stopped while it started")
    server_service.publish_status(running)
    store.set_fields(deploy.deploy_id, attempt, healthy_at=utcnow())
    switched, previous = server_store.switch_route(
        deployment.deployment_id, deploy.deploy_id, running, runner.upstream(running), status=DeploymentStatus.RUNNING,
        current_build_id=build.build_id)
    if not switched:
        runner.deactivate(deployment, running)
        server_service.stop_server(running, reason="superseded by a newer deploy", runner=runner)
        return DeployStatus.SUPERSEDED, "a newer deploy changed the deployment first"
    publish_deployment(deployment.deployment_id)
    store.set_fields(deploy.deploy_id, attempt, previous_server_id=previous)
    if previous and previous != running.server_id:
        # Every router must have seen the switch before the old server goes away.
        time.sleep(settings.drain_seconds)
        _retire(previous, deployment, runner)
    return DeployStatus.SUCCEEDED, None


def _new_server(deploy: Deploy, deployment: Deployment, runner: DeployRunner) -> Server:
    server_id = new_id("server")
    now = utcnow()
    server = Server(
        keys.server(server_id), keys.META,
        gsi1pk=keys.deployment_servers(deployment.deployment_id),
        gsi1sk=keys.sorted_by_time(now.isoformat(), server_id),
        server_id=server_id, deployment_id=deployment.deployment_id, build_id=deploy.build_id,
        team_id=deployment.team_id, project_id=deployment.project_id, deploy_id=deploy.deploy_id,
        runner=runner.name, status=ServerStatus.STARTING, health="unknown", created_at=now, updated_at=now,
    )
    server_store.create(server)
    server_service.publish_status(server)
    return server


def _wait_healthy(runner: DeployRunner, server: Server, settings: Settings) -> tuple[bool, str]:
    """Health checks with backoff until healthy, dead, or the deadline."""
    deadline = time.monotonic() + settings.deploy_health_timeout_seconds
    delay = 0.1
    while True:
        probe = runner.probe(server)
        if probe.healthy:
            return True, probe.detail or "healthy"
        if not probe.alive:
            return False, f"the server exited ({probe.detail})"
        if time.monotonic() + delay > deadline:
            return False, f"not healthy after {settings.deploy_health_timeout_seconds:g} s ({probe.detail})"
        time.sleep(delay)
        delay = min(delay * 1.5, 2.0)


def _give_up(server: Server, deployment: Deployment, deploy: Deploy, runner: DeployRunner, reason: str,
             stop: bool) -> None:
    """The new server failed: stop it; the deployment keeps what it served (or says it failed)."""
    if stop:
        try:
            runner.deactivate(deployment, server)
            runner.stop(server)
        except Exception:
            logger.exception("stopping a failed server failed", extra={"serverId": server.server_id})
    failed = server_store.transition(server.server_id, (ServerStatus.STARTING,), ServerStatus.FAILED,
                                     stopped_at=utcnow(), reason=reason, health="unknown")
    if failed is not None:
        server_service.publish_status(failed)
    current = deployment_store.find(deployment.deployment_id)
    if current is not None:
        serving = current.server_id is not None
        server_store.set_deployment_status(current.deployment_id, deploy.deploy_id,
                                           DeploymentStatus.RUNNING if serving else DeploymentStatus.FAILED,
                                           f"deploy {deploy.deploy_id} failed: {reason.splitlines()[0]}")
        publish_deployment(current.deployment_id)


def _retire(server_id: str | None, deployment: Deployment, runner: DeployRunner | None) -> None:
    """Take the old server out of the route, then stop it."""
    if not server_id:
        return
    old = server_store.find(server_id)
    if old is None:
        return
    if runner is None or runner.name != old.runner:
        from chalicelib.runners.factory import deploy_runner_named

        runner = deploy_runner_named(old.runner)
    try:
        runner.deactivate(deployment, old)
    except Exception:
        logger.exception("taking the old server out of the route failed", extra={"serverId": server_id})
    server_service.stop_server(old, reason="replaced", runner=runner)
