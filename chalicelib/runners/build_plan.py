"""The phases of a build, decided from the fetched source, as data.

The local runner executes these commands as subprocesses; the CodeBuild runner renders the same
list into a buildspec. One plan, two executors: a project builds the same way in both.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

LOCKFILES = (
    ("pnpm-lock.yaml", "pnpm"),
    ("yarn.lock", "yarn"),
    ("bun.lock", "bun"),
    ("bun.lockb", "bun"),
    ("package-lock.json", "npm"),
    ("npm-shrinkwrap.json", "npm"),
)
KNOWN_MANAGERS = ("npm", "pnpm", "yarn", "bun")
MASTRA_PACKAGES = ("mastra", "@mastra/core")
MASTRA_OUTPUT = ".mastra/output"


class PlanError(Exception):
    """The project cannot be built as it is; the message is the build's reason."""


@dataclass(frozen=True)
class Phase:
    name: str
    argv: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    package_manager: str
    detected_by: str
    mastra: bool
    phases: tuple[Phase, ...]
    output_dir: str  # relative to the source directory: what is packed


def read_package_json(src: Path) -> dict:
    try:
        data = json.loads((src / "package.json").read_text())
    except FileNotFoundError as e:
        raise PlanError("no package.json at the root of the source") from e
    except (ValueError, UnicodeDecodeError) as e:
        raise PlanError(f"package.json is not valid JSON: {e}") from e
    if not isinstance(data, dict):
        raise PlanError("package.json is not a JSON object")
    return data


def detect_package_manager(src: Path, package: dict) -> tuple[str, str, bool]:
    """(manager, how it was detected, whether a lockfile exists): lockfile first, then packageManager."""
    for filename, manager in LOCKFILES:
        if (src / filename).exists():
            return manager, filename, True
    declared = package.get("packageManager")
    if isinstance(declared, str) and declared.split("@", 1)[0] in KNOWN_MANAGERS:
        return declared.split("@", 1)[0], "packageManager", False
    return "npm", "default", False


def _install(manager: str, locked: bool) -> tuple[str, ...]:
    if manager == "npm":
        return ("npm", "ci" if locked else "install", "--no-audit", "--no-fund")
    if manager == "pnpm":
        return ("corepack", "pnpm", "install", "--frozen-lockfile" if locked else "--no-frozen-lockfile")
    if manager == "yarn":
        return ("corepack", "yarn", "install", *(("--frozen-lockfile",) if locked else ()))
    return ("bun", "install", *(("--frozen-lockfile",) if locked else ()))


def _run_script(manager: str, script: str) -> tuple[str, ...]:
    prefix = {"npm": ("npm",), "pnpm": ("corepack", "pnpm"), "yarn": ("corepack", "yarn"), "bun": ("bun",)}
    return (*prefix[manager], "run", script)


def _exec(manager: str, *argv: str) -> tuple[str, ...]:
    prefix = {"npm": ("npx", "--no-install"), "pnpm": ("corepack", "pnpm", "exec"),
              "yarn": ("corepack", "yarn"), "bun": ("bunx",)}
    return (*prefix[manager], *argv)


def is_mastra_project(package: dict) -> bool:
    deps = {**(package.get("devDependencies") or {}), **(package.get("dependencies") or {})}
    return any(name in deps for name in MASTRA_PACKAGES)


def _has_dependencies(package: dict) -> bool:
    return bool(package.get("dependencies") or package.get("devDependencies"))


def make_plan(src: Path) -> Plan:
    package = read_package_json(src)
    manager, detected_by, locked = detect_package_manager(src, package)
    mastra = is_mastra_project(package)
    phases: list[Phase] = []
    if _has_dependencies(package) or locked:
        phases.append(Phase("install", _install(manager, locked)))
    scripts = package.get("scripts") or {}
    if mastra:
        phases.append(Phase("build", _exec(manager, "mastra", "build")))
        output = MASTRA_OUTPUT
    elif isinstance(scripts, dict) and scripts.get("build"):
        phases.append(Phase("build", _run_script(manager, "build")))
        output = "."
    else:
        output = "."
    return Plan(manager, detected_by, mastra, tuple(phases), output)


def describe(plan: Plan) -> str:
    return (f"package manager: {plan.package_manager} (from {plan.detected_by}); "
            f"{'Mastra project' if plan.mastra else 'Node project'}")
