"""Deployments in DynamoDB, created together with their slug and slot claims."""
from __future__ import annotations

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.db import keys
from chalicelib.db.conditional import update_if
from chalicelib.db.connection import connection
from chalicelib.db.errors import translated
from chalicelib.db.models import Claim, Deployment, utcnow
from chalicelib.db.pages import Page, query_page
from chalicelib.errors import Conflict
from chalicelib.db.statuses import DeploymentStatus


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


# A build may show as `building` only on a deployment that serves nothing: never over running/deploying.
BUILDABLE = (DeploymentStatus.PENDING, DeploymentStatus.STOPPED, DeploymentStatus.FAILED)


def update(deployment_id: str, actions: list, condition) -> bool:
    """One conditional update of the deployment, False if it is gone or `condition` does not hold.

    The version moves (Model.update adds it): a PATCH that read the deployment before fails.
    """
    return update_if(Deployment, keys.deployment(deployment_id), keys.META,
                     [*actions, Deployment.updated_at.set(utcnow())], Deployment.pk.exists() & condition)


def mark_building(deployment_id: str, build_id: str) -> bool:
    """pending|stopped|failed -> building, remembering the status (and reason) it had; a deployment
    already `building` is taken over by this newer build (the status to restore stays)."""
    for _ in range(3):
        current = find(deployment_id)
        if current is None:
            return False
        if current.status == DeploymentStatus.BUILDING:
            if current.building_build_id == build_id:
                return False
            if update(deployment_id, [Deployment.building_build_id.set(build_id)],
                       (Deployment.status == DeploymentStatus.BUILDING)
                       & (Deployment.building_build_id == current.building_build_id)):
                return True
            continue
        if current.status not in BUILDABLE:
            return False
        actions = [Deployment.status.set(DeploymentStatus.BUILDING), Deployment.building_build_id.set(build_id),
                   Deployment.status_before_build.set(current.status), Deployment.status_reason.remove(),
                   Deployment.reason_before_build.remove() if current.status_reason is None
                   else Deployment.reason_before_build.set(current.status_reason)]
        if update(deployment_id, actions, Deployment.status == current.status):
            return True
    return False


def restore_after_build(deployment_id: str, build_id: str) -> bool:
    """building -> the status before, if `build_id` is still the build it shows (no newer build, no deploy
    moved it meanwhile)."""
    current = find(deployment_id)
    if current is None or current.status != DeploymentStatus.BUILDING or current.building_build_id != build_id:
        return False
    previous = current.status_before_build or DeploymentStatus.PENDING
    reason = current.reason_before_build
    actions = [Deployment.status.set(previous), Deployment.building_build_id.remove(),
               Deployment.status_before_build.remove(), Deployment.reason_before_build.remove(),
               Deployment.status_reason.remove() if reason is None else Deployment.status_reason.set(reason)]
    return update(deployment_id, actions,
                   (Deployment.status == DeploymentStatus.BUILDING) & (Deployment.building_build_id == build_id))


def find_many(deployment_ids) -> dict[str, Deployment]:
    """deployment id -> deployment for those that exist (BatchGetItem)."""
    from chalicelib.db.lifecycle import find_many as batch_find

    return batch_find(Deployment, keys.deployment, "deployment_id", deployment_ids)
