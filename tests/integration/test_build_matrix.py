"""The build matrix: each project shape a team brings builds through the local stack and its artifact
starts and answers /health (issue 20).

One stack for the module; every build is queued at once by the `matrix` fixture and the stack runs
them concurrently (MA_LOCAL_BUILD_CONCURRENCY), so the matrix costs about its slowest build. The
fixtures are generated (tests/support/build_fixtures.py) and need only the npm registry; the
private-registry case uses a registry this test starts, which checks the token.
"""
from __future__ import annotations

import io
import secrets
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from tests.support.ingest_env import BUCKET
from tests.support import build_fixtures as fx
from tests.support.builds import log_lines, start_build, wait_build
from tests.support.deploys import deploy_stack, via_path, wait_deploy_of_build
from tests.support.private_registry import PrivateRegistry, reachable_from_sandbox

NPM_TOKEN = "npm_" + secrets.token_hex(16)


@dataclass
class Shape:
    make: Callable[[Path], Path]
    settings: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)


@dataclass
class Queued:
    project: str
    deployment: str
    slug: str
    build: str
    src: Path


@pytest.fixture(scope="module")
def registry():
    reg = PrivateRegistry(NPM_TOKEN).start()
    with reachable_from_sandbox(reg.port):
        yield reg
    reg.stop()


def shapes(registry: PrivateRegistry) -> dict[str, Shape]:
    return {
        "npm-lockfile": Shape(fx.npm_locked),
        "npm-no-lockfile": Shape(fx.npm_unlocked),
        "pnpm": Shape(fx.pnpm),
        "yarn-classic": Shape(fx.yarn_classic),
        "yarn-berry": Shape(fx.yarn_berry),
        "bun": Shape(fx.bun),
        "pnpm-workspace": Shape(fx.pnpm_workspace, {"rootDirectory": "apps/agent"}),
        "custom-commands": Shape(fx.custom_commands, fx.CUSTOM),
        "nvmrc-24": Shape(fx.nvmrc_24),
        "private-registry": Shape(lambda root: fx.private_registry(root, registry.url, registry.package),
                                  env={"NPM_TOKEN": NPM_TOKEN}),
        "stale-lockfile": Shape(fx.stale_lockfile),
        "node-18": Shape(fx.nvmrc_18),
    }


@pytest.fixture(scope="module")
def stack(tmp_path_factory, registry):
    with deploy_stack(tmp_path_factory.mktemp("ma-matrix"), {"MA_LOCAL_BUILD_CONCURRENCY": "4",
                                                             "MA_DEPLOY_HEALTH_TIMEOUT": "60"}) as s:
        yield s


@pytest.fixture(scope="module")
def owner(stack):
    return stack.session(stack.owner_key)


@pytest.fixture(scope="module")
def matrix(stack, owner, registry, tmp_path_factory) -> dict[str, Queued]:
    """Every shape's project, deployment and first build, all queued before any test waits."""
    team = owner.get(stack.url("/teams")).json()["items"][0]["id"]
    root = tmp_path_factory.mktemp("shapes")
    queued = {}
    for name, shape in shapes(registry).items():
        src = shape.make(root / name)
        r = owner.post(stack.url(f"/teams/{team}/projects"),
                       json={"name": name, "source": {"type": "local", "path": str(src)}, **shape.settings})
        assert r.status_code == 201, r.text
        project = r.json()["id"]
        for key, value in shape.env.items():
            assert owner.put(stack.url(f"/projects/{project}/env/{key}"), json={"value": value}).status_code == 200
        r = owner.post(stack.url(f"/projects/{project}/deployments"), json={"type": "production"})
        assert r.status_code == 201, r.text
        deployment = r.json()
        queued[name] = Queued(project, deployment["id"], deployment["slug"],
                              start_build(stack, owner, deployment["id"])["id"], src)
    return queued


def built(stack, owner, matrix, name: str) -> tuple[dict, list[str]]:
    q = matrix[name]
    build = wait_build(stack, owner, q.build, timeout=240)
    lines = [line[25:] for line in log_lines(stack, owner, q.build)]
    return build, lines


def serving(stack, owner, matrix, name: str, build: dict) -> dict:
    """The deploy of the build succeeded and its server answers /health through the router."""
    q = matrix[name]
    deploy = wait_deploy_of_build(stack, owner, q.deployment, build["id"], timeout=90)
    assert deploy["status"] == "succeeded", deploy
    r = via_path(stack, q.slug, "/health")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True
    return body


EXPECTED = {
    # shape: (what the log says was detected, the install command that ran)
    "npm-lockfile": ("package manager: npm (from package-lock.json)", "npm ci --no-audit --no-fund"),
    "npm-no-lockfile": ("package manager: npm (from default)", "npm install --no-audit --no-fund"),
    "pnpm": ("package manager: pnpm@9.15.0 (from pnpm-lock.yaml)", "pnpm install --frozen-lockfile"),
    "yarn-classic": ("package manager: yarn@1.22.22 (from yarn.lock)", "yarn install --non-interactive --frozen-lockfile"),
    "yarn-berry": ("package manager: yarn@4.18.1 (from yarn.lock)", "yarn install --immutable"),
    "bun": ("package manager: bun@1.4.5 (from bun.lock)", "bun install --frozen-lockfile"),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_package_manager_builds_with_a_frozen_install_and_the_artifact_serves(stack, owner, matrix, name):
    build, lines = built(stack, owner, matrix, name)
    assert build["status"] == "succeeded", (build, lines[-30:])
    detected, install = EXPECTED[name]
    assert any(line.startswith(detected) and "Node 22 (from default)" in line for line in lines), lines[:5]
    assert f"==> install: {install}" in lines
    # The build script's own shell finds the package manager at the exact version (mastra build
    # runs it itself: issue 20's `/bin/sh: 1: pnpm: not found`).
    manager = detected.split(": ", 1)[1].split(" ", 1)[0]
    nested = f"nested {manager.split('@')[0]} {manager.split('@')[1] if '@' in manager else ''}".rstrip()
    assert any(line.startswith(nested) for line in lines), [line for line in lines if "nested" in line]
    body = serving(stack, owner, matrix, name, build)
    assert body["node"].startswith("v22.") and body["dep"] == 7200000  # ms("2h") from its node_modules
    assert build["nodeMajor"] == 22
    assert body["built"]["by"] == "build script"


def test_a_pnpm_workspace_app_installs_at_the_root_builds_in_its_directory_and_carries_its_packages(
        stack, owner, matrix):
    build, lines = built(stack, owner, matrix, "pnpm-workspace")
    assert build["status"] == "succeeded", (build, lines[-30:])
    assert "==> install: pnpm install --frozen-lockfile" in lines  # at the workspace root
    assert "==> build (in apps/agent): pnpm run build" in lines
    body = serving(stack, owner, matrix, "pnpm-workspace", build)
    assert body["dep"] == "greet 7200000" and body["built"]["by"] == "build script"  # packages/greet came along


def test_custom_commands_replace_the_detected_ones_and_are_shown_in_the_log(stack, owner, matrix):
    build, lines = built(stack, owner, matrix, "custom-commands")
    assert build["status"] == "succeeded", (build, lines[-30:])
    assert f"install command (project setting): {fx.CUSTOM['installCommand']}" in lines
    assert f"build command (project setting): {fx.CUSTOM['buildCommand']}" in lines
    assert "custom install ran" in lines
    body = serving(stack, owner, matrix, "custom-commands", build)
    assert body["built"]["by"] == "custom build" and body["argv"] == ["--custom-start"]


def test_nvmrc_24_builds_and_serves_on_node_24(stack, owner, matrix):
    build, lines = built(stack, owner, matrix, "nvmrc-24")
    assert build["status"] == "succeeded", (build, lines[-30:])
    assert any("Node 24 (from .nvmrc)" in line for line in lines)
    body = serving(stack, owner, matrix, "nvmrc-24", build)
    assert body["built"]["node"].startswith("v24.") and body["node"].startswith("v24.")
    assert build["nodeMajor"] == 24  # what an ECS server's image is chosen by


def test_a_private_registry_gets_the_token_from_the_env_var_which_never_shows(stack, owner, matrix, registry):
    build, lines = built(stack, owner, matrix, "private-registry")
    assert build["status"] == "succeeded", (build, lines[-30:])
    assert any(p.endswith(".tgz") for p in registry.served), "the package came from the private registry"
    assert registry.refused == [], "every request carried the project's token"
    assert serving(stack, owner, matrix, "private-registry", build)["dep"] == "private greeting"
    assert not any(NPM_TOKEN in line for line in log_lines(stack, owner, build["id"]))
    artifact = stack.aws("s3").get_object(Bucket=BUCKET, Key=build["artifactKey"])["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(artifact), mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.isfile():
                assert NPM_TOKEN.encode() not in tar.extractfile(member).read(), member.name


def test_an_out_of_date_lockfile_fails_the_build_naming_the_lockfile(stack, owner, matrix):
    build, lines = built(stack, owner, matrix, "stale-lockfile")
    assert build["status"] == "failed"
    assert build["reason"].startswith("install failed with exit code")
    assert "package-lock.json" in build["reason"] and "frozen" in build["reason"]


def test_an_unsupported_node_version_fails_with_a_clear_reason(stack, owner, matrix):
    build, _ = built(stack, owner, matrix, "node-18")
    assert build["status"] == "failed"
    assert build["reason"] == "Node '18' (from .nvmrc) is not supported: use 22 or 24"


def test_a_second_build_of_an_unchanged_lockfile_reuses_the_projects_store(stack, owner, matrix):
    first, _ = built(stack, owner, matrix, "pnpm")
    assert first["status"] == "succeeded"
    again = start_build(stack, owner, matrix["pnpm"].deployment)["id"]
    build = wait_build(stack, owner, again, timeout=180)
    assert build["status"] == "succeeded"
    progress = [line for line in (x[25:] for x in log_lines(stack, owner, again)) if "reused" in line]
    assert progress and "reused 1" in progress[-1] and "downloaded 0" in progress[-1], progress
