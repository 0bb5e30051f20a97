"""Observability injection ("AdminBundler"): the build step that runs after `mastra build`.

The step itself is a self-contained Node script, `inject.mjs`, so the local build runner (a Python
subprocess) and the AWS CodeBuild buildspec run exactly the same thing:

    node inject.mjs --project <projectDir> --output <outputDir> --stamp <stamp.json>

For a Mastra project it writes `<outputDir>/mastra-admin-entry.mjs` (starts the server with a
JSONL file exporter and logger tap registered, see runtime/), makes `@mastra/observability`
resolvable (a vendored copy, no network, for @mastra/core >=1.16 <2), and writes the manifest
`<outputDir>/mastra-admin.json`; for any other project only the manifest. Records follow
chalicelib/contracts/observability-record.v1.schema.json.
"""
from __future__ import annotations

import json
from pathlib import Path

INJECTION_DIR = Path(__file__).resolve().parent
INJECT_SCRIPT: Path = INJECTION_DIR / "inject.mjs"
MANIFEST_NAME = "mastra-admin.json"
ENTRY_NAME = "mastra-admin-entry.mjs"
MANIFEST_CONTRACT = 1


class ManifestError(ValueError):
    """The build output has no usable mastra-admin.json manifest."""


def inject_command(node_bin: Path, project_dir: Path, output_dir: Path, stamp_file: Path) -> list[str]:
    """argv of the inject step; `node_bin` is the directory holding `node` (see ensure_node)."""
    node = Path(node_bin) / "node" if Path(node_bin).is_dir() else Path(node_bin)
    return [
        str(node),
        str(INJECT_SCRIPT),
        "--project", str(Path(project_dir).resolve()),
        "--output", str(Path(output_dir).resolve()),
        "--stamp", str(Path(stamp_file).resolve()),
    ]


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


__all__ = ["INJECT_SCRIPT", "ENTRY_NAME", "MANIFEST_NAME", "ManifestError", "inject_command", "read_manifest"]
