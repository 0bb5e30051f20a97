"""The injection's pinned packages come from the npm registry by `npm ci` of its package-lock.json,
installed once per lockfile into a cache directory (needs the registry, like the builds)."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from chalicelib.runners.injection import INJECTION_DIR, PACKAGE_FILES, ensure_packages
from chalicelib.runners.node_toolchain import NodeToolchainError, ensure_node
from tests.support.builds import ROOT

LOCKED = "node_modules/@mastra/observability"


@pytest.fixture(scope="module")
def node_bin() -> Path:
    return ensure_node(Path(os.environ.get("MA_NODE_CACHE") or ROOT / ".cache" / "node22"))


def test_npm_ci_installs_the_locked_version_once_and_not_its_peers(tmp_path, node_bin, monkeypatch):
    modules = ensure_packages(tmp_path, node_bin)
    lock = json.loads((INJECTION_DIR / "package-lock.json").read_text())
    installed = json.loads((modules / "@mastra" / "observability" / "package.json").read_text())
    assert installed["version"] == lock["packages"][LOCKED]["version"]
    assert (modules / "@mastra" / "observability" / "dist" / "index.js").is_file()
    assert not (modules / "@mastra" / "core").exists() and not (modules / "zod").exists()
    assert not (INJECTION_DIR / "node_modules").exists(), "nothing is installed in the source tree"

    monkeypatch.setenv("PATH", str(tmp_path / "no-npm-here"))  # the second call must not run npm
    assert ensure_packages(tmp_path, node_bin) == modules


def test_a_lockfile_whose_integrity_the_registry_does_not_match_fails_and_leaves_no_install(tmp_path, node_bin):
    source = tmp_path / "source"
    source.mkdir()
    for name in PACKAGE_FILES:
        shutil.copyfile(INJECTION_DIR / name, source / name)
    lock = json.loads((source / "package-lock.json").read_text())
    lock["packages"][LOCKED]["integrity"] = "sha512-" + "A" * 86 + "=="
    (source / "package-lock.json").write_text(json.dumps(lock))
    cache = tmp_path / "cache"
    with pytest.raises(NodeToolchainError, match="EINTEGRITY"):
        ensure_packages(cache, node_bin, source=source)
    assert [p.name for p in cache.iterdir() if p.name.startswith("injection-") and not p.name.endswith(".partial")] == []
