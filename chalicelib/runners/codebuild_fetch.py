"""The fetch step of a CodeBuild build: runs inside CodeBuild, never in the Lambda.

    PYTHONPATH=$CODEBUILD_SRC_DIR/.mastra-admin/py python3 -m chalicelib.runners.codebuild_fetch

The build's bundle holds only our files (.mastra-admin/: injection, stamp, these modules). This
step reads the source spec from MASTRA_ADMIN_SOURCE (resolved by CodeBuild from the build's
Secrets Manager secret: a token or a URL's credentials never appear in the request, the
buildspec or the bundle), fetches it with the same code the local runner uses (chalicelib/
sources.py: git with an environment of its own, GitHub tarballs unpacked with the `data` filter),
moves it into $CODEBUILD_SRC_DIR, records the commit in the stamp (and logs it after COMMIT_MARK),
makes the Plan, and writes the install, build and pack scripts the next phases run.

A source that cannot be fetched or planned prints one line starting with FAILURE_MARK and exits
1: the install phase aborts, and the completion handler takes the line as the build's reason.
Standard library only (CodeBuild's Python has none of the control plane's requirements).
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from chalicelib.runners.build_plan import BuildSettings, PlanError, describe, make_plan
from chalicelib.runners.buildspec import (
    BUILD_SCRIPT, BUILD_SETTINGS_VAR, BUNDLE_DIR, INSTALL_SCRIPT, PACK_SCRIPT, SOURCE_VAR, STAMP_FILE, pack_command,
    phase_commands, script_prelude,
)
from chalicelib.sources import Fetched, SourceError, clone_git, download_github

FAILURE_MARK = "mastra-admin: the source could not be fetched: "
COMMIT_MARK = "mastra-admin: fetched commit "  # the completion handler records it on the build
SCRIPT_HEAD = 'set -euo pipefail\ncd "$CODEBUILD_SRC_DIR"\n'


def log(line: str) -> None:
    print(line, flush=True)


def fetch_remote(spec: dict, dest: Path) -> Fetched:
    kind = spec.get("type")
    if kind == "git":
        return clone_git(spec["url"], spec["ref"], dest, log)
    if kind == "github":
        return download_github(spec["repo"], spec["ref"], dest, log, token=spec.get("token"),
                               api_url=spec["apiUrl"])
    raise SourceError(f"a {kind!r} source cannot be fetched in CodeBuild")


def move_into(fetched: Path, root: Path) -> None:
    """The fetched tree's entries into the build directory, beside our own (which wins)."""
    for entry in sorted(fetched.iterdir()):
        if entry.name == BUNDLE_DIR:
            log(f"the project's own {BUNDLE_DIR}/ is replaced by the build's")
            continue
        shutil.move(str(entry), str(root / entry.name))


def write_scripts(root: Path, settings: BuildSettings) -> None:
    plan = make_plan(root, settings)
    log(describe(plan))
    install, build = phase_commands(plan)  # the install phase also installs the package manager
    for script, commands in ((INSTALL_SCRIPT, [*script_prelude(plan, manager=False), *install]),
                             (BUILD_SCRIPT, [*script_prelude(plan), *build]), (PACK_SCRIPT, [pack_command(plan)])):
        (root / script).write_text(SCRIPT_HEAD + "".join(f"{command}\n" for command in commands))


def record_commit(root: Path, commit: str | None) -> None:
    stamp_path = root / STAMP_FILE
    stamp = json.loads(stamp_path.read_text())
    stamp["commit"] = commit
    stamp_path.write_text(json.dumps(stamp))
    log(f"{COMMIT_MARK}{commit}")


def main() -> int:
    root = Path(os.environ["CODEBUILD_SRC_DIR"])
    try:
        spec = json.loads(os.environ.get(SOURCE_VAR) or "{}")
        with tempfile.TemporaryDirectory(prefix="mastra-admin-source-") as tmp:
            fetched = fetch_remote(spec, Path(tmp) / "src")
            move_into(fetched.path, root)
        record_commit(root, fetched.commit)
        write_scripts(root, BuildSettings.of(json.loads(os.environ.get(BUILD_SETTINGS_VAR) or "{}")))
    except (SourceError, PlanError, ValueError, KeyError, OSError) as e:
        reason = str(e) if isinstance(e, (SourceError, PlanError)) else f"{type(e).__name__}: {e}"
        log(FAILURE_MARK + reason)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
