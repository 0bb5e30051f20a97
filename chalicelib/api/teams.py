"""Teams, members and API keys."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import views
from chalicelib.api.routing import Call, route
from chalicelib.auth.rbac import Role
from chalicelib.models import api
from chalicelib.services.accounts import api_keys
from chalicelib.services.accounts import teams

bp = Blueprint(__name__)


@route(bp, "GET", "/teams", permission=None, response=api.Page[api.Team], paginated=True)
def list_teams(call: Call):
    """List the teams you belong to."""
    return views.page(teams.list_my_teams(call.access, call.limit, call.cursor), views.membership, api.Team)


@route(bp, "POST", "/teams", permission=None, body=api.TeamCreate, response=api.Team, status=201)
def create_team(call: Call):
    """Create a team; you become its owner."""
    return views.team(teams.create_team(call.access, call.body), Role.owner.value)


@route(bp, "GET", "/teams/{teamId}", permission="team:read", response=api.Team)
def get_team(call: Call, teamId: str):
    """Read a team."""
    team, role = teams.get_team(call.access, teamId)
    return views.team(team, role.value)


@route(bp, "GET", "/teams/{teamId}/members", permission="member:read", response=api.Page[api.Member], paginated=True)
def list_members(call: Call, teamId: str):
    """List a team's members."""
    return views.page(teams.list_members(call.access, teamId, call.limit, call.cursor), views.member, api.Member)


@route(bp, "POST", "/teams/{teamId}/members", permission="member:create", body=api.MemberCreate,
       response=api.Member, status=201)
def add_member(call: Call, teamId: str):
    """Add a member with a role."""
    return views.member(teams.add_member(call.access, teamId, call.body))


@route(bp, "PATCH", "/teams/{teamId}/members/{userId}", permission="member:update", body=api.MemberUpdate,
       response=api.Member)
def change_member_role(call: Call, teamId: str, userId: str):
    """Change a member's role."""
    return views.member(teams.change_role(call.access, teamId, userId, call.body))


@route(bp, "DELETE", "/teams/{teamId}/members/{userId}", permission="member:delete", status=204)
def remove_member(call: Call, teamId: str, userId: str):
    """Remove a member (never the last owner)."""
    return teams.remove_member(call.access, teamId, userId)


@route(bp, "GET", "/teams/{teamId}/api-keys", permission="apikey:read", response=api.Page[api.ApiKey],
       paginated=True)
def list_api_keys(call: Call, teamId: str):
    """List API keys (owners and admins see all; others their own). Secrets are never listed."""
    return views.page(api_keys.list_keys(call.access, teamId, call.limit, call.cursor), views.api_key, api.ApiKey)


@route(bp, "POST", "/teams/{teamId}/api-keys", permission="apikey:create", body=api.ApiKeyCreate,
       response=api.ApiKeyCreated, status=201)
def create_api_key(call: Call, teamId: str):
    """Create an API key; its secret is returned once."""
    return views.api_key_created(*api_keys.create_key(call.access, teamId, call.body))


@route(bp, "DELETE", "/api-keys/{keyId}", permission="apikey:delete", status=204)
def revoke_api_key(call: Call, keyId: str):
    """Revoke an API key."""
    return api_keys.revoke_key(call.access, keyId)
