"""Package managers of a build: which one, which exact version, its commands, caches, and where it lives.

Chosen from the lockfile, then `packageManager`, then npm (`detect`). The version is the one
`packageManager` names, else a pinned default per manager. pnpm, yarn and bun are installed with npm
from the configured registry into the toolchain cache (`ensure_bin`), never through corepack (its
signature check fails behind a registry mirror), once per exact version, and their directory goes
first on PATH of every phase: `mastra build` runs the package manager itself.

Commands are data (argv tuples), rendered by the local runner and the CodeBuild buildspec alike.
Standard library only.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from chalicelib.runners.node_toolchain import NodeToolchainError, install_lock, run_npm

LOCKFILES = (
    ("pnpm-lock.yaml", "pnpm"),
    ("yarn.lock", "yarn"),
    ("bun.lock", "bun"),
    ("bun.lockb", "bun"),
    ("package-lock.json", "npm"),
    ("npm-shrinkwrap.json", "npm"),
)
KNOWN = ("npm", "pnpm", "yarn", "bun")
# Pinned defaults: a project that names no version builds with these (tested in the build matrix).
DEFAULT_VERSIONS = {"pnpm": "9.15.9", "yarn": "1.22.22", "yarn-berry": "4.18.1", "bun": "1.4.5"}
PNPM_BY_LOCKFILE = {"5": "7.33.7", "6": "8.15.9"}  # pnpm-lock.yaml lockfileVersion major -> pnpm
VERSION = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")


@dataclass(frozen=True)
class PackageManager:
    name: str  # npm | pnpm | yarn | bun
    version: str | None  # exact; None: the machine's npm
    detected_by: str  # the lockfile's name, "packageManager" or "default"
    lockfile: str | None  # relative to the install directory

    @property
    def berry(self) -> bool:
        return self.name == "yarn" and self.version is not None and int(self.version.split(".")[0]) >= 2

    @property
    def npm_package(self) -> str | None:
        """What `npm install` fetches for this manager (None: the machine's npm)."""
        if self.version is None:
            return None
        package = "@yarnpkg/cli-dist" if self.berry else self.name
        return f"{package}@{self.version}"

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}" if self.version else self.name

    def install(self) -> tuple[str, ...]:
        """Frozen when a lockfile exists: a lockfile out of date fails the build instead of drifting."""
        locked = self.lockfile is not None
        if self.name == "npm":
            return ("npm", "ci" if locked else "install", "--no-audit", "--no-fund")
        if self.name == "pnpm":
            return ("pnpm", "install", "--frozen-lockfile" if locked else "--no-frozen-lockfile")
        if self.name == "yarn" and self.berry:
            # Berry makes installs immutable by itself when CI is set: say so either way.
            return ("yarn", "install", "--immutable" if locked else "--no-immutable")
        if self.name == "yarn":
            return ("yarn", "install", "--non-interactive", *(("--frozen-lockfile",) if locked else ()))
        return ("bun", "install", *(("--frozen-lockfile",) if locked else ()))

    def run_script(self, script: str) -> tuple[str, ...]:
        return (self.name, "run", script)

    def exec(self, *argv: str) -> tuple[str, ...]:
        prefix = {"npm": ("npx", "--no-install"), "pnpm": ("pnpm", "exec"), "yarn": ("yarn",),
                  "bun": ("bun", "run")}[self.name]
        return (*prefix, *argv)

    def cache_env(self, cache_dir: str) -> dict[str, str]:
        """Point the manager's store/cache at `cache_dir` (the project's own, kept between builds).
        With a lockfile every version is pinned, so npm and pnpm may take package metadata from the
        cache without asking the registry again (`prefer-offline`); without one they must resolve."""
        return {**self._cache_dirs(cache_dir),
                **({"npm_config_prefer_offline": "true"} if self.lockfile and self.name in ("npm", "pnpm") else {})}

    def _cache_dirs(self, cache_dir: str) -> dict[str, str]:
        if self.name == "pnpm":
            return {"npm_config_store_dir": f"{cache_dir}/pnpm-store", "npm_config_cache_dir": f"{cache_dir}/pnpm-cache",
                    "npm_config_cache": f"{cache_dir}/npm"}
        if self.name == "yarn" and self.berry:
            # Plug'n'Play (berry's default linker) leaves no node_modules for `mastra build` and the
            # server to resolve from: install into node_modules, whatever .yarnrc.yml says.
            return {"YARN_GLOBAL_FOLDER": f"{cache_dir}/yarn-berry", "YARN_ENABLE_TELEMETRY": "0",
                    "YARN_NODE_LINKER": "node-modules", "npm_config_cache": f"{cache_dir}/npm"}
        if self.name == "yarn":
            return {"YARN_CACHE_FOLDER": f"{cache_dir}/yarn", "npm_config_cache": f"{cache_dir}/npm"}
        if self.name == "bun":
            return {"BUN_INSTALL_CACHE_DIR": f"{cache_dir}/bun", "npm_config_cache": f"{cache_dir}/npm"}
        return {"npm_config_cache": f"{cache_dir}/npm"}

    def cache_paths(self) -> tuple[str, ...]:
        """The cache subdirectories (relative) worth keeping between builds: CodeBuild's S3 cache."""
        return tuple(sorted({v.rsplit("/", 1)[1] for k, v in self._cache_dirs("x").items()
                             if k not in ("YARN_ENABLE_TELEMETRY", "YARN_NODE_LINKER")}))


class PackageManagerError(ValueError):
    """The project names a package manager or version that cannot be used; the message says which."""


def _declared(package: dict) -> tuple[str, str | None] | None:
    raw = package.get("packageManager")
    if not isinstance(raw, str) or not raw.strip():
        return None
    name, _, version = raw.strip().partition("@")
    version = version.split("+", 1)[0]  # corepack's "+sha512.…" suffix: we verify through the registry
    if name not in KNOWN:
        raise PackageManagerError(f"packageManager {raw!r}: unknown package manager (use npm, pnpm, yarn or bun)")
    if version and not VERSION.match(version):
        raise PackageManagerError(f"packageManager {raw!r}: the version must be exact (like {name}@1.2.3)")
    return name, version or None


def _lockfile_pnpm_version(path: Path) -> str | None:
    for line in path.read_text(errors="replace").splitlines()[:5]:
        m = re.match(r"""^lockfileVersion:\s*['"]?(\d+)""", line)
        if m:
            return PNPM_BY_LOCKFILE.get(m.group(1))
    return None


def _yarn_is_berry(install_dir: Path, lockfile: Path | None) -> bool:
    if (install_dir / ".yarnrc.yml").exists():
        return True
    return lockfile is not None and "__metadata:" in lockfile.read_text(errors="replace")[:2000]


def detect(install_dir: Path, package: dict) -> PackageManager:
    """Lockfile first, then `packageManager`, then npm; the exact version from `packageManager`."""
    declared = _declared(package)
    name, lockfile = None, None
    for filename, manager in LOCKFILES:
        if (install_dir / filename).exists():
            name, lockfile = manager, filename
            break
    detected_by = lockfile or ("packageManager" if declared else "default")
    name = name or (declared[0] if declared else "npm")
    version = declared[1] if declared and declared[0] == name else None
    if version is None and name == "pnpm" and lockfile:
        version = _lockfile_pnpm_version(install_dir / lockfile)
    if version is None and name == "yarn":
        berry = _yarn_is_berry(install_dir, install_dir / lockfile if lockfile else None)
        version = DEFAULT_VERSIONS["yarn-berry" if berry else "yarn"]
    if version is None and name != "npm":
        version = DEFAULT_VERSIONS[name]
    return PackageManager(name, version, detected_by, lockfile)


def from_label(label: str) -> PackageManager:
    """The manager a manifest names ("pnpm@9.15.9"), for the deployed server's PATH."""
    name, _, version = label.partition("@")
    return PackageManager(name, version or None, "manifest", None)


def bin_dir(cache_dir: Path, manager: PackageManager) -> Path | None:
    """Where the manager's executables are, installed (once per exact version) under cache_dir."""
    if manager.npm_package is None:
        return None
    target = Path(cache_dir).resolve() / "package-managers" / manager.label.replace("/", "_")
    return target / "node_modules" / ".bin"


def ensure_bin(cache_dir: Path, manager: PackageManager, node_bin: Path) -> Path | None:
    """Install the manager (npm, the configured registry) into cache_dir once; return its bin directory."""
    bins = bin_dir(cache_dir, manager)
    if bins is None:
        return None
    done = bins.parent.parent / "installed.json"  # written last: a partial install is never reused
    if done.is_file():
        return bins
    with install_lock(Path(cache_dir) / ".package-managers.lock"):
        if done.is_file():
            return bins
        run_npm(["install", "--prefix", str(bins.parent.parent), "--no-save", "--no-audit", "--no-fund",
                 "--no-package-lock", manager.npm_package], node_bin=node_bin)
        if not (bins / manager.name).exists():
            raise NodeToolchainError(f"{manager.npm_package} installed no `{manager.name}` executable")
        done.write_text(json.dumps({"package": manager.npm_package}))
    return bins


def toolchain_path(cache_dir: Path, major: int, manager: PackageManager | None) -> list[Path]:
    """The bin directories a build phase or a server puts first on PATH: the package manager's
    (when it is not the machine's npm), then Node `major`'s. Installs what is missing."""
    from chalicelib.runners.node_toolchain import ensure_node

    node_bin = ensure_node(cache_dir, major)
    pm_bin = ensure_bin(cache_dir, manager, node_bin) if manager is not None else None
    return [p for p in (pm_bin, node_bin) if p is not None]
