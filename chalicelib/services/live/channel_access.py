"""Which channels exist, who may read them, and where their stored log is (for resume).

A channel is `{kind}:{id}` (or `server:{id}:logs`); the caller may subscribe only if it may read
the resource behind it, decided by the same RBAC as the REST API (not a member: not found).
"""
from __future__ import annotations

import re

from chalicelib.auth.access import Access, Principal
from chalicelib.channels import LogSource
from chalicelib.db import builds, deployments, projects, servers
from chalicelib.errors import BadRequest, NotFound
from chalicelib.ids import ID_BODY
from chalicelib.services.builds import logs as build_logs
from chalicelib.services.deploys import servers as server_service

CHANNEL = re.compile(rf"^(build|deployment|server|project):([a-z]{{3,4}}_{ID_BODY})(:logs)?$")
PERMISSIONS = {"build": "build:read", "deployment": "deployment:read", "server": "server:read",
               "project": "project:read"}


def parse(channel: str) -> tuple[str, str, bool]:
    match = CHANNEL.match(channel or "")
    if not match or (match.group(3) and match.group(1) != "server"):
        raise BadRequest("Unknown channel; use build:{id}, deployment:{id}, server:{id}, server:{id}:logs "
                         "or project:{id}", code="unknown_channel")
    return match.group(1), match.group(2), bool(match.group(3))


FINDERS = {"build": builds.find, "deployment": deployments.find, "project": projects.find, "server": servers.find}


def _team_of(kind: str, item_id: str) -> str | None:
    return getattr(FINDERS[kind](item_id), "team_id", None)


def authorize(principal: Principal, channel: str) -> None:
    """Raises NotFound (no such resource, or not the caller's), Forbidden, or BadRequest."""
    kind, item_id, _ = parse(channel)
    team_id = _team_of(kind, item_id)
    if team_id is None:
        raise NotFound(f"No such {kind}")
    Access(principal=principal, permission=PERMISSIONS[kind]).require(team_id, resource=kind)


def log_source(channel: str) -> LogSource | None:
    """Where a log channel's lines are stored by offset; None for channels of events only."""
    kind, item_id, logs = parse(channel)
    if kind == "build":
        return build_logs.log_source(item_id)
    if kind == "server" and logs:
        return server_service.log_source(item_id)
    return None
