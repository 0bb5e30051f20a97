"""Every route x every role against the one RBAC matrix: the app in-process, AWS in moto's mock.

The route list comes from the running API's own OpenAPI document (each operation carries its
declared `x-permission`), so a route added without a case here fails the test.
"""
from __future__ import annotations

import itertools
import uuid

import pytest

from chalicelib.auth.rbac import MATRIX, Role
from tests.support.observability_stack import ingest_one_trace

ROLES = [r.value for r in Role] + ["outsider"]
_n = itertools.count()


class World:
    """A team with one user per role, and fresh resources for each call."""

    def __init__(self, api, as_user, source_dir):
        self.api, self.as_user = api, as_user
        self.source_dir = source_dir
        tag = uuid.uuid4().hex[:6]
        self.users = {role: f"{role}-{tag}" for role in ROLES}
        self.sessions = {role: as_user(uid) for role, uid in self.users.items()}
        owner = self.sessions["owner"]
        self.team = owner.post(api.url("/teams"), json={"name": "matrix"}).json()["id"]
        for role in ("admin", "developer", "viewer"):
            r = owner.post(api.url(f"/teams/{self.team}/members"), json={"userId": self.users[role], "role": role})
            assert r.status_code == 201

    def url(self, path):
        return self.api.url(path)

    def owner(self):
        return self.sessions["owner"]

    def project(self):
        r = self.owner().post(self.url(f"/teams/{self.team}/projects"),
                              json={"name": f"p{next(_n)}", "source": {"type": "github", "repo": "a/b"}})
        return r.json()["id"]

    def deployment(self):
        r = self.owner().post(self.url(f"/projects/{self.project()}/deployments"), json={"type": "production"})
        return r.json()["id"]

    def build(self):
        """A build still queued (nothing consumes the queue until a test says so)."""
        r = self.owner().post(self.url(f"/deployments/{self.deployment()}/builds"), json={})
        return r.json()["id"]

    def slow_build(self):
        """A build still active when the caller cancels it."""
        return self.build()

    def deployed(self):
        """(deploymentId, buildId, serverId) of a project built and serving (fake runners); made once per world."""
        if getattr(self, "_deployed", None) is None:
            owner = self.owner()
            project = owner.post(self.url(f"/teams/{self.team}/projects"), json={
                "name": f"served{next(_n)}", "source": {"type": "local", "path": str(self.source_dir)}}).json()["id"]
            deployment = owner.post(self.url(f"/projects/{project}/deployments"),
                                    json={"type": "production"}).json()["id"]
            build = owner.post(self.url(f"/deployments/{deployment}/builds"), json={}).json()["id"]
            self.api.run_queues()
            current = owner.get(self.url(f"/deployments/{deployment}")).json()
            assert current["serverId"], current
            self._deployed = (deployment, build, current["serverId"])
        return self._deployed

    def deploy(self):
        """A deploy (stopping a deployment that never ran does no harm)."""
        return self.owner().post(self.url(f"/deployments/{self.deployment()}/stop")).json()["id"]

    def token_project(self):
        project = self.project()
        self.owner().put(self.url(f"/projects/{project}/source-token"), json={"token": "ghp_x"})
        return project

    def env(self):
        project = self.project()
        self.owner().put(self.url(f"/projects/{project}/env/API_TOKEN"), json={"value": "v"})
        return project

    def member(self):
        user = f"target-{next(_n)}"
        self.owner().post(self.url(f"/teams/{self.team}/members"), json={"userId": user, "role": "viewer"})
        return user

    def own_key(self, role):
        """A key owned by the caller (the outsider gets the owner's: it must not even see it)."""
        creator = self.sessions[role if role != "outsider" else "owner"]
        return creator.post(self.url(f"/teams/{self.team}/api-keys"), json={"name": "k"}).json()["id"]

    def observed(self):
        """A project with one ingested trace: (projectId, traceId). Made once per world."""
        if not hasattr(self, "_observed"):
            project = self.project()
            deployment = self.owner().post(self.url(f"/projects/{project}/deployments"),
                                           json={"type": "production"}).json()["id"]
            self._observed = (project, ingest_one_trace(self.api, self.owner(), self.team, project, deployment))
        return self._observed


def case(world: World, op: str, role: str):
    """(method, path, json body) for one operation, with fresh resources where it mutates."""
    t = world.team
    return {
        "list_teams": lambda: ("GET", "/teams", None),
        "create_team": lambda: ("POST", "/teams", {"name": "another"}),
        "get_team": lambda: ("GET", f"/teams/{t}", None),
        "list_members": lambda: ("GET", f"/teams/{t}/members", None),
        "add_member": lambda: ("POST", f"/teams/{t}/members", {"userId": f"new-{next(_n)}", "role": "viewer"}),
        "change_member_role": lambda: ("PATCH", f"/teams/{t}/members/{world.member()}", {"role": "developer"}),
        "remove_member": lambda: ("DELETE", f"/teams/{t}/members/{world.member()}", None),
        "list_api_keys": lambda: ("GET", f"/teams/{t}/api-keys", None),
        "create_api_key": lambda: ("POST", f"/teams/{t}/api-keys", {"name": "mine"}),
        "revoke_api_key": lambda: ("DELETE", f"/api-keys/{world.own_key(role)}", None),
        "list_projects": lambda: ("GET", f"/teams/{t}/projects", None),
        "create_project": lambda: ("POST", f"/teams/{t}/projects", {"name": "n", "source": {"type": "github", "repo": "a/b"}}),
        "get_project": lambda: ("GET", f"/projects/{world.project()}", None),
        "update_project": lambda: ("PATCH", f"/projects/{world.project()}", {"name": "renamed"}),
        "delete_project": lambda: ("DELETE", f"/projects/{world.project()}", None),
        "list_env": lambda: ("GET", f"/projects/{world.env()}/env", None),
        "set_env": lambda: ("PUT", f"/projects/{world.project()}/env/API_TOKEN", {"value": "x"}),
        "delete_env": lambda: ("DELETE", f"/projects/{world.env()}/env/API_TOKEN", None),
        "list_deployments": lambda: ("GET", f"/projects/{world.project()}/deployments", None),
        "create_deployment": lambda: ("POST", f"/projects/{world.project()}/deployments", {"type": "production"}),
        "get_deployment": lambda: ("GET", f"/deployments/{world.deployment()}", None),
        "update_deployment": lambda: ("PATCH", f"/deployments/{world.deployment()}", {"envOverrides": {"A": "b"}}),
        "delete_deployment": lambda: ("DELETE", f"/deployments/{world.deployment()}", None),
        "create_build": lambda: ("POST", f"/deployments/{world.deployment()}/builds", {}),
        "list_builds": lambda: ("GET", f"/deployments/{world.deployment()}/builds", None),
        "get_build": lambda: ("GET", f"/builds/{world.build()}", None),
        "get_build_logs": lambda: ("GET", f"/builds/{world.build()}/logs", None),
        "cancel_build": lambda: ("POST", f"/builds/{world.slow_build()}/cancel", None),
        "set_source_token": lambda: ("PUT", f"/projects/{world.project()}/source-token", {"token": "ghp_x"}),
        "get_source_token": lambda: ("GET", f"/projects/{world.token_project()}/source-token", None),
        "delete_source_token": lambda: ("DELETE", f"/projects/{world.token_project()}/source-token", None),
        "list_traces": lambda: ("GET", f"/projects/{world.observed()[0]}/traces", None),
        "get_trace": lambda: ("GET", "/projects/{}/traces/{}".format(*world.observed()), None),
        "list_logs": lambda: ("GET", f"/projects/{world.observed()[0]}/logs", None),
        "get_metrics": lambda: ("GET", f"/projects/{world.observed()[0]}/metrics", None),
        "list_scores": lambda: ("GET", f"/projects/{world.observed()[0]}/scores", None),
        "team_usage": lambda: ("GET", f"/teams/{t}/usage", None),
        "redeploy": lambda: ("POST", f"/deployments/{world.deployed()[0]}/redeploy", {}),
        "rollback": lambda: ("POST", f"/deployments/{world.deployed()[0]}/rollback",
                             {"buildId": world.deployed()[1]}),
        "restart_deployment": lambda: ("POST", f"/deployments/{world.deployed()[0]}/restart", None),
        "stop_deployment": lambda: ("POST", f"/deployments/{world.deployment()}/stop", None),
        "list_deploys": lambda: ("GET", f"/deployments/{world.deployment()}/deploys", None),
        "get_deploy": lambda: ("GET", f"/deploys/{world.deploy()}", None),
        "list_servers": lambda: ("GET", f"/deployments/{world.deployment()}/servers", None),
        "get_server": lambda: ("GET", f"/servers/{world.deployed()[2]}", None),
        "get_server_logs": lambda: ("GET", f"/servers/{world.deployed()[2]}/logs", None),
        "create_ws_ticket": lambda: ("POST", "/ws/tickets", None),
        "list_releases": lambda: ("GET", f"/deployments/{world.deployed()[0]}/releases", None),
        "compare_releases": lambda: ("GET", "/deployments/{0}/releases/compare?base={1}&head={1}".format(
            *world.deployed()), None),
        # release guard (issue 17)
        "get_guard": lambda: ("GET", f"/deployments/{world.deployment()}/guard", None),
        "set_guard": lambda: ("PUT", f"/deployments/{world.deployment()}/guard",
                              {"rules": [{"metric": "errorRate", "maxIncrease": 0.05}]}),
        "list_events": lambda: ("GET", f"/deployments/{world.deployment()}/events", None),
    }[op]()


@pytest.fixture
def operations(api):
    doc = api.session().get(api.url("/openapi.json")).json()
    ops = []
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            if {"bearer": []} in op["security"]:  # every route authenticated by a token
                ops.append((op["operationId"], method.upper(), path, op.get("x-permission")))
    return ops


# Routes authenticated by a signature over the body instead of a token: no role applies to them.
SIGNATURE_AUTHENTICATED = {("POST", "/webhooks/github"): "githubSignature"}


def test_routes_without_a_token_are_public_or_signature_authenticated_as_listed(api):
    doc = api.session().get(api.url("/openapi.json")).json()
    signed = {(method.upper(), path): op["security"][0] for path, methods in doc["paths"].items()
              for method, op in methods.items() if op["security"] and {"bearer": []} not in op["security"]}
    assert {k: next(iter(v)) for k, v in signed.items()} == SIGNATURE_AUTHENTICATED


@pytest.mark.parametrize("role", ROLES)
def test_every_route_follows_the_matrix_for_the_role(api, as_user, operations, tmp_path, role):
    (tmp_path / "src" / "package.json").parent.mkdir()
    (tmp_path / "src" / "package.json").write_text('{"name": "served"}')
    world = World(api, as_user, tmp_path / "src")
    checked = 0
    for op, method, path, permission in operations:
        m, url, body = case(world, op, role)
        assert m == method, f"case for {op} uses {m}, route is {method}"
        response = world.sessions[role].request(m, world.url(url), json=body)
        where = f"{role} {m} {path} ({permission}): {response.status_code} {response.text[:200]}"
        if permission is None:
            expected_ok = True  # any authenticated caller, acting on themselves
        elif role == "outsider":
            assert response.status_code == 404, where
            checked += 1
            continue
        else:
            expected_ok = permission in MATRIX[Role(role)]
        if expected_ok:
            assert 200 <= response.status_code < 300, where
        else:
            assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden", where
        checked += 1
    assert checked == len(operations)


def test_unauthenticated_calls_to_every_route_get_401(api, operations):
    anon = api.session()
    for _op, method, path, _perm in operations:
        concrete = path.replace("{teamId}", "team_" + "0" * 26).replace("{projectId}", "prj_" + "0" * 26)
        concrete = concrete.replace("{deploymentId}", "dep_" + "0" * 26).replace("{keyId}", "key_" + "0" * 26)
        concrete = concrete.replace("{userId}", "u").replace("{name}", "N").replace("{buildId}", "bld_" + "0" * 26)
        concrete = concrete.replace("{deployId}", "dpl_" + "0" * 26).replace("{serverId}", "srv_" + "0" * 26)
        concrete = concrete.replace("{traceId}", "t")
        r = anon.request(method, api.url(concrete), json={})
        assert r.status_code == 401, f"{method} {path}: {r.status_code}"


def test_an_admin_cannot_mint_a_key_for_a_higher_member_and_so_cannot_promote_themselves(api, as_user):
    """A key acts with its member's role: minting one for the owner (or a higher machine member) would
    let an admin act as owner, promote themselves and demote the owner."""
    tag = uuid.uuid4().hex[:6]
    owner_id, admin_id = f"owner-{tag}", f"admin-{tag}"
    owner, admin = as_user(owner_id), as_user(admin_id)
    team = owner.post(api.url("/teams"), json={"name": "ranks"}).json()["id"]
    assert owner.post(api.url(f"/teams/{team}/members"), json={"userId": admin_id, "role": "admin"}).status_code == 201
    assert owner.post(api.url(f"/teams/{team}/members"), json={"userId": f"dev-{tag}", "role": "developer"}).status_code == 201
    ci = owner.post(api.url(f"/teams/{team}/api-keys"), json={"name": "ci", "machineUser": "ci", "role": "owner"})
    assert ci.status_code == 201, ci.text
    keys = api.url(f"/teams/{team}/api-keys")

    for body in ({"name": "as-owner", "userId": owner_id}, {"name": "as-ci", "machineUser": "ci", "role": "viewer"}):
        r = admin.post(keys, json=body)
        assert r.status_code == 403 and r.json()["error"]["code"] == "role_too_high", (body, r.text)
    r = admin.patch(api.url(f"/teams/{team}/members/{admin_id}"), json={"role": "owner"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "role_too_high"
    r = admin.patch(api.url(f"/teams/{team}/members/{owner_id}"), json={"role": "viewer"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "role_too_high"
    roles = {m["userId"]: m["role"] for m in owner.get(api.url(f"/teams/{team}/members")).json()["items"]}
    assert roles[owner_id] == "owner" and roles[admin_id] == "admin" and roles["machine:ci"] == "owner"
    # At or below the admin's own rank, minting for someone else still works.
    assert admin.post(keys, json={"name": "as-dev", "userId": f"dev-{tag}"}).status_code == 201
    assert admin.post(keys, json={"name": "bot", "machineUser": "bot", "role": "admin"}).status_code == 201
