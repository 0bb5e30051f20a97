"""Deployments of a project."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import views
from chalicelib.api.routing import Call, route
from chalicelib.models import api
from chalicelib.services.deploys import deployments

bp = Blueprint(__name__)


@route(bp, "GET", "/projects/{projectId}/deployments", permission="deployment:read",
       response=api.Page[api.DeploymentOut], paginated=True)
def list_deployments(call: Call, projectId: str):
    """List a project's deployments."""
    return views.page(deployments.list_deployments(call.access, projectId, call.limit, call.cursor), views.deployment, api.DeploymentOut)


@route(bp, "POST", "/projects/{projectId}/deployments", permission="deployment:create",
       body=api.DeploymentCreate, response=api.DeploymentOut, status=201)
def create_deployment(call: Call, projectId: str):
    """Create a production, staging or preview deployment with a unique slug."""
    return views.deployment(deployments.create_deployment(call.access, projectId, call.body))


@route(bp, "GET", "/deployments/{deploymentId}", permission="deployment:read", response=api.DeploymentOut)
def get_deployment(call: Call, deploymentId: str):
    """Read a deployment."""
    return views.deployment(deployments.get_deployment(call.access, deploymentId))


@route(bp, "PATCH", "/deployments/{deploymentId}", permission="deployment:update", body=api.DeploymentUpdate,
       response=api.DeploymentOut)
def update_deployment(call: Call, deploymentId: str):
    """Update a deployment's env overrides or branch."""
    return views.deployment(deployments.update_deployment(call.access, deploymentId, call.body))


@route(bp, "DELETE", "/deployments/{deploymentId}", permission="deployment:delete", status=204)
def delete_deployment(call: Call, deploymentId: str):
    """Delete a deployment."""
    return deployments.delete_deployment(call.access, deploymentId)
