"""Which channels exist, who may read them, and where their stored log is (for resume).

A channel is `{kind}:{id}` (or `server:{id}:logs`); the caller may subscribe only if it may read
the resource behind it, decided by the same RBAC as the REST API (not a member: not found).

Access is checked on subscribe (`require`) and again on every delivery (`recheck`): a member
removed from the team or a revoked key stops receiving within MA_WS_ACCESS_CACHE_SECONDS. Both
are cached per process, per (principal, team), for at most that window, so a batch to 500
subscribers of 10 principals costs at most 10 membership reads, and usually none, and 500
subscribes of those principals cost no more.
"""
from __future__ import annotations

import enum
import functools
import re
import time

from chalicelib.auth.access import Access, Principal, api_key_revoked
from chalicelib.channels import LogSource
from chalicelib.db import builds, deployments, projects, servers
from chalicelib.errors import BadRequest, Forbidden, NotFound, Unauthorized
from chalicelib.settings import get_settings
from chalicelib.ttl_cache import TTLCache
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


class Verdict(str, enum.Enum):
    """What a delivery does with one subscription after the re-check."""

    DELIVER = "deliver"
    ACCESS_REVOKED = "access_revoked"  # drop the subscription and tell the client why
    KEY_REVOKED = "key_revoked"  # close the connection
    TOKEN_EXPIRED = "token_expired"  # close the connection


@functools.lru_cache(maxsize=1)
def _caches() -> tuple[TTLCache, TTLCache]:
    """(channel -> team, (principal, team) -> Access or None), built from the settings at first use."""
    seconds = get_settings().ws_access_cache_seconds
    return TTLCache(seconds), TTLCache(seconds)


def key_revoked(key_id: str | None, *, cached: bool = False) -> bool:
    """Whether the API key a principal acts through is gone or revoked (False without a key);
    `cached`: as known within the re-check window (a connect's check, before the first delivery's)."""
    return api_key_revoked(key_id, cached=cached)


def _access_in(principal: Principal, team_id: str) -> Access | None:
    """An Access of `principal` with its role in `team_id` read; None if its API key was revoked."""
    if key_revoked(principal.key_id):
        return None
    access = Access(principal=principal, permission=None)
    access.role_in(team_id)  # read once here; require() below reuses it
    return access


def expired(expires_at: float | None, now: float | None = None) -> bool:
    """Whether a credential that stops being valid at `expires_at` (epoch s; None: never) has."""
    return expires_at is not None and expires_at <= (time.time() if now is None else now)


def require(principal: Principal, channel: str) -> None:
    """`authorize`, answered from the re-check's cache: a subscribe then costs what one delivery
    does (usually no read), and grants nothing a delivery within the same window would not.
    Raises NotFound, Forbidden, BadRequest, or Unauthorized (`key_revoked`)."""
    kind, item_id, _ = parse(channel)
    teams, accesses = _caches()
    team_id = teams.get(channel, lambda: _team_of(kind, item_id))
    if team_id is None:
        raise NotFound(f"No such {kind}")  # or gone since
    access = accesses.get((principal, team_id), lambda: _access_in(principal, team_id))
    if access is None:
        raise Unauthorized("The API key was revoked", code=Verdict.KEY_REVOKED.value)
    access.require(team_id, PERMISSIONS[kind], resource=kind)


def recheck(principal: Principal, channel: str) -> Verdict:
    """May `principal` still read `channel`? The REST API's `Access.require` on the channel's team,
    cached per (principal, team) for MA_WS_ACCESS_CACHE_SECONDS. Token expiry is the caller's to
    check (it belongs to a connection, not to the principal's identity)."""
    try:
        require(principal, channel)
    except Unauthorized:
        return Verdict.KEY_REVOKED
    except (NotFound, Forbidden):
        return Verdict.ACCESS_REVOKED
    return Verdict.DELIVER


def log_source(channel: str) -> LogSource | None:
    """Where a log channel's lines are stored by offset; None for channels of events only."""
    kind, item_id, logs = parse(channel)
    if kind == "build":
        return build_logs.log_source(item_id)
    if kind == "server" and logs:
        return server_service.log_source(item_id)
    return None
