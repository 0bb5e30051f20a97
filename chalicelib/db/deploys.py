"""Deploys in DynamoDB: created with their ActiveDeploy marker; every status change conditional."""
from __future__ import annotations

from typing import Iterable, Iterator

from pynamodb.transactions import TransactWrite

from chalicelib.db import keys, lifecycle
from chalicelib.db.connection import connection
from chalicelib.db.errors import translated
from chalicelib.db.models import ActiveDeploy, Deploy
from chalicelib.db.pages import Page, query_page

ACTIVE = ("queued", "running")
TERMINAL = ("succeeded", "failed", "superseded")


def _marker(deploy_id: str) -> ActiveDeploy:
    return ActiveDeploy(keys.ACTIVE_DEPLOYS, deploy_id, deploy_id=deploy_id)


def create(deploy: Deploy) -> None:
    with translated("The deploy already exists", code="deploy_exists"):
        with TransactWrite(connection=connection()) as tx:
            tx.save(deploy, condition=Deploy.pk.does_not_exist())
            tx.save(_marker(deploy.deploy_id))


def find(deploy_id: str) -> Deploy | None:
    with translated():
        try:
            return Deploy.get(keys.deploy(deploy_id), keys.META, consistent_read=True)
        except Deploy.DoesNotExist:
            return None


def list_for_deployment(deployment_id: str, limit: int, cursor: str | None) -> Page[Deploy]:
    with translated():
        return query_page(Deploy.gsi1.query, "GSI1PK", keys.deployment_deploys(deployment_id), limit, cursor,
                          scan_index_forward=False)


def active_ids() -> Iterator[str]:
    with translated():
        for marker in ActiveDeploy.query(keys.ACTIVE_DEPLOYS):
            yield marker.deploy_id


def drop_marker(deploy_id: str) -> None:
    with translated():
        _marker(deploy_id).delete()


def transition(deploy_id: str, allowed: Iterable[str], to: str, *, expect_attempt: int | None = None,
               **fields) -> Deploy | None:
    return lifecycle.transition(lambda: find(deploy_id), Deploy, lambda: _marker(deploy_id), ACTIVE,
                                allowed, to, expect_attempt=expect_attempt, **fields)


def set_fields(deploy_id: str, attempt: int, **fields) -> bool:
    """Facts of a running attempt (its server, the lease); False once the attempt lost the deploy."""
    return lifecycle.set_fields(Deploy, keys.deploy(deploy_id), keys.META,
                                condition=(Deploy.status == "running") & (Deploy.attempt == attempt), **fields)
