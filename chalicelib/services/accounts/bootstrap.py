"""A stage's first team and owner (`make deploy`, infra/stage/): once per stage, never again.

The owner is a user id: the default `owner`, who signs in with the key minted here, or the `sub` of
an existing JWT identity (an identity provider's user), who can then sign in with their JWT too. A
stage is bootstrapped once that user owns a team: a later deploy finds the ownership and
mints nothing, unless asked for a new owner key for that team (`mint_again`). Deploys of one stage
do not run at once (CloudFormation refuses a second update of a stack in progress), so the check
needs no lock.
"""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.auth.rbac import Role
from chalicelib.db import teams as team_store
from chalicelib.ids import check_user_id
from chalicelib.services.accounts import api_keys as key_service
from chalicelib.services.accounts import teams

DEFAULT_OWNER = "owner"
DEFAULT_TEAM = "default"
KEY_NAME = "owner (stage bootstrap)"


@dataclass(frozen=True)
class Bootstrapped:
    team_id: str
    owner_user_id: str
    founded: bool  # the team was made now
    token: str | None  # a key minted now, to be shown once and never stored


def bootstrap_stage(owner_user_id: str = DEFAULT_OWNER, team_name: str = DEFAULT_TEAM,
                    mint_again: bool = False) -> Bootstrapped:
    check_user_id(owner_user_id)
    owned = [m for m in team_store.list_memberships(owner_user_id, 100, None).items if m.role == Role.owner.value]
    if owned:
        team_id = owned[0].team_id
        token = key_service.issue_owner_key(team_id, owner_user_id, KEY_NAME) if mint_again else None
        return Bootstrapped(team_id, owner_user_id, founded=False, token=token)
    team = teams.found_team(team_name, owner_user_id)
    token = key_service.issue_owner_key(team.team_id, owner_user_id, KEY_NAME)
    return Bootstrapped(team.team_id, owner_user_id, founded=True, token=token)
