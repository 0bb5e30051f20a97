"""Deployments: production, staging and preview environments of a project."""
from __future__ import annotations

from chalicelib import secrets_box
from chalicelib.auth.access import Access
from chalicelib.db import deployments as store
from chalicelib.db import guards
from chalicelib.db import keys
from chalicelib.db.models import Deployment, Project, utcnow
from chalicelib.db.pages import Page
from chalicelib.db.statuses import DeploymentStatus
from chalicelib.errors import Conflict
from chalicelib.ids import new_id
from chalicelib.models import api
from chalicelib.services.accounts.projects import require_project
from chalicelib.services.deploys.slugs import slugify, with_suffix
from chalicelib.settings import get_settings

SLUG_ATTEMPTS = 5


def _base_slug(project: Project, kind: str, branch: str) -> str:
    if kind == "production":
        return slugify(project.slug)
    if kind == "staging":
        return slugify(project.slug, "staging")
    return slugify(project.slug, branch)


def public_url(slug: str) -> str:
    settings = get_settings()
    return f"{settings.public_url_scheme}://{slug}.{settings.public_domain}"


def _override_context(deployment: Deployment, name: str) -> dict[str, str]:
    return {"teamId": deployment.team_id, "deploymentId": deployment.deployment_id, "name": name}


def create_deployment(access: Access, project_id: str, body: api.DeploymentCreate) -> Deployment:
    project = require_project(access, project_id)
    return create_for_project(project, body.type, body.branch or project.default_branch)


def create_for_project(project: Project, kind: str, branch: str) -> Deployment:
    """A new deployment; Conflict `slot_taken` when the project already has one of the kind (and branch)."""
    slug = _base_slug(project, kind, branch)
    for _ in range(SLUG_ATTEMPTS):
        deployment_id = new_id("deployment")
        now = utcnow()
        deployment = Deployment(
            keys.deployment(deployment_id), keys.META,
            gsi1pk=keys.project_deployments(project.project_id),
            gsi1sk=keys.sorted_by_time(now.isoformat(), deployment_id),
            deployment_id=deployment_id, project_id=project.project_id, team_id=project.team_id,
            type=kind, branch=branch, slug=slug, status=DeploymentStatus.PENDING, public_url=public_url(slug),
            env_overrides={}, created_at=now, updated_at=now,
        )
        try:
            store.create(deployment)
            return deployment
        except Conflict as e:
            if e.code != "slug_taken":
                raise
            slug = with_suffix(_base_slug(project, kind, branch))
    raise Conflict("Could not find a free slug; try again", code="slug_taken")


def require_deployment(access: Access, deployment_id: str) -> Deployment:
    return access.require_item("deployment", deployment_id, store.find)


def get_deployment(access: Access, deployment_id: str) -> Deployment:
    return require_deployment(access, deployment_id)


def list_deployments(access: Access, project_id: str, limit: int, cursor: str | None) -> Page[Deployment]:
    project = require_project(access, project_id)
    page = store.list_for_project(project.project_id, limit, cursor)
    return page


def update_deployment(access: Access, deployment_id: str, body: api.DeploymentUpdate) -> Deployment:
    deployment = require_deployment(access, deployment_id)
    if body.env_overrides is not None:
        overrides = deployment.env_overrides_or_empty()
        for name, value in body.env_overrides.items():
            if value is None:
                overrides.pop(name, None)
            else:
                overrides[name] = secrets_box.encrypt(value, _override_context(deployment, name))
        deployment.env_overrides = overrides
    if body.branch is not None and body.branch != deployment.branch:
        if deployment.type == "preview":
            raise Conflict("A preview deployment tracks one branch; create another", code="preview_branch_fixed")
        deployment.branch = body.branch
    deployment.updated_at = utcnow()
    store.save(deployment)
    return deployment


def delete_deployment(access: Access, deployment_id: str) -> None:
    deployment = require_deployment(access, deployment_id)
    guards.forget(deployment.deployment_id)  # first: a delete that fails later is retried whole
    store.delete(deployment)


def decrypted_overrides(deployment: Deployment) -> dict[str, str]:
    """Plain override values for a deploy. Never returned by the API."""
    return {
        name: secrets_box.decrypt(blob, _override_context(deployment, name))
        for name, blob in deployment.env_overrides_or_empty().items()
    }
