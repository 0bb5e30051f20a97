"""API keys: minted once, stored as a hash, listed without secrets, revoked for good."""
from __future__ import annotations

from chalicelib.auth import tokens
from chalicelib.auth.access import Access, forget_api_key
from chalicelib.auth.rbac import RANK, Role
from chalicelib.db import api_keys as store
from chalicelib.db import keys
from chalicelib.db import teams as team_store
from chalicelib.db.models import ApiKey, utcnow
from chalicelib.errors import Forbidden, Invalid, NotFound
from chalicelib.ids import check_id
from chalicelib.models import api
from chalicelib.db.pages import Page

MANAGE = "apikey:manage"


def create_key(access: Access, team_id: str, body: api.ApiKeyCreate) -> tuple[ApiKey, str]:
    check_id("team", team_id)
    role = access.require(team_id, resource="team")
    if body.user_id and body.machine_user:
        raise Invalid("Give either userId or machineUser, not both", code="ambiguous_owner")
    owner, scope = access.user_id, None
    if body.machine_user or (body.user_id and body.user_id != access.user_id):
        access.require(team_id, MANAGE, resource="team")
        scope = team_id  # a key minted for someone else acts only in this team
        owner = _machine_member(team_id, body, role) if body.machine_user else _existing_member(team_id, body.user_id, role)
    item, token = _mint(team_id, owner, body.name, created_by=access.user_id, scope_team_id=scope)
    return item, token


def issue_owner_key(team_id: str, user_id: str, name: str) -> str:
    """The local stack's first owner key; returns the token, which is never stored."""
    return _mint(team_id, user_id, name, created_by=user_id, scope_team_id=None)[1]


def _mint(team_id: str, user_id: str, name: str, *, created_by: str, scope_team_id: str | None) -> tuple[ApiKey, str]:
    """Store a new key (its hash only) and return it with the token, which exists only here."""
    minted = tokens.mint_api_key()
    item = ApiKey(
        keys.api_key(minted.key_id), keys.META,
        gsi1pk=keys.team_api_keys(team_id), gsi1sk=keys.sorted_by_time(utcnow().isoformat(), minted.key_id),
        key_id=minted.key_id, team_id=team_id, user_id=user_id, name=name,
        token_hash=minted.token_hash, token_hint=minted.hint, scope_team_id=scope_team_id, created_by=created_by,
    )
    store.create(item)
    return item, minted.token


def _may_act_as(granter: Role, role: str) -> None:
    # A key acts with its member's role: minting one for a higher rank would raise the minter.
    if RANK[Role(role)] > RANK[granter]:
        raise Forbidden(f"A {granter.value} cannot mint a key for a member whose role is '{role}'",
                        code="role_too_high")


def _existing_member(team_id: str, user_id: str, granter: Role) -> str:
    member = team_store.find_member(team_id, user_id)
    if member is None:
        raise NotFound("No such member in this team", code="member_not_found")
    _may_act_as(granter, member.role)
    return user_id


def _machine_member(team_id: str, body: api.ApiKeyCreate, granter: Role) -> str:
    user_id = f"machine:{body.machine_user}"
    member = team_store.find_member(team_id, user_id)
    if member is None:
        if RANK[body.role] > RANK[granter]:
            raise Forbidden(f"A {granter.value} cannot grant the role '{body.role.value}'", code="role_too_high")
        team = team_store.require_team(team_id)
        team_store.add_member(team, team_store.new_member(team, user_id, body.role.value, machine=True))
    else:
        _may_act_as(granter, member.role)
    return user_id


def list_keys(access: Access, team_id: str, limit: int, cursor: str | None) -> Page[ApiKey]:
    """Owners and admins see every key of the team; others see their own."""
    check_id("team", team_id)
    access.require(team_id, resource="team")
    sees_all = access.allowed(team_id, MANAGE)
    page = store.list_for_team(team_id, limit, cursor)
    return Page([k for k in page.items if sees_all or k.user_id == access.user_id], page.next_cursor)


def revoke_key(access: Access, key_id: str) -> None:
    key = access.require_item("apikey", key_id, store.find, resource="API key")
    if key.user_id != access.user_id and not access.allowed(key.team_id, MANAGE):
        raise Forbidden("Only owners and admins revoke other members' keys")
    store.revoke(key)
    forget_api_key(key_id)  # this process's caches of verified keys stop answering for it now
