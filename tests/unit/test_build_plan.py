"""The build plan of each project shape, and the CodeBuild buildspec rendered from it, as data."""
from __future__ import annotations

import json
import shlex

import pytest

from chalicelib.runners.build_plan import BuildSettings, PlanError, make_plan, satisfies
from chalicelib.runners.buildspec import CACHE_ROOT, cache_override, render_buildspec
from chalicelib.runners.build_port import BuildJob
from tests.support import build_fixtures as fx


def job(tmp_path, project="prj_1") -> BuildJob:
    return BuildJob(build_id="bld_1", team_id="team_1", project_id=project, deployment_id="dep_1",
                    environment="production", commit=None, workspace=tmp_path, artifact_bucket="bucket",
                    artifact_key="artifacts/bld_1.tgz")


SHAPES = {
    # fixture: (manager label, detected by, install argv, build argv)
    "npm_locked": ("npm", "package-lock.json", "npm ci --no-audit --no-fund", "npm run build"),
    "npm_unlocked": ("npm", "default", "npm install --no-audit --no-fund", "npm run build"),
    "pnpm": ("pnpm@9.15.0", "pnpm-lock.yaml", "pnpm install --frozen-lockfile", "pnpm run build"),
    "yarn_classic": ("yarn@1.22.22", "yarn.lock", "yarn install --non-interactive --frozen-lockfile", "yarn run build"),
    "yarn_berry": ("yarn@4.18.1", "yarn.lock", "yarn install --immutable", "yarn run build"),
    "bun": ("bun@1.4.5", "bun.lock", "bun install --frozen-lockfile", "bun run build"),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_each_shape_gets_its_package_manager_and_frozen_install(tmp_path, shape):
    plan = make_plan(getattr(fx, shape)(tmp_path / "src"))
    label, by, install, build = SHAPES[shape]
    assert (plan.manager.label, plan.detected_by) == (label, by)
    assert [shlex.join(p.argv) for p in plan.phases] == [install, build]
    assert plan.node_major == 22 and plan.manifest_extra == {"node": 22, "packageManager": label}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_the_buildspec_installs_the_exact_manager_through_npm_and_caches_the_projects_store(tmp_path, shape):
    plan = make_plan(getattr(fx, shape)(tmp_path / "src"))
    spec = render_buildspec(plan, job(tmp_path))
    install = spec["phases"]["install"]["commands"]
    label, _, install_cmd, build_cmd = SHAPES[shape]
    assert install[-1] == install_cmd and spec["phases"]["build"]["commands"][0] == build_cmd
    assert not any("corepack" in c for c in install)
    if plan.manager.npm_package:
        assert f"--no-package-lock {plan.manager.npm_package}" in install[1]
        assert install[2].startswith(f"export PATH={CACHE_ROOT}/package-managers/{label}/node_modules/.bin:")
    assert spec["cache"] == {"paths": [f"{CACHE_ROOT}/**/*"]}
    variables = spec["env"]["variables"]
    assert {k: v for k, v in variables.items() if v.startswith(CACHE_ROOT)} == {
        k: v for k, v in plan.manager.cache_env(CACHE_ROOT).items() if v.startswith(CACHE_ROOT)} != {}
    assert cache_override("bucket", "prj_1") == {"type": "S3", "location": "bucket/build-cache/prj_1"}
    assert spec["phases"]["install"]["runtime-versions"] == {"nodejs": "22"}


def test_a_workspace_app_installs_at_the_root_builds_in_its_directory_and_packs_the_workspace(tmp_path):
    src = fx.pnpm_workspace(tmp_path / "src")
    plan = make_plan(src, BuildSettings(root_directory="apps/agent"))
    assert (plan.install_dir, plan.app_dir, plan.output_dir) == (".", "apps/agent", ".")
    assert [(p.name, p.cwd) for p in plan.phases] == [("install", "."), ("build", "apps/agent")]
    assert plan.start == ("npm", "start", "--prefix", "apps/agent")
    spec = render_buildspec(plan, job(tmp_path))
    assert spec["phases"]["build"]["commands"][0] == 'cd "$CODEBUILD_SRC_DIR"/apps/agent && pnpm run build'
    inject = spec["phases"]["build"]["commands"][-1]
    assert '--project "$CODEBUILD_SRC_DIR"/apps/agent' in inject and '--output "$CODEBUILD_SRC_DIR" ' in inject
    assert json.loads(shlex.split(inject)[-1])["start"] == ["npm", "start", "--prefix", "apps/agent"]


def test_overrides_run_through_sh_and_the_start_command_reaches_the_manifest(tmp_path):
    src = fx.custom_commands(tmp_path / "src")
    plan = make_plan(src, BuildSettings(install_command="make deps", build_command="make", start_command="./run"))
    assert [p.argv for p in plan.phases] == [("sh", "-c", "make deps"), ("sh", "-c", "make")]
    assert plan.manifest_extra["start"] == ["sh", "-c", "./run"]


@pytest.mark.parametrize("files,major,source", [
    ({".nvmrc": "24\n"}, 24, ".nvmrc"),
    ({".nvmrc": "v24.3.1"}, 24, ".nvmrc"),
    ({".nvmrc": "lts/jod"}, 22, ".nvmrc"),
    ({".node-version": "22.13.0"}, 22, ".node-version"),
    ({"engines": ">=22"}, 22, "engines.node"),
    ({"engines": ">=24"}, 24, "engines.node"),
    ({"engines": "^22.13.0 || ^24"}, 22, "engines.node"),
    ({}, 22, "default"),
])
def test_node_major_from_nvmrc_node_version_or_engines(tmp_path, files, major, source):
    package = {"name": "x", **({"engines": {"node": files.pop("engines")}} if "engines" in files else {})}
    (tmp_path / "package.json").write_text(json.dumps(package))
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    plan = make_plan(tmp_path)
    assert (plan.node_major, plan.node_detected_by) == (major, source)
    assert render_buildspec(plan, job(tmp_path))["phases"]["install"]["runtime-versions"] == {"nodejs": str(major)}


@pytest.mark.parametrize("files,reason", [
    ({".nvmrc": "18"}, "Node '18' (from .nvmrc) is not supported: use 22 or 24"),
    ({"engines": "<21"}, "engines.node '<21' allows no supported Node: use 22 or 24"),
    ({"packageManager": "pnpm@latest"}, "packageManager 'pnpm@latest': the version must be exact (like pnpm@1.2.3)"),
    ({"packageManager": "cargo@1.0.0"}, "packageManager 'cargo@1.0.0': unknown package manager (use npm, pnpm, yarn or bun)"),
])
def test_what_cannot_be_built_fails_with_a_clear_reason(tmp_path, files, reason):
    package = {"name": "x"}
    if "engines" in files:
        package["engines"] = {"node": files.pop("engines")}
    if "packageManager" in files:
        package["packageManager"] = files.pop("packageManager")
    (tmp_path / "package.json").write_text(json.dumps(package))
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(PlanError) as e:
        make_plan(tmp_path)
    assert str(e.value) == reason


def test_lockfile_wins_over_package_manager_and_corepack_hashes_are_dropped(tmp_path):
    (tmp_path / "package.json").write_text(json.dumps({"packageManager": "pnpm@9.15.0+sha512.abc"}))
    assert make_plan(tmp_path).manager.label == "pnpm@9.15.0"
    (tmp_path / "package-lock.json").write_text("{}")
    assert make_plan(tmp_path).manager.label == "npm"


@pytest.mark.parametrize("bad", ["../x", "/etc", "apps/../..", "a b", "apps/./x"])
def test_root_directory_must_stay_inside_the_repository(tmp_path, bad):
    (tmp_path / "package.json").write_text("{}")
    with pytest.raises(PlanError, match="rootDirectory"):
        make_plan(tmp_path, BuildSettings(root_directory=bad))


@pytest.mark.parametrize("version,range_,ok", [
    ("22.23.3", ">=22", True), ("24.21.0", "^22.13.0", False), ("22.23.3", "20 - 24", True),
    ("22.23.3", ">=18 <21", False), ("24.21.0", "22.x || 24.x", True), ("22.23.3", "~22.23", True),
    ("24.21.0", "<=22", False), ("22.23.3", "*", True),
])
def test_engines_ranges(version, range_, ok):
    assert satisfies(version, range_) is ok


@pytest.mark.parametrize("declared,install", [
    ("yarn@4.18.1", "yarn install --no-immutable"),  # berry would refuse to write a lockfile under CI
    ("pnpm@9.15.0", "pnpm install --no-frozen-lockfile"),
    ("bun@1.4.5", "bun install"),
])
def test_without_a_lockfile_the_install_may_write_one(tmp_path, declared, install):
    (tmp_path / "package.json").write_text(json.dumps({"packageManager": declared, "dependencies": {"ms": "2.1.3"}}))
    plan = make_plan(tmp_path)
    assert (plan.detected_by, shlex.join(plan.phases[0].argv)) == ("packageManager", install)
    assert "npm_config_prefer_offline" not in plan.manager.cache_env("/c")
