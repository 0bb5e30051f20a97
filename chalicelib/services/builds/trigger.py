"""Builds of a deployment: trigger, read, list, cancel, read the log."""
from __future__ import annotations


from chalicelib import channels, queues
from chalicelib.auth.access import Access
from chalicelib.db import builds as store
from chalicelib.db import keys
from chalicelib.db.models import Build, Deployment, utcnow
from chalicelib.db.pages import Page
from chalicelib.db.statuses import BuildStatus
from chalicelib.errors import Conflict, Unavailable
from chalicelib.ids import new_id
from chalicelib.models import api
from chalicelib.control_plane_log import logger
from chalicelib.services.builds import steps
from chalicelib.services.deploys.deployments import require_deployment
from chalicelib.settings import get_settings

MAX_LOG_LINES = 5000
SUPERSEDE_SCAN = 25


def enqueue(build_id: str) -> bool:
    """One message per attempt; the claim makes a duplicate harmless. False: the reaper re-sends."""
    return queues.send(get_settings().build_queue_name, {"buildId": build_id})


def publish_status(build: Build, *, created: bool = False) -> None:
    """Every transition of a build ends here (worker, reaper, CodeBuild completion, cancel): its channels
    hear it, and its deployment's `building` status follows it. A build just `created` is told on its
    project's channel only: its own channel cannot have a subscriber before its id is known."""
    if not created:
        message = {"type": "status", "status": build.status, "buildId": build.build_id, "reason": build.reason}
        channels.publish(channels.build_channel(build.build_id), message)
    channels.publish(channels.project_channel(build.project_id), {
        "type": "build", "buildId": build.build_id, "deploymentId": build.deployment_id,
        "status": build.status, "reason": build.reason,
    })
    _follow_on_deployment(build)


def deploy_after(build: Build) -> None:
    """Whoever records a build as succeeded (worker, CodeBuild completion, reaper) deploys it, once:
    each calls this only after its own conditional transition won. Queueing the deploy failing never
    fails the build."""
    if build.status != BuildStatus.SUCCEEDED:
        return
    from chalicelib.services.deploys import actions as deploys

    try:
        deploys.after_build(build)
    except Exception:
        logger.exception("queueing the deploy of a build failed", extra={"buildId": build.build_id})


def _follow_on_deployment(build: Build) -> None:
    """A build starting shows the deployment `building` (unless it serves or deploys); one that fails or
    is cancelled gives back the status it had. Never fails the build's own transition."""
    from chalicelib.db import deployments as deployment_store

    try:
        if build.status == BuildStatus.BUILDING:
            changed = deployment_store.mark_building(build.deployment_id, build.build_id)
        elif build.status in (BuildStatus.FAILED, BuildStatus.CANCELLED):
            changed = deployment_store.restore_after_build(build.deployment_id, build.build_id)
        else:
            return
        if changed:
            from chalicelib.services.deploys.actions import publish_deployment

            publish_deployment(build.deployment_id)
    except Exception:
        logger.exception("the deployment's building status was not updated", extra={"buildId": build.build_id})


def _supersede_older(deployment_id: str, newer: str) -> None:
    """A newer build makes older queued ones pointless; running ones finish (their result is kept)."""
    for older in store.list_for_deployment(deployment_id, SUPERSEDE_SCAN, None).items:
        if older.build_id != newer and older.status == BuildStatus.QUEUED:
            moved = store.transition(older.build_id, (BuildStatus.QUEUED,), BuildStatus.SUPERSEDED,
                                     finished_at=utcnow(), reason=f"superseded by {newer}")
            if moved is not None:
                publish_status(moved)


def trigger_build(access: Access, deployment_id: str, body: api.BuildCreate | None,
                  trigger: str = "manual") -> Build:
    deployment = require_deployment(access, deployment_id)
    return queue_build(deployment, ref=(body.ref if body else None) or deployment.branch,
                       commit=body.commit if body else None, trigger=trigger)


def queue_build(deployment: Deployment, *, ref: str, commit: str | None, trigger: str,
                github: dict | None = None) -> Build:
    """A queued build of the deployment; older queued ones are superseded. `github`: what a webhook knew."""
    build_id = new_id("build")
    now = utcnow()
    build = Build(
        keys.build(build_id), keys.META,
        gsi1pk=keys.deployment_builds(deployment.deployment_id),
        gsi1sk=keys.sorted_by_time(now.isoformat(), build_id),
        build_id=build_id, deployment_id=deployment.deployment_id, project_id=deployment.project_id,
        team_id=deployment.team_id, environment=deployment.type, trigger=trigger,
        ref=ref, commit=commit, github=github, status=BuildStatus.QUEUED, queued_at=now, attempt=0, log_lines=0, created_at=now, updated_at=now,
    )
    with steps.step(build_id, "api: create"):
        store.create(build)
    with steps.step(build_id, "api: publish"):
        publish_status(build, created=True)
    with steps.step(build_id, "api: enqueue"):
        enqueue(build_id)  # before tidying up older builds: the worker can start meanwhile
    with steps.step(build_id, "api: supersede"):
        _supersede_older(deployment.deployment_id, build_id)
    return build


def require_build(access: Access, build_id: str, permission: str | None = None) -> Build:
    return access.require_item("build", build_id, store.find, permission)


def get_build(access: Access, build_id: str) -> Build:
    return require_build(access, build_id)


def list_builds(access: Access, deployment_id: str, limit: int, cursor: str | None) -> Page[Build]:
    deployment = require_deployment(access, deployment_id)
    page = store.list_for_deployment(deployment.deployment_id, limit, cursor)
    return page


def cancel_build(access: Access, build_id: str) -> Build:
    """Queued or building -> cancelled. The worker sees it at its next heartbeat and kills the tree."""
    build = require_build(access, build_id, "build:update")
    moved = store.transition(build.build_id, store.ACTIVE, BuildStatus.CANCELLED, finished_at=utcnow(),
                             reason=f"cancelled by {access.principal.user_id}")
    if moved is None:
        current = store.find(build.build_id) or build
        raise Conflict(f"The build is {current.status}; only queued or building builds can be cancelled",
                       code="build_not_active")
    if moved.runner:  # queued builds have none yet
        from chalicelib.runners.factory import runner_named

        try:
            runner_named(moved.runner).cancel(moved)
        except Unavailable:  # recorded as cancelled; the reaper's check stops it when CodeBuild answers
            logger.warning("cancel: runner unreachable", extra={"buildId": moved.build_id})
    publish_status(moved)
    return moved


def read_log(access: Access, build_id: str, since: int = 0) -> api.BuildLogOut:
    build = require_build(access, build_id)
    lines: list[str] = []
    first = None
    for offset, line in store.read_log(build.build_id, since):
        first = offset if first is None else first
        lines.append(line)
        if len(lines) >= MAX_LOG_LINES:
            break
    start = first if first is not None else since
    done = build.status in store.TERMINAL and len(lines) < MAX_LOG_LINES
    return api.BuildLogOut(build_id=build.build_id, offset=start, next_offset=start + len(lines), lines=lines,
                           complete=done)
