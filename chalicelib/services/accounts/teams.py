"""Teams and their members."""
from __future__ import annotations

from chalicelib.auth.access import Access
from chalicelib.auth.rbac import RANK, Role
from chalicelib.db import keys
from chalicelib.db import teams as store
from chalicelib.db.models import Member, Team
from chalicelib.errors import Conflict, Forbidden, NotFound
from chalicelib.ids import check_id, check_user_id, new_id
from chalicelib.models import api
from chalicelib.db.pages import Page


def create_team(access: Access, body: api.TeamCreate) -> Team:
    access.mark_checked()  # any authenticated user may found a team and becomes its owner
    if access.principal.scope_team_id:
        raise Forbidden("A key minted for one team cannot create teams", code="key_scoped")
    return found_team(body.name, access.user_id)


def found_team(name: str, owner_user_id: str) -> Team:
    """A new team with its one owner (also the local stack's first team, made before any login)."""
    team_id = new_id("team")
    team = Team(keys.team(team_id), keys.META, team_id=team_id, name=name, created_by=owner_user_id, owner_count=1)
    store.create_team(team, store.new_member(team, owner_user_id, Role.owner.value))
    return team


def list_my_teams(access: Access, limit: int, cursor: str | None) -> Page[Member]:
    access.mark_checked()
    page = store.list_memberships(access.user_id, limit, cursor)
    scope = access.principal.scope_team_id
    return Page([m for m in page.items if scope is None or m.team_id == scope], page.next_cursor)


def get_team(access: Access, team_id: str) -> tuple[Team, Role]:
    check_id("team", team_id)
    role = access.require(team_id, resource="team")
    return store.require_team(team_id), role


def list_members(access: Access, team_id: str, limit: int, cursor: str | None) -> Page[Member]:
    check_id("team", team_id)
    access.require(team_id, resource="team")
    page = store.list_members(team_id, limit, cursor)
    return page


def _may_grant(granter: Role, role: Role) -> None:
    if RANK[role] > RANK[granter]:
        raise Forbidden(f"A {granter.value} cannot grant the role '{role.value}'", code="role_too_high")


def add_member(access: Access, team_id: str, body: api.MemberCreate) -> Member:
    check_id("team", team_id)
    granter = access.require(team_id, resource="team")
    _may_grant(granter, body.role)
    team = store.require_team(team_id)
    member = store.new_member(team, body.user_id, body.role.value)
    store.add_member(team, member)
    return member


def change_role(access: Access, team_id: str, user_id: str, body: api.MemberUpdate) -> Member:
    check_id("team", team_id)
    check_user_id(user_id)
    granter = access.require(team_id, resource="team")
    member = _require_member(team_id, user_id)
    _may_grant(granter, Role(member.role))  # an admin cannot demote an owner
    _may_grant(granter, body.role)
    if member.role == body.role.value:
        return member
    team = store.require_team(team_id)
    if member.role == Role.owner.value and team.owner_count <= 1:
        raise Conflict("The last owner of a team cannot be demoted", code="last_owner")
    return store.change_role(team, member, body.role.value)


def remove_member(access: Access, team_id: str, user_id: str) -> None:
    check_id("team", team_id)
    check_user_id(user_id)
    remover = access.require(team_id, resource="team")
    member = _require_member(team_id, user_id)
    _may_grant(remover, Role(member.role))
    team = store.require_team(team_id)
    if member.role == Role.owner.value and team.owner_count <= 1:
        raise Conflict("The last owner of a team cannot be removed", code="last_owner")
    store.remove_member(team, member)


def _require_member(team_id: str, user_id: str):
    member = store.find_member(team_id, user_id)
    if member is None:
        raise NotFound("No such member")
    return member
