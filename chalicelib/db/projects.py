"""Projects and their environment variables in DynamoDB."""
from __future__ import annotations

from chalicelib.db import keys
from chalicelib.db.errors import translated
from chalicelib.db.models import BaseItem, Claim, Deployment, EnvVar, Project
from chalicelib.db.pages import Page, query_page


def create(project: Project) -> None:
    with translated("The project already exists"):
        project.save(condition=Project.pk.does_not_exist())


def find(project_id: str) -> Project | None:
    with translated():
        try:
            return Project.get(keys.project(project_id), keys.META)
        except Project.DoesNotExist:
            return None


def list_for_team(team_id: str, limit: int, cursor: str | None) -> Page[Project]:
    with translated():
        return query_page(Project.gsi1.query, "GSI1PK", keys.team_projects(team_id), limit, cursor)


def save(project: Project) -> None:
    with translated("The project was changed by someone else; reload and retry", code="version_conflict"):
        project.save()


def delete_cascade(project: Project) -> None:
    """Remove the project with its env vars, deployments and their claims."""
    with translated():
        children = list(BaseItem.query(keys.project(project.project_id)))
        deployments = list(Deployment.gsi1.query(keys.project_deployments(project.project_id)))
        with Project.batch_write() as batch:
            for item in children:
                if item.sk != keys.META:
                    batch.delete(item)
            for deployment in deployments:
                batch.delete(Claim(keys.slug(deployment.slug), keys.META))
                batch.delete(deployment)
        project.delete()


def find_env(project_id: str, name: str) -> EnvVar | None:
    with translated():
        try:
            return EnvVar.get(keys.project(project_id), keys.env_sk(name))
        except EnvVar.DoesNotExist:
            return None


def list_env(project_id: str, limit: int, cursor: str | None) -> Page[EnvVar]:
    with translated():
        return query_page(
            EnvVar.query, "PK", keys.project(project_id), limit, cursor,
            range_key_condition=EnvVar.sk.startswith(keys.ENV_PREFIX),
        )


def save_env(var: EnvVar) -> None:
    with translated("The variable changed meanwhile; retry", code="version_conflict"):
        var.save()


def delete_env(var: EnvVar) -> None:
    with translated("The variable changed meanwhile; retry", code="version_conflict"):
        var.delete()

