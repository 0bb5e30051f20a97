"""Who is calling (authentication) and may they do this here (authorization).

A route declares one permission; its service calls `Access.require(team_id)` once it knows which
team owns the resource. Not a member (or a key scoped elsewhere) -> 404, so nothing leaks;
a member whose role lacks the permission -> 403.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable, TypeVar
from datetime import timedelta

from chalicelib.auth import tokens
from chalicelib.auth.rbac import Role, allows
from chalicelib.errors import Forbidden, NotFound, Unauthorized
from chalicelib.ids import check_id
from chalicelib.settings import Settings, get_settings
from chalicelib.ttl_cache import TTLCache

T = TypeVar("T")

LAST_USED_GRANULARITY = timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    user_id: str
    key_id: str | None = None
    scope_team_id: str | None = None  # keys minted for someone else act only in this team
    # When the credential stops being valid (a JWT's `exp`, epoch seconds); None for API keys.
    # Not part of the identity: two tokens of one user are one principal.
    expires_at: int | None = field(default=None, compare=False)


def authenticate(authorization: str | None, settings: Settings, *, cached: bool = False) -> Principal:
    """The caller's principal. `cached`: an API key verified in this process within
    MA_WS_ACCESS_CACHE_SECONDS is not read again (see `_key_caches`); only routes whose effect is
    re-checked later within the same window ask for it (minting a WebSocket ticket)."""
    if not authorization:
        raise Unauthorized("Missing Authorization header", code="missing_credentials")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Use 'Authorization: Bearer <token>'", code="invalid_credentials")
    if token.startswith(tokens.API_KEY_PREFIX):
        return _authenticate_api_key(token, cached)
    user_id, expires_at = tokens.verify_jwt_claims(token, settings)
    return Principal(user_id=user_id, expires_at=expires_at)


def _authenticate_api_key(token: str, cached: bool = False) -> Principal:
    key_id = tokens.parse_api_key(token)
    if cached:
        # Keyed by the token's hash: only the exact token verified before is answered from here, and
        # a failure raises, so it is never kept (guessing stays one read per attempt).
        return _key_caches()[0].get(tokens.hash_token(token), lambda: _verify_api_key(token, key_id))
    return _verify_api_key(token, key_id)


def _verify_api_key(token: str, key_id: str) -> Principal:
    from chalicelib.db import api_keys

    key = api_keys.find(key_id)
    if key is None or key.revoked_at is not None or not tokens.hashes_match(token, key.token_hash):
        raise Unauthorized("Invalid or revoked API key", code="invalid_token")
    api_keys.touch(key, LAST_USED_GRANULARITY)
    _key_caches()[1].put(key_id, False)  # just read: a connect with a ticket of it needs no read of its own
    return Principal(user_id=key.user_id, key_id=key.key_id, scope_team_id=key.scope_team_id)


@functools.lru_cache(maxsize=1)
def _key_caches() -> tuple[TTLCache, TTLCache]:
    """(SHA-256 of a verified API key -> its Principal, key id -> revoked), each entry kept for
    MA_WS_ACCESS_CACHE_SECONDS: the window the WebSocket API already re-checks access in. A
    revocation in this process drops its entries at once (`forget_api_key`); another process
    sees it when its entry expires."""
    seconds = get_settings().ws_access_cache_seconds
    return TTLCache(seconds), TTLCache(seconds)


def api_key_revoked(key_id: str | None, *, cached: bool = False) -> bool:
    """Whether the API key a principal acts through is gone or revoked (False without a key);
    `cached`: as known within the window of `_key_caches`."""
    if not key_id:
        return False
    if cached:
        return _key_caches()[1].get(key_id, lambda: api_key_revoked(key_id))
    from chalicelib.db import api_keys

    key = api_keys.find(key_id)
    return key is None or key.revoked_at is not None


def forget_api_key(key_id: str) -> None:
    """After revoking `key_id`: this process stops answering for it from its caches."""
    verified, revoked = _key_caches()
    verified.discard(lambda _, principal: principal.key_id == key_id)
    revoked.discard(lambda key, _: key == key_id)


@dataclass
class Access:
    """The caller plus the permission its route declared."""

    principal: Principal
    permission: str | None
    checked: bool = field(default=False)
    _roles: dict[str, Role | None] = field(default_factory=dict, repr=False)  # one membership read per team

    @property
    def user_id(self) -> str:
        return self.principal.user_id

    def role_in(self, team_id: str) -> Role | None:
        from chalicelib.db import teams

        if self.principal.scope_team_id and self.principal.scope_team_id != team_id:
            return None
        if team_id not in self._roles:
            member = teams.find_member(team_id, self.user_id)
            self._roles[team_id] = Role(member.role) if member else None
        return self._roles[team_id]

    def require(self, team_id: str, permission: str | None = None, *, resource: str = "resource") -> Role:
        """The caller's role in the team, if it holds the permission; else 404 or 403."""
        permission = permission or self.permission
        assert permission, "a route must declare its permission"
        role = self.role_in(team_id)
        if role is None:
            raise NotFound(f"No such {resource}")
        self.checked = True
        if not allows(role, permission):
            raise Forbidden(f"Your role '{role.value}' lacks the permission '{permission}'")
        return role

    def require_item(self, kind: str, item_id: str, find: Callable[[str], T | None], permission: str | None = None,
                     *, resource: str | None = None) -> T:
        """The stored item `item_id` (an id of `kind`) when the caller may act on it; else 400 for a
        malformed id, 404 when it does not exist or is not the caller's to see, 403 for the role."""
        resource = resource or kind
        check_id(kind, item_id)
        item = find(item_id)
        if item is None:
            raise NotFound(f"No such {resource}")
        self.require(item.team_id, permission, resource=resource)
        return item

    def allowed(self, team_id: str, permission: str) -> bool:
        role = self.role_in(team_id)
        return role is not None and allows(role, permission)

    def mark_checked(self) -> None:
        """For routes scoped to the caller alone (list my teams, create a team)."""
        self.checked = True
