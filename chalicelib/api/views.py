"""Stored items -> API response models. Secrets never pass through here unmasked."""
from __future__ import annotations

from typing import Callable, TypeVar

from pydantic import BaseModel

from chalicelib.db.models import ApiKey, Build, Deploy, Deployment, Server, EnvVar, Member, Project, Team, map_or_empty
from chalicelib.db.pages import Page
from chalicelib.models import api

T = TypeVar("T")


def page(found: Page[T], view: Callable[[T], BaseModel], model: type[BaseModel]) -> api.Page:
    """A stored page as the API's page of `model` (the typed Page serializes each item's fields)."""
    return api.Page[model](items=[view(item) for item in found.items], next_cursor=found.next_cursor)


def team(item: Team, role: str | None = None) -> api.Team:
    return api.Team(id=item.team_id, name=item.name, role=role, created_at=item.created_at)


def membership(item: Member) -> api.Team:
    """One of the caller's teams, as seen through their membership."""
    return api.Team(id=item.team_id, name=item.team_name, role=item.role, created_at=item.created_at)


def member(item: Member) -> api.Member:
    return api.Member(
        team_id=item.team_id, user_id=item.user_id, role=item.role, machine=bool(item.machine),
        created_at=item.created_at,
    )


def api_key(item: ApiKey) -> api.ApiKey:
    return api.ApiKey(
        id=item.key_id, name=item.name, team_id=item.team_id, user_id=item.user_id,
        scope_team_id=item.scope_team_id, hint=f"…{item.token_hint}", created_by=item.created_by,
        created_at=item.created_at, last_used_at=item.last_used_at, revoked_at=item.revoked_at,
    )


def api_key_created(item: ApiKey, secret: str) -> api.ApiKeyCreated:
    return api.ApiKeyCreated(**api_key(item).model_dump(), secret=secret)


def project(item: Project) -> api.ProjectOut:
    source = map_or_empty(item.source)
    return api.ProjectOut(
        id=item.project_id, team_id=item.team_id, name=item.name, slug=item.slug, source=source,
        default_branch=item.default_branch, created_at=item.created_at, updated_at=item.updated_at,
        **map_or_empty(item.build_settings),
    )


def env_var(item: EnvVar) -> api.EnvVarOut:
    return api.EnvVarOut(name=item.name, value=api.MASK, updated_at=item.updated_at)


def deployment(item: Deployment) -> api.DeploymentOut:
    overrides = [api.MaskedVar(name=name, value=api.MASK) for name in sorted(item.env_overrides_or_empty())]
    return api.DeploymentOut(
        id=item.deployment_id, project_id=item.project_id, team_id=item.team_id, type=item.type,
        branch=item.branch, slug=item.slug, status=item.status, current_build_id=item.current_build_id,
        server_id=item.server_id, public_url=item.public_url, status_reason=item.status_reason,
        env_overrides=overrides,
        created_at=item.created_at, updated_at=item.updated_at,
    )


def build(item: Build) -> api.BuildOut:
    return api.BuildOut(
        id=item.build_id, deployment_id=item.deployment_id, project_id=item.project_id, team_id=item.team_id,
        environment=item.environment, status=item.status, trigger=item.trigger, ref=item.ref, commit=item.commit,
        attempt=int(item.attempt or 0), runner=item.runner, reason=item.reason, log_lines=int(item.log_lines or 0),
        log_key=item.log_key, artifact_key=item.artifact_key, artifact_sha256=item.artifact_sha256,
        artifact_bytes=int(item.artifact_bytes) if item.artifact_bytes is not None else None,
        node_major=int(item.node_major) if item.node_major is not None else None,
        github=map_or_empty(item.github) or None,
        created_at=item.created_at, queued_at=item.queued_at, started_at=item.started_at,
        finished_at=item.finished_at,
    )


def deploy(item: Deploy) -> api.DeployOut:
    return api.DeployOut(
        id=item.deploy_id, deployment_id=item.deployment_id, project_id=item.project_id, team_id=item.team_id,
        action=item.action, trigger=item.trigger, build_id=item.build_id, server_id=item.server_id,
        previous_server_id=item.previous_server_id, status=item.status, attempt=int(item.attempt or 0),
        reason=item.reason, requested_by=item.requested_by, created_at=item.created_at,
        started_at=item.started_at, healthy_at=item.healthy_at, finished_at=item.finished_at,
    )


def server(item: Server) -> api.ServerOut:
    return api.ServerOut(
        id=item.server_id, deployment_id=item.deployment_id, build_id=item.build_id, team_id=item.team_id,
        project_id=item.project_id, deploy_id=item.deploy_id, runner=item.runner, status=item.status,
        health=item.health, host=item.host, port=int(item.port) if item.port is not None else None,
        pid=int(item.pid) if item.pid is not None else None, task_arn=item.task_arn,
        cpu_percent=float(item.cpu_percent) if item.cpu_percent is not None else None,
        memory_bytes=int(item.memory_bytes) if item.memory_bytes is not None else None,
        last_check_at=item.last_check_at, started_at=item.started_at, stopped_at=item.stopped_at,
        reason=item.reason, created_at=item.created_at,
    )
