"""Teams and memberships in DynamoDB."""
from __future__ import annotations

from pynamodb.transactions import TransactWrite

from chalicelib.db import keys
from chalicelib.db.connection import connection
from chalicelib.db.errors import translated
from chalicelib.db.models import Member, Team, utcnow
from chalicelib.db.pages import Page, query_page
from chalicelib.errors import NotFound

OWNER = "owner"


def new_member(team: Team, user_id: str, role: str, machine: bool = False) -> Member:
    return Member(
        keys.team(team.team_id),
        keys.member_sk(user_id),
        gsi1pk=keys.user(user_id),
        gsi1sk=keys.team(team.team_id),
        team_id=team.team_id,
        team_name=team.name,
        user_id=user_id,
        role=role,
        machine=1 if machine else 0,
    )


def create_team(team: Team, owner: Member) -> None:
    with translated("The team already exists"):
        with TransactWrite(connection=connection()) as tx:
            tx.save(team, condition=Team.pk.does_not_exist())
            tx.save(owner, condition=Member.pk.does_not_exist())


def find_team(team_id: str) -> Team | None:
    with translated():
        try:
            return Team.get(keys.team(team_id), keys.META)
        except Team.DoesNotExist:
            return None


def find_member(team_id: str, user_id: str) -> Member | None:
    with translated():
        try:
            return Member.get(keys.team(team_id), keys.member_sk(user_id))
        except Member.DoesNotExist:
            return None


def list_members(team_id: str, limit: int, cursor: str | None) -> Page[Member]:
    with translated():
        return query_page(
            Member.query, "PK", keys.team(team_id), limit, cursor,
            range_key_condition=Member.sk.startswith(keys.MEMBER_PREFIX),
        )


def list_memberships(user_id: str, limit: int, cursor: str | None) -> Page[Member]:
    with translated():
        return query_page(Member.gsi1.query, "GSI1PK", keys.user(user_id), limit, cursor)


def add_member(team: Team, member: Member) -> None:
    """A new owner bumps the team's owner count in the same transaction."""
    with translated("The user is already a member of this team", code="member_exists"):
        with TransactWrite(connection=connection()) as tx:
            tx.save(member, condition=Member.pk.does_not_exist())
            if member.role == OWNER:
                tx.update(team, actions=[Team.owner_count.add(1)], condition=Team.pk.exists())


def change_role(team: Team, member: Member, role: str) -> Member:
    delta = (role == OWNER) - (member.role == OWNER)
    with translated("The team's owners changed meanwhile; the last owner stays", code="last_owner"):
        with TransactWrite(connection=connection()) as tx:
            tx.update(
                member,
                actions=[Member.role.set(role), Member.updated_at.set(utcnow())],
                condition=Member.role == member.role,
            )
            if delta:
                tx.update(team, actions=[Team.owner_count.add(delta)], condition=Team.owner_count > (0 if delta > 0 else 1))
    return find_member(member.team_id, member.user_id) or member


def remove_member(team: Team, member: Member) -> None:
    with translated("The last owner of a team cannot be removed", code="last_owner"):
        with TransactWrite(connection=connection()) as tx:
            tx.delete(member, condition=Member.role == member.role)
            if member.role == OWNER:
                tx.update(team, actions=[Team.owner_count.add(-1)], condition=Team.owner_count > 1)


def require_team(team_id: str) -> Team:
    team = find_team(team_id)
    if team is None:
        raise NotFound("No such team")
    return team

