"""API keys in DynamoDB: looked up by id, listed per team, revoked by a conditional write."""
from __future__ import annotations

from datetime import timedelta

from pynamodb.exceptions import PynamoDBException

from chalicelib.db import keys
from chalicelib.db.errors import translated
from chalicelib.db.models import ApiKey, utcnow
from chalicelib.db.pages import Page, query_page


def find(key_id: str) -> ApiKey | None:
    with translated():
        try:
            return ApiKey.get(keys.api_key(key_id), keys.META)
        except ApiKey.DoesNotExist:
            return None


def create(key: ApiKey) -> None:
    with translated("The key already exists"):
        key.save(condition=ApiKey.pk.does_not_exist())


def list_for_team(team_id: str, limit: int, cursor: str | None) -> Page[ApiKey]:
    with translated():
        return query_page(ApiKey.gsi1.query, "GSI1PK", keys.team_api_keys(team_id), limit, cursor)


def revoke(key: ApiKey) -> None:
    with translated("The key is already revoked", code="already_revoked"):
        key.update(
            actions=[ApiKey.revoked_at.set(utcnow()), ApiKey.updated_at.set(utcnow())],
            condition=ApiKey.revoked_at.does_not_exist(),
        )


def touch(key: ApiKey, granularity: timedelta) -> None:
    """Record last use at most once per `granularity`: a read path must not write on every call."""
    now = utcnow()
    if key.last_used_at is not None and now - key.last_used_at < granularity:
        return
    try:
        key.update(actions=[ApiKey.last_used_at.set(now)], condition=ApiKey.pk.exists())
    except PynamoDBException:
        pass  # best effort: failing to stamp last use must not fail the caller's request
