"""Projects and their environment variables."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import views
from chalicelib.api.routing import Call, route
from chalicelib.models import api
from chalicelib.services.accounts import projects

bp = Blueprint(__name__)


@route(bp, "GET", "/teams/{teamId}/projects", permission="project:read", response=api.Page[api.ProjectOut],
       paginated=True)
def list_projects(call: Call, teamId: str):
    """List a team's projects."""
    return views.page(projects.list_projects(call.access, teamId, call.limit, call.cursor), views.project, api.ProjectOut)


@route(bp, "POST", "/teams/{teamId}/projects", permission="project:create", body=api.ProjectCreate,
       response=api.ProjectOut, status=201)
def create_project(call: Call, teamId: str):
    """Create a project from a GitHub repository or (where enabled) a local path."""
    return views.project(projects.create_project(call.access, teamId, call.body))


@route(bp, "GET", "/projects/{projectId}", permission="project:read", response=api.ProjectOut)
def get_project(call: Call, projectId: str):
    """Read a project."""
    return views.project(projects.get_project(call.access, projectId))


@route(bp, "PATCH", "/projects/{projectId}", permission="project:update", body=api.ProjectUpdate,
       response=api.ProjectOut)
def update_project(call: Call, projectId: str):
    """Update a project's name, source or default branch."""
    return views.project(projects.update_project(call.access, projectId, call.body))


@route(bp, "DELETE", "/projects/{projectId}", permission="project:delete", status=204)
def delete_project(call: Call, projectId: str):
    """Delete a project with its variables and deployments."""
    return projects.delete_project(call.access, projectId)


@route(bp, "GET", "/projects/{projectId}/env", permission="env:read", response=api.Page[api.EnvVarOut],
       paginated=True)
def list_env(call: Call, projectId: str):
    """List environment variables: names and masked values."""
    return views.page(projects.list_env(call.access, projectId, call.limit, call.cursor), views.env_var, api.EnvVarOut)


@route(bp, "PUT", "/projects/{projectId}/env/{name}", permission="env:update", body=api.EnvVarSet,
       response=api.EnvVarOut)
def set_env(call: Call, projectId: str, name: str):
    """Set an environment variable (encrypted at rest; never returned)."""
    var, _created = projects.set_env(call.access, projectId, name, call.body)
    return views.env_var(var)


@route(bp, "DELETE", "/projects/{projectId}/env/{name}", permission="env:delete", status=204)
def delete_env(call: Call, projectId: str, name: str):
    """Delete an environment variable."""
    return projects.delete_env(call.access, projectId, name)
