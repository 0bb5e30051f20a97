"""Deployments in DynamoDB, created together with their slug and slot claims."""
from __future__ import annotations

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.db import keys
from chalicelib.db.connection import connection
from chalicelib.db.errors import translated
from chalicelib.db.models import Claim, Deployment
from chalicelib.db.pages import Page, query_page
from chalicelib.errors import Conflict


def _claims(deployment: Deployment) -> tuple[Claim, Claim]:
    slug = Claim(keys.slug(deployment.slug), keys.META, owner_id=deployment.deployment_id)
    slot = Claim(
        keys.project(deployment.project_id),
        keys.deployment_slot_sk(deployment.type, deployment.branch),
        owner_id=deployment.deployment_id,
    )
    return slug, slot


def create(deployment: Deployment) -> None:
    """Write the deployment and claim its slug and its slot in one transaction.

    Raises Conflict(code='slug_taken') or Conflict(code='deployment_exists').
    """
    slug, slot = _claims(deployment)
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(deployment, condition=Deployment.pk.does_not_exist())
            tx.save(slug, condition=Claim.pk.does_not_exist())
            tx.save(slot, condition=Claim.pk.does_not_exist())
    except TransactWriteError as e:
        reasons = [getattr(r, "code", None) for r in (e.cancellation_reasons or [])]
        if len(reasons) == 3 and reasons[2] == "ConditionalCheckFailed":
            raise Conflict("The project already has such a deployment", code="deployment_exists") from e
        if len(reasons) == 3 and reasons[1] == "ConditionalCheckFailed":
            raise Conflict("The slug is taken", code="slug_taken") from e
        with translated():
            raise


def find(deployment_id: str) -> Deployment | None:
    with translated():
        try:
            return Deployment.get(keys.deployment(deployment_id), keys.META)
        except Deployment.DoesNotExist:
            return None


def list_for_project(project_id: str, limit: int, cursor: str | None) -> Page[Deployment]:
    with translated():
        return query_page(Deployment.gsi1.query, "GSI1PK", keys.project_deployments(project_id), limit, cursor)


def save(deployment: Deployment) -> None:
    with translated("The deployment was changed by someone else; reload and retry", code="version_conflict"):
        deployment.save()


def delete(deployment: Deployment) -> None:
    slug, slot = _claims(deployment)
    with translated("The deployment changed meanwhile; retry", code="version_conflict"):
        with TransactWrite(connection=connection()) as tx:
            tx.delete(deployment)
            tx.delete(slug)
            tx.delete(slot)
