"""Observability injection ("AdminBundler"): the build step that runs after `mastra build`.

The step itself is a self-contained Node script, `inject.mjs`, so the local build runner (a Python
subprocess) and the AWS CodeBuild buildspec run exactly the same thing:

    node inject.mjs --project <projectDir> --output <outputDir> --stamp <stamp.json>

For a Mastra project it writes `<outputDir>/mastra-admin-entry.mjs` (starts the server with a
JSONL file exporter and logger tap registered, see runtime/), makes `@mastra/observability`
resolvable (copied from `--packages`, the `node_modules` that `npm ci` installed from this
directory's package-lock.json, when the project's @mastra/core is in its peer range), and writes
the manifest `<outputDir>/mastra-admin.json`; for any other project only the manifest. Records
follow chalicelib/contracts/observability-record.v1.schema.json.

Those packages are installed once per lockfile: by `ensure_packages` into a cache directory for
the local runner, by an `npm ci` beside inject.mjs in the CodeBuild buildspec.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from chalicelib.runners.node_toolchain import NodeToolchainError, install_lock, run_npm

INJECTION_DIR = Path(__file__).resolve().parent
INJECT_SCRIPT: Path = INJECTION_DIR / "inject.mjs"
PACKAGE_FILES = ("package.json", "package-lock.json", ".npmrc")  # what `npm ci` reads
MANIFEST_NAME = "mastra-admin.json"
ENTRY_NAME = "mastra-admin-entry.mjs"
MANIFEST_CONTRACT = 1


class ManifestError(ValueError):
    """The build output has no usable mastra-admin.json manifest."""


def ensure_packages(cache_root: Path, node_bin: Path, source: Path = INJECTION_DIR) -> Path:
    """The `node_modules` that `npm ci` installs from `source`'s lockfile, once per lockfile.

    Installed under `cache_root/injection-<hash of PACKAGE_FILES>/`, never in the source tree (so
    `chalice package` does not ship it); a partial install is never taken for a finished one.
    """
    digest = hashlib.sha256()
    for name in PACKAGE_FILES:
        digest.update(name.encode() + b"\0" + (Path(source) / name).read_bytes() + b"\0")
    cache_root = Path(cache_root).resolve()
    target = cache_root / f"injection-{digest.hexdigest()[:16]}"
    installed = target / "node_modules" / ".package-lock.json"  # npm writes it after an install
    if installed.is_file():
        return target / "node_modules"
    with install_lock(cache_root / ".injection.lock"):
        if installed.is_file():  # another process installed it meanwhile
            return target / "node_modules"
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        for name in PACKAGE_FILES:
            shutil.copyfile(Path(source) / name, partial / name)
        run_npm(["ci", "--prefix", str(partial), "--no-audit", "--no-fund"], node_bin=node_bin)
        if not (partial / "node_modules" / ".package-lock.json").is_file():
            raise NodeToolchainError(f"npm ci in {partial} installed nothing")
        shutil.rmtree(target, ignore_errors=True)  # an install someone damaged by hand
        partial.rename(target)
        return target / "node_modules"


def inject_command(node_bin: Path, project_dir: Path, output_dir: Path, stamp_file: Path,
                   packages: Path | None = None) -> list[str]:
    """argv of the inject step; `node_bin` is the directory holding `node` (see ensure_node).

    `packages`: the node_modules from `ensure_packages` (needed for a Mastra project); without it
    inject.mjs looks in `node_modules/` beside itself, where the buildspec's `npm ci` puts them.
    """
    node = Path(node_bin) / "node" if Path(node_bin).is_dir() else Path(node_bin)
    argv = [
        str(node),
        str(INJECT_SCRIPT),
        "--project", str(Path(project_dir).resolve()),
        "--output", str(Path(output_dir).resolve()),
        "--stamp", str(Path(stamp_file).resolve()),
    ]
    return argv + ["--packages", str(Path(packages).resolve())] if packages is not None else argv


def read_manifest(output_dir: Path) -> dict:
    """The manifest written by the inject step, validated enough to start the server from it."""
    path = Path(output_dir) / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ManifestError(f"{path} not found: the inject step did not run") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path} is unreadable: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("contract") != MANIFEST_CONTRACT:
        raise ManifestError(f"{path}: unsupported manifest contract {manifest.get('contract') if isinstance(manifest, dict) else None!r}")
    start = manifest.get("start")
    if not isinstance(start, list) or not start or not all(isinstance(a, str) and a for a in start):
        raise ManifestError(f"{path}: `start` must be a non-empty list of strings")
    if not isinstance(manifest.get("mastra"), bool) or not isinstance(manifest.get("stamp"), dict):
        raise ManifestError(f"{path}: `mastra` (bool) and `stamp` (object) are required")
    return manifest


def manifest_node_major(output_dir: Path) -> int | None:
    """The Node major the manifest names, if it is one we run (the output is the tenant's to write,
    so anything else is None: its servers get the default)."""
    from chalicelib.runners.node_toolchain import NODE_VERSIONS

    try:
        node = json.loads((Path(output_dir) / MANIFEST_NAME).read_text()).get("node")
    except (OSError, ValueError, AttributeError):
        return None
    return node if type(node) is int and node in NODE_VERSIONS else None


__all__ = ["INJECT_SCRIPT", "ENTRY_NAME", "MANIFEST_NAME", "ManifestError", "ensure_packages", "inject_command",
           "manifest_node_major", "read_manifest"]
