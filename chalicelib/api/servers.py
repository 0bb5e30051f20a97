"""Deploy actions of a deployment, its deploys, and its running servers with their logs."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import views
from chalicelib.api.routing import Call, route
from chalicelib.models import api
from chalicelib.models.query import ServerLogQuery
from chalicelib.services.deploys import actions as deploys
from chalicelib.services.deploys import servers

bp = Blueprint(__name__)

@route(bp, "POST", "/deployments/{deploymentId}/redeploy", permission="deployment:deploy",
       body=api.DeployRequest, response=api.DeployOut, status=202)
def redeploy(call: Call, deploymentId: str):
    """Deploy a build again without building (default: the current build)."""
    return views.deploy(deploys.redeploy(call.access, deploymentId, call.body))


@route(bp, "POST", "/deployments/{deploymentId}/rollback", permission="deployment:deploy",
       body=api.DeployRequest, response=api.DeployOut, status=202)
def rollback(call: Call, deploymentId: str):
    """Deploy an older succeeded build's artifact (default: the one before the current build)."""
    return views.deploy(deploys.rollback(call.access, deploymentId, call.body))


@route(bp, "POST", "/deployments/{deploymentId}/restart", permission="deployment:deploy",
       response=api.DeployOut, status=202)
def restart_deployment(call: Call, deploymentId: str):
    """Replace the server with a fresh one of the current build, without a gap."""
    return views.deploy(deploys.restart(call.access, deploymentId))


@route(bp, "POST", "/deployments/{deploymentId}/stop", permission="deployment:deploy",
       response=api.DeployOut, status=202)
def stop_deployment(call: Call, deploymentId: str):
    """Stop serving the deployment (its server is stopped; restart or redeploy starts it again)."""
    return views.deploy(deploys.stop(call.access, deploymentId))


@route(bp, "GET", "/deployments/{deploymentId}/deploys", permission="deployment:read",
       response=api.Page[api.DeployOut], paginated=True)
def list_deploys(call: Call, deploymentId: str):
    """List a deployment's deploys, newest first."""
    return views.page(deploys.list_deploys(call.access, deploymentId, call.limit, call.cursor), views.deploy, api.DeployOut)


@route(bp, "GET", "/deploys/{deployId}", permission="deployment:read", response=api.DeployOut)
def get_deploy(call: Call, deployId: str):
    """Read a deploy."""
    return views.deploy(deploys.get_deploy(call.access, deployId))


@route(bp, "GET", "/deployments/{deploymentId}/servers", permission="server:read",
       response=api.Page[api.ServerOut], paginated=True)
def list_servers(call: Call, deploymentId: str):
    """List a deployment's servers, newest first."""
    return views.page(servers.list_servers(call.access, deploymentId, call.limit, call.cursor), views.server, api.ServerOut)


@route(bp, "GET", "/servers/{serverId}", permission="server:read", response=api.ServerOut)
def get_server(call: Call, serverId: str):
    """Read a server: status, health, last check, CPU and memory."""
    return views.server(servers.get_server(call.access, serverId))


@route(bp, "GET", "/servers/{serverId}/logs", permission="server:read", response=api.ServerLogOut, query=ServerLogQuery)
def get_server_logs(call: Call, serverId: str):
    """Read a server's output: the last `tail` lines, or the lines from offset `since`."""
    return servers.read_logs(call.access, serverId, tail=call.query.tail, since=call.query.since)
