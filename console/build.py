"""Build the console (what `make console` runs): Node 22 from the npm package the builds use
(chalicelib/runners/node_toolchain.py), `npm ci` against the committed lockfile when node_modules is
older than it, then esbuild (build.mjs) into console/dist/. Install scripts are not run: esbuild's
binary comes in its platform package (@esbuild/linux-x64)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from chalicelib.auth.rbac import MATRIX  # noqa: E402
from chalicelib.runners.node_toolchain import ensure_node, run_npm  # noqa: E402


def main() -> int:
    cache = Path(os.environ.get("MA_CONSOLE_NODE_CACHE", ROOT / ".mastra-admin" / "toolchain"))
    node_bin = ensure_node(cache)
    installed = HERE / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < (HERE / "package-lock.json").stat().st_mtime:
        run_npm(["ci", "--prefix", str(HERE), "--ignore-scripts", "--no-audit", "--no-fund"], node_bin)
    matrix = {role.value: sorted(perms) for role, perms in MATRIX.items()}
    subprocess.run([str(node_bin / "node"), "build.mjs"], cwd=HERE, check=True,
                   env={**os.environ, "RBAC_MATRIX": json.dumps(matrix)})
    print(f"console built into {HERE / 'dist'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
