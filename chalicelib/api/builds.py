"""Builds of a deployment, their logs, and the project's source token."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import views
from chalicelib.api.routing import Call, route
from chalicelib.models import api
from chalicelib.models.query import LogOffsetQuery
from chalicelib.services.builds import trigger as builds
from chalicelib.services.accounts import source_tokens

bp = Blueprint(__name__)

@route(bp, "POST", "/deployments/{deploymentId}/builds", permission="build:create", body=api.BuildCreate,
       response=api.BuildOut, status=202)
def create_build(call: Call, deploymentId: str):
    """Queue a build of the deployment's branch, or of a given ref or commit."""
    return views.build(builds.trigger_build(call.access, deploymentId, call.body))


@route(bp, "GET", "/deployments/{deploymentId}/builds", permission="build:read",
       response=api.Page[api.BuildOut], paginated=True)
def list_builds(call: Call, deploymentId: str):
    """List a deployment's builds, newest first."""
    return views.page(builds.list_builds(call.access, deploymentId, call.limit, call.cursor), views.build, api.BuildOut)


@route(bp, "GET", "/builds/{buildId}", permission="build:read", response=api.BuildOut)
def get_build(call: Call, buildId: str):
    """Read a build."""
    return views.build(builds.get_build(call.access, buildId))


@route(bp, "POST", "/builds/{buildId}/cancel", permission="build:update", response=api.BuildOut)
def cancel_build(call: Call, buildId: str):
    """Cancel a queued or running build; its processes are killed."""
    return views.build(builds.cancel_build(call.access, buildId))


@route(bp, "GET", "/builds/{buildId}/logs", permission="build:read", response=api.BuildLogOut, query=LogOffsetQuery)
def get_build_logs(call: Call, buildId: str):
    """Read a build's log lines from an offset (live while it runs)."""
    return builds.read_log(call.access, buildId, call.query.since)


@route(bp, "PUT", "/projects/{projectId}/source-token", permission="project:update", body=api.SourceTokenSet,
       response=api.SourceTokenOut)
def set_source_token(call: Call, projectId: str):
    """Store the GitHub token builds use to download the repository (encrypted, never returned)."""
    return source_tokens.set_token(call.access, projectId, call.body)


@route(bp, "GET", "/projects/{projectId}/source-token", permission="project:read", response=api.SourceTokenOut)
def get_source_token(call: Call, projectId: str):
    """Whether a source token is set, with its last characters."""
    return source_tokens.get_token(call.access, projectId)


@route(bp, "DELETE", "/projects/{projectId}/source-token", permission="project:update", status=204)
def delete_source_token(call: Call, projectId: str):
    """Remove the project's source token."""
    return source_tokens.delete_token(call.access, projectId)
