"""Servers in DynamoDB, and the deployment's route (server_id + upstream) that a deploy switches."""
from __future__ import annotations

from typing import Iterable

from chalicelib.db import deployments, keys, lifecycle
from chalicelib.db.errors import translated
from chalicelib.db.models import ActiveServer, Claim, Deployment, Server
from chalicelib.db.statuses import SERVER_ACTIVE as ACTIVE, SERVER_TERMINAL as TERMINAL


_servers = lifecycle.ActiveItems(Server, ActiveServer, "server_id", ACTIVE, key=keys.server,
                                 per_deployment=keys.deployment_servers, active_partition=keys.ACTIVE_SERVERS)
create, find, list_for_deployment = _servers.create, _servers.find, _servers.list_for_deployment
find_many = _servers.find_many
active_ids, transition, drop_marker = _servers.active_ids, _servers.transition, _servers.drop_marker


def set_fields(server_id: str, allowed: Iterable[str] = ACTIVE, **fields) -> bool:
    """Health and resource use of a live server; False once it is no longer in `allowed`."""
    return _servers.set_fields(server_id, Server.status.is_in(*tuple(allowed)), **fields)


def _not_overtaken(deploy_id: str):
    """The deployment's route was last changed by an older deploy than `deploy_id` (or never)."""
    return Deployment.last_deploy_id.does_not_exist() | (Deployment.last_deploy_id <= deploy_id)


def switch_route(deployment_id: str, deploy_id: str, server: Server | None, upstream: str | None, *,
                 status: str, current_build_id: str | None, reason: str | None = None) -> tuple[bool, str | None]:
    """Point the deployment at `server` (None: nothing serves) unless a newer deploy already moved it.

    One conditional write (deploy ids sort by creation time): of two deploys racing, the one
    requested last wins whatever order they finish in. Returns (switched, the server it replaced):
    the write is also conditional on the server read just before, so the one replaced is that one.
    The version moves too: a PATCH that read the deployment before the switch must not save the old
    route back (it gets a version conflict instead).
    """
    actions = [Deployment.status.set(status), Deployment.last_deploy_id.set(deploy_id)]
    for attr, value in ((Deployment.server_id, server.server_id if server else None),
                        (Deployment.upstream, upstream), (Deployment.current_build_id, current_build_id),
                        (Deployment.status_reason, reason)):
        actions.append(attr.remove() if value is None else attr.set(value))
    for _ in range(5):
        with translated():
            try:
                current = Deployment.get(keys.deployment(deployment_id), keys.META, consistent_read=True)
            except Deployment.DoesNotExist:
                return False, None
        if current.last_deploy_id is not None and current.last_deploy_id > deploy_id:
            return False, None
        previous = current.server_id
        same_server = Deployment.server_id.does_not_exist() if previous is None else Deployment.server_id == previous
        if deployments.update(deployment_id, actions, _not_overtaken(deploy_id) & same_server):
            return True, previous
    return False, None


def set_deployment_status(deployment_id: str, deploy_id: str, status: str, reason: str | None = None) -> bool:
    """Change only the status (and reason), unless a newer deploy than `deploy_id` moved the route."""
    actions = [Deployment.status.set(status),
               Deployment.status_reason.remove() if reason is None else Deployment.status_reason.set(reason)]
    return deployments.update(deployment_id, actions, _not_overtaken(deploy_id))


def mark_server_gone(deployment_id: str, server_id: str, status: str, reason: str) -> bool:
    """The current server died: the deployment says so, and the router answers 503 instead of 502.

    `server_id` and `current_build_id` stay: they say what died, and what a restart starts again.
    """
    actions = [Deployment.status.set(status), Deployment.status_reason.set(reason), Deployment.upstream.remove()]
    return deployments.update(deployment_id, actions, Deployment.server_id == server_id)


def deployment_for_slug(slug: str) -> Deployment | None:
    """The router's lookup: the slug claim names the deployment."""
    with translated():
        try:
            claim = Claim.get(keys.slug(slug), keys.META)
        except Claim.DoesNotExist:
            return None
        try:
            return Deployment.get(keys.deployment(claim.owner_id), keys.META)
        except Deployment.DoesNotExist:
            return None
