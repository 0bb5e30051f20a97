"""Roles and the one matrix saying which role holds which `{resource}:{action}` permission."""
from __future__ import annotations

from enum import Enum


class Role(str, Enum):
    owner = "owner"
    admin = "admin"
    developer = "developer"
    viewer = "viewer"


RESOURCES = ("team", "member", "apikey", "project", "env", "deployment", "build", "server", "observability")
ACTIONS = ("read", "create", "update", "delete", "deploy", "manage")

_VIEWER = {
    "team:read", "member:read", "apikey:read", "apikey:create", "apikey:delete",
    "project:read", "env:read", "deployment:read", "build:read", "server:read", "observability:read",
}
_DEVELOPER = _VIEWER | {
    "project:create", "project:update", "env:update", "env:delete",
    "deployment:create", "deployment:update", "deployment:deploy", "build:create", "build:update",
    "server:deploy",
}
_ADMIN = _DEVELOPER | {
    "team:update", "member:create", "member:update", "member:delete", "apikey:manage",
    "project:delete", "deployment:delete",
}
_OWNER = _ADMIN | {"team:delete", "team:manage"}

MATRIX: dict[Role, frozenset[str]] = {
    Role.viewer: frozenset(_VIEWER),
    Role.developer: frozenset(_DEVELOPER),
    Role.admin: frozenset(_ADMIN),
    Role.owner: frozenset(_OWNER),
}

# A role may grant only roles at or below its own rank; only owners grant owner.
RANK = {Role.viewer: 0, Role.developer: 1, Role.admin: 2, Role.owner: 3}


def allows(role: Role | str, permission: str) -> bool:
    return permission in MATRIX[Role(role)]


def check_permission_name(permission: str) -> str:
    resource, _, action = permission.partition(":")
    if resource not in RESOURCES or action not in ACTIONS:
        raise ValueError(f"unknown permission {permission!r}")
    return permission
