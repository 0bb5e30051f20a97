"""Running servers: read, logs, health checks, stop, and recovery of a restarted local stack.

Server output and failure reasons are masked with the deployment's secrets (its project's variables
and its overrides, as they are now) before they are returned, published or stored; the masker of
a deployment is kept MASKER_CACHE_SECONDS, so log reads do not decrypt on every call.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from chalicelib import channels
from chalicelib.auth.access import Access
from chalicelib.db import servers as store
from chalicelib.db.models import Server, utcnow
from chalicelib.db.pages import Page
from chalicelib.db.statuses import DeploymentStatus, ServerStatus
from chalicelib.models import api
from chalicelib.control_plane_log import logger
from chalicelib.runners.factory import deploy_runner_named
from chalicelib.secrets_mask import Masker

MAX_LOG_LINES = 5000
MASKER_CACHE_SECONDS = 30.0
MASKER_CACHE_SIZE = 1024


def server_channel(server_id: str) -> str:
    return f"server:{server_id}"


def server_logs_channel(server_id: str) -> str:
    return f"server:{server_id}:logs"


def publish_status(server: Server) -> None:
    channels.publish(server_channel(server.server_id), {
        "type": "status", "status": server.status, "serverId": server.server_id,
        "deploymentId": server.deployment_id, "buildId": server.build_id, "reason": server.reason,
    })


def publish_health(server: Server, health: str, detail: str | None, cpu: float | None,
                   memory: int | None) -> None:
    channels.publish(server_channel(server.server_id), {
        "type": "health", "health": health, "serverId": server.server_id,
        "deploymentId": server.deployment_id, "detail": detail, "cpuPercent": cpu, "memoryBytes": memory,
        "checkedAt": utcnow().isoformat(),
    })


# --- masking --------------------------------------------------------------------------------

_maskers: dict[str, tuple[float, Masker]] = {}
_maskers_lock = threading.Lock()


def deployment_masker(deployment_id: str) -> Masker:
    """A masker of the deployment's secrets, cached MASKER_CACHE_SECONDS per deployment."""
    now = time.monotonic()
    with _maskers_lock:
        hit = _maskers.get(deployment_id)
    if hit is not None and now - hit[0] < MASKER_CACHE_SECONDS:
        return hit[1]
    masker = Masker(_secrets_of(deployment_id))
    with _maskers_lock:
        if len(_maskers) >= MASKER_CACHE_SIZE:
            for key in [k for k, (at, _) in _maskers.items() if now - at >= MASKER_CACHE_SECONDS] or list(_maskers):
                del _maskers[key]
        _maskers[deployment_id] = (now, masker)
    return masker


def _secrets_of(deployment_id: str) -> list[str]:
    from chalicelib.db import deployments as deployment_store
    from chalicelib.db import projects as project_store
    from chalicelib.services.accounts.projects import decrypted_env
    from chalicelib.services.deploys.deployments import decrypted_overrides

    deployment = deployment_store.find(deployment_id)
    if deployment is None:
        return []
    project = project_store.find(deployment.project_id)
    values = list(decrypted_overrides(deployment).values())
    return values + (list(decrypted_env(project).values()) if project is not None else [])


def mask_reason(deployment_id: str, reason: str | None) -> str | None:
    return deployment_masker(deployment_id)(reason) if reason else reason


def publish_logs(server: Server, offset: int, lines: list[str]) -> None:
    """Publish a server's new output on `server:{id}:logs`, masked."""
    channels.publish(server_logs_channel(server.server_id), {
        "type": "log", "serverId": server.server_id, "offset": offset,
        "lines": deployment_masker(server.deployment_id).lines(lines)})


# --- API ------------------------------------------------------------------------------------


def require_server(access: Access, server_id: str) -> Server:
    return access.require_item("server", server_id, store.find)


def get_server(access: Access, server_id: str) -> Server:
    return require_server(access, server_id)


def list_servers(access: Access, deployment_id: str, limit: int, cursor: str | None) -> Page[Server]:
    from chalicelib.services.deploys.deployments import require_deployment

    deployment = require_deployment(access, deployment_id)
    page = store.list_for_deployment(deployment.deployment_id, limit, cursor)
    return page


def read_logs(access: Access, server_id: str, tail: int | None = None, since: int | None = None) -> api.ServerLogOut:
    """`tail=N`: the last N lines (at most MAX_LOG_LINES); `since=N`: lines from line offset N."""
    server = require_server(access, server_id)
    tail = min(tail, MAX_LOG_LINES) if tail is not None else None
    runner = deploy_runner_named(server.runner)
    piece = runner.logs(server, since, tail if tail is not None else (None if since is not None else 100),
                        MAX_LOG_LINES)
    return api.ServerLogOut(server_id=server.server_id, offset=piece.offset, next_offset=piece.next_offset,
                            lines=deployment_masker(server.deployment_id).lines(piece.lines))


def log_source(server_id: str) -> channels.LogSource:
    """The stored output of a server by line offset, for WebSocket subscribers that resume."""
    def end() -> int:
        server = store.find(server_id)
        if server is None:
            return 0
        return deploy_runner_named(server.runner).logs(server, None, 0, 1).next_offset

    def read(since: int):
        server = store.find(server_id)
        if server is None:
            return
        runner = deploy_runner_named(server.runner)
        while True:
            piece = runner.logs(server, since, None, MAX_LOG_LINES)
            mask = deployment_masker(server.deployment_id)
            for i, line in enumerate(piece.lines):
                yield piece.offset + i, mask(line)
            if len(piece.lines) < MAX_LOG_LINES:
                return
            since = piece.next_offset

    return channels.LogSource(end=end, read=read)


# --- lifecycle ------------------------------------------------------------------------------


def stop_server(server: Server, reason: str | None = None, runner=None) -> Server | None:
    """running|starting -> stopping -> stopped; the runner stops the process (and ships its files)."""
    moving = store.transition(server.server_id, (ServerStatus.STARTING, ServerStatus.RUNNING), ServerStatus.STOPPING,
                              reason=reason)
    if moving is None:
        current = store.find(server.server_id)
        if current is None or current.status != ServerStatus.STOPPING:
            return current
        moving = current  # a stop that was interrupted: finish it
    publish_status(moving)
    (runner or deploy_runner_named(moving.runner)).stop(moving)
    stopped = store.transition(server.server_id, (ServerStatus.STOPPING,), ServerStatus.STOPPED, stopped_at=utcnow(),
                               health="unknown", cpu_percent=None, memory_bytes=None)
    if stopped is not None:
        publish_status(stopped)
    return stopped


# --- health checks --------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    server_id: str
    health: str


def check_all() -> list[Checked]:
    """One health check of every live server, in this process (tests, a small stack); the schedule
    fans the same work out in shards instead (chalicelib/workers/shards.py)."""
    server_ids = list(store.active_ids())
    check = shard_checker(server_ids)
    results: list[Checked] = []
    for server_id in server_ids:
        try:
            checked = check(server_id)
        except Exception:
            logger.exception("health check failed", extra={"serverId": server_id})
            continue
        if checked is not None:
            results.append(checked)
    return results


def shard_checker(server_ids: list[str]):
    """Reads a shard's servers and their deployments in two batch reads; returns the check of one id
    (None when there is nothing to check). A dead process is marked `exited`."""
    from chalicelib.db import deployments as deployment_store

    servers = store.find_many(server_ids)
    existing = deployment_store.find_many({s.deployment_id for s in servers.values()})

    def check(server_id: str) -> Checked | None:
        server = servers.get(server_id)
        if server is None or server.status in store.TERMINAL:
            store.drop_marker(server_id)
            return None
        if server.status != ServerStatus.RUNNING:
            return None  # starting: the deploy worker watches it; stopping: the stop finishes it
        return check_one(server, deployment_exists=server.deployment_id in existing)

    return check


def check_one(server: Server, deployment_exists: bool | None = None) -> Checked:
    from chalicelib.db import deployments as deployment_store

    runner = deploy_runner_named(server.runner)
    if deployment_exists is None:
        deployment_exists = deployment_store.find(server.deployment_id) is not None
    if not deployment_exists:  # deleted while it ran: nothing routes to it
        stop_server(server, reason="its deployment was deleted", runner=runner)
        return Checked(server.server_id, "stopped")
    probe = runner.probe(server)
    now = utcnow()
    if not probe.alive:
        server_died(server, probe.detail, runner)
        return Checked(server.server_id, "dead")
    store.set_fields(server.server_id, (ServerStatus.RUNNING,), health=probe.health, last_check_at=now,
                     cpu_percent=probe.cpu_percent, memory_bytes=probe.memory_bytes)
    publish_health(server, probe.health, probe.detail, probe.cpu_percent, probe.memory_bytes)
    return Checked(server.server_id, probe.health)


def server_died(server: Server, detail: str | None, runner=None) -> Server | None:
    """A running server's process or task is gone: `exited` (one conditional write), told on `server:{id}`,
    and its deployment `failed` if it was the one serving. Idempotent: a second call changes nothing."""
    runner = runner or deploy_runner_named(server.runner)
    detail = mask_reason(server.deployment_id, detail)
    now = utcnow()
    exited = store.transition(server.server_id, (ServerStatus.RUNNING,), ServerStatus.EXITED, health="dead",
                              last_check_at=now, stopped_at=now, reason=detail or "the server process died",
                              cpu_percent=None, memory_bytes=None)
    if exited is None:
        return None
    publish_health(server, "dead", detail, None, None)
    publish_status(exited)
    runner.ship(exited, final=True)
    if store.mark_server_gone(server.deployment_id, server.server_id, DeploymentStatus.FAILED,
                              f"server {server.server_id} died: {detail}"):
        from chalicelib.services.deploys.actions import publish_deployment

        publish_deployment(server.deployment_id)
    return exited


# --- recovery -------------------------------------------------------------------------------


def recover() -> dict[str, list[str]]:
    """On start of the local stack: reattach to live servers, mark the others stopped.

    A server left `starting` belonged to a deploy whose worker died: the deploy reaper fails that
    deploy; here it is only stopped if its process is gone. A `stopping` one is finished.
    """
    out: dict[str, list[str]] = {"reattached": [], "stopped": []}
    for server_id in list(store.active_ids()):
        server = store.find(server_id)
        if server is None or server.status in store.TERMINAL:
            store.drop_marker(server_id)
            continue
        runner = deploy_runner_named(server.runner)
        alive = runner.alive(server)
        if alive is None:
            continue  # the reconciler of its runner owns it
        if server.status == ServerStatus.STOPPING:
            stop_server(server)
            out["stopped"].append(server_id)
        elif alive:
            out["reattached"].append(server_id)
        else:
            now = utcnow()
            moved = store.transition(server_id, (ServerStatus.STARTING, ServerStatus.RUNNING), ServerStatus.STOPPED,
                                     health="dead", stopped_at=now,
                                     reason="its process was gone when the stack started")
            if moved is not None:
                publish_status(moved)
                runner.ship(moved, final=True)
                if store.mark_server_gone(moved.deployment_id, server_id, DeploymentStatus.STOPPED, moved.reason):
                    from chalicelib.services.deploys.actions import publish_deployment

                    publish_deployment(moved.deployment_id)
            out["stopped"].append(server_id)
    return out


# --- the local stack stops and starts -------------------------------------------------------

STACK_STOPPED = "the local stack stopped"


def serving(runner_name: str) -> list[dict]:
    """{deploymentId, serverId, buildId} of every deployment running on a live server of `runner_name`:
    what a stopping stack records, to bring back at its next start (`resume`)."""
    from chalicelib.db import deployments as deployment_store

    out = []
    for server in live_servers(runner_name):
        deployment = deployment_store.find(server.deployment_id)
        if (deployment is not None and deployment.server_id == server.server_id
                and deployment.status == DeploymentStatus.RUNNING and server.status == ServerStatus.RUNNING):
            out.append({"deploymentId": deployment.deployment_id, "serverId": server.server_id,
                        "buildId": server.build_id})
    return out


def stop_all(runner_name: str, reason: str = STACK_STOPPED) -> list[str]:
    """Stop every live server of `runner_name` at once (the local stack is stopping): each through
    `stop_server`, and a deployment it served becomes `stopped` with `reason`. Returns the server ids."""
    from concurrent.futures import ThreadPoolExecutor

    def one(server: Server) -> str | None:
        try:
            stopped = stop_server(server, reason=reason)
            if stopped is not None and store.mark_server_gone(server.deployment_id, server.server_id,
                                                              DeploymentStatus.STOPPED, reason):
                from chalicelib.services.deploys.actions import publish_deployment

                publish_deployment(server.deployment_id)
            return server.server_id
        except Exception:
            logger.exception("stop at shutdown failed", extra={"serverId": server.server_id})
            return None

    servers = list(live_servers(runner_name))
    if not servers:
        return []
    with ThreadPoolExecutor(max_workers=min(len(servers), 16)) as pool:
        return [server_id for server_id in pool.map(one, servers) if server_id]


def resume(recorded: list[dict], reason: str = STACK_STOPPED) -> list[str]:
    """At start: a deploy (trigger `restart`, the normal deploy path) of the same build for each
    recorded deployment that the stop left as it was (stopped for `reason`, same server and build).
    Returns the deploy ids."""
    from chalicelib.db import deployments as deployment_store
    from chalicelib.services.deploys.actions import create

    queued = []
    for entry in recorded:
        deployment = deployment_store.find(entry.get("deploymentId", ""))
        if (deployment is None or deployment.status != DeploymentStatus.STOPPED
                or deployment.status_reason != reason or deployment.server_id != entry.get("serverId")
                or deployment.current_build_id != entry.get("buildId")):
            continue  # deleted, or changed since: nothing to bring back
        queued.append(create(deployment, "deploy", "restart", deployment.current_build_id).deploy_id)
    return queued


def live_servers(runner_name: str):
    """The servers of `runner_name` that are starting, running or stopping."""
    for server_id in list(store.active_ids()):
        server = store.find(server_id)
        if server is not None and server.runner == runner_name and server.status in store.ACTIVE:
            yield server
