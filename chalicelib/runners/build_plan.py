"""The phases of a build, decided from the fetched source and the project's build settings, as data.

The local runner executes these commands as subprocesses; the CodeBuild runner renders the same
list into a buildspec. One plan, two executors: a project builds the same way in both.

What is decided here: the package manager (`package_managers.detect`), the Node major (.nvmrc,
.node-version, then `engines.node`), where the install runs (the workspace root above
`rootDirectory`) and where the build runs (the app's directory), the project's command overrides
(run through `sh -c`), what is packed and how the artifact starts.
"""
from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from chalicelib.runners.node_toolchain import DEFAULT_MAJOR, NODE_VERSIONS
from chalicelib.runners.package_managers import PackageManager, PackageManagerError, detect

MASTRA_PACKAGES = ("mastra", "@mastra/core")
MASTRA_OUTPUT = ".mastra/output"
WORKSPACE_MARKERS = ("pnpm-workspace.yaml",)
# .nvmrc aliases of the supported majors (nvm's LTS code names); "node"/"lts/*" mean the newest.
NODE_ALIASES = {"lts/jod": 22, "lts/krypton": 24, "lts/*": 24, "node": 24, "stable": 24, "latest": 24}


class PlanError(Exception):
    """The project cannot be built as it is; the message is the build's reason."""


@dataclass(frozen=True)
class BuildSettings:
    """The project's build settings (all optional): as Vercel's Root Directory and command overrides."""
    root_directory: str | None = None
    install_command: str | None = None
    build_command: str | None = None
    start_command: str | None = None

    @classmethod
    def of(cls, raw: dict | None) -> "BuildSettings":
        raw = raw or {}
        return cls(**{k: raw.get(k) or None for k in ("root_directory", "install_command", "build_command",
                                                     "start_command")})


@dataclass(frozen=True)
class Phase:
    name: str
    argv: tuple[str, ...]
    cwd: str = "."  # relative to the source directory
    note: str = ""  # shown in the build log before the command (e.g. "project setting")


@dataclass(frozen=True)
class Plan:
    manager: PackageManager
    node_major: int
    node_detected_by: str
    mastra: bool
    phases: tuple[Phase, ...]
    output_dir: str  # relative to the source directory: what is packed
    app_dir: str = "."  # relative: the project (rootDirectory), where the build runs
    install_dir: str = "."  # relative: the workspace root, where the install runs
    start: tuple[str, ...] | None = None  # how the artifact starts, when not the inject step's default
    manifest_extra: dict = field(default_factory=dict)

    @property
    def package_manager(self) -> str:
        return self.manager.name

    @property
    def detected_by(self) -> str:
        return self.manager.detected_by


def read_package_json(src: Path, where: str = "the root of the source") -> dict:
    try:
        data = json.loads((src / "package.json").read_text())
    except FileNotFoundError as e:
        raise PlanError(f"no package.json at {where}") from e
    except (ValueError, UnicodeDecodeError) as e:
        raise PlanError(f"package.json is not valid JSON: {e}") from e
    if not isinstance(data, dict):
        raise PlanError("package.json is not a JSON object")
    return data


def is_mastra_project(package: dict) -> bool:
    deps = {**(package.get("devDependencies") or {}), **(package.get("dependencies") or {})}
    return any(name in deps for name in MASTRA_PACKAGES)


def _has_dependencies(package: dict) -> bool:
    return bool(package.get("dependencies") or package.get("devDependencies"))


# --- where: rootDirectory and the workspace root ------------------------------------------------

ROOT_DIRECTORY = re.compile(r"^[A-Za-z0-9._@-]+(/[A-Za-z0-9._@-]+)*$")


def check_root_directory(value: str) -> str:
    """A relative path inside the repository ('apps/agent'); raises ValueError with the reason."""
    cleaned = value.strip().strip("/")
    if cleaned in ("", "."):
        return "."
    if not ROOT_DIRECTORY.match(cleaned) or any(p in ("..", ".") for p in cleaned.split("/")):
        raise ValueError("rootDirectory must be a relative path inside the repository, like apps/agent")
    return cleaned


def _is_workspace_root(directory: Path) -> bool:
    if any((directory / marker).exists() for marker in WORKSPACE_MARKERS):
        return True
    try:
        return "workspaces" in json.loads((directory / "package.json").read_text())
    except (OSError, ValueError):
        return False


def find_install_dir(src: Path, app_rel: str) -> str:
    """The nearest directory from the app up to the source root that is a workspace root or holds
    a lockfile; the app's own directory when there is none."""
    from chalicelib.runners.package_managers import LOCKFILES

    app = PurePosixPath(app_rel)
    for candidate in [app, *app.parents]:
        directory = src / candidate
        if _is_workspace_root(directory) or any((directory / name).exists() for name, _ in LOCKFILES):
            return str(candidate)
    return app_rel


# --- Node --------------------------------------------------------------------------------------


def _version_tuple(text: str) -> tuple[int | None, ...]:
    parts = (text.lstrip("vV=").split("-", 1)[0].split(".") + ["x", "x"])[:3]
    return tuple(None if p in ("x", "X", "*", "") else int(p) for p in parts)


def _comparator_holds(version: tuple[int, int, int], comparator: str) -> bool:
    m = re.match(r"^(>=|<=|>|<|=|\^|~)?\s*(.*)$", comparator)
    op, wanted = m.group(1) or "", m.group(2)
    if wanted in ("", "*", "x", "X"):
        return True
    if not re.match(r"^[vV]?\d+(\.(\d+|[xX*]))?(\.(\d+|[xX*]))?(-.*)?$", wanted):
        raise ValueError(comparator)
    w = _version_tuple(wanted)
    low = tuple(x or 0 for x in w)
    if op in ("", "=") and None in w or op == "^":
        n = next((i for i, x in enumerate(w) if x is None), 3) if op != "^" else 1
        return version[:n] == tuple(x or 0 for x in w[:n]) and version >= low
    if op == "~":
        n = 2 if w[1] is not None else 1
        return version[:n] == low[:n] and version >= low
    return {"": version == low, "=": version == low, ">=": version >= low, ">": version > low and
            (None not in w or version[:w.index(None)] > low[:w.index(None)]),
            "<=": version <= low or (None in w and version[:w.index(None)] <= low[:w.index(None)]),
            "<": version < low}[op]


def satisfies(version: str, range_: str) -> bool:
    """npm semver range check for plain releases ('>=22', '^22.13.0', '22.x || 24.x', '20 - 24')."""
    v = tuple(int(x) for x in version.split("."))
    for alternative in range_.split("||"):
        alternative = re.sub(r"(>=|<=|>|<|=|\^|~)\s+", r"\1", alternative.strip())
        hyphen = re.match(r"^(\S+)\s+-\s+(\S+)$", alternative)
        comparators = [f">={hyphen.group(1)}", f"<={hyphen.group(2)}"] if hyphen else alternative.split()
        if all(_comparator_holds(v, c) for c in comparators or ["*"]):
            return True
    return False


def _supported() -> str:
    return " or ".join(str(m) for m in NODE_VERSIONS)


def node_major(dirs: list[Path], packages: list[dict]) -> tuple[int, str]:
    """(major, where it came from): .nvmrc, .node-version, then engines.node (default major first)."""
    for directory in dirs:
        for name in (".nvmrc", ".node-version"):
            path = directory / name
            if not path.is_file():
                continue
            raw = path.read_text(errors="replace").split("#", 1)[0].strip()
            major = NODE_ALIASES.get(raw.lower())
            if major is None:
                m = re.match(r"^[vV]?(\d+)(\.[\dxX*]+){0,2}$", raw)
                major = int(m.group(1)) if m else None
            if major not in NODE_VERSIONS:
                raise PlanError(f"Node {raw!r} (from {name}) is not supported: use {_supported()}")
            return major, name
    for package in packages:
        wanted = (package.get("engines") or {}).get("node") if isinstance(package.get("engines"), dict) else None
        if not isinstance(wanted, str) or not wanted.strip():
            continue
        ordered = sorted(NODE_VERSIONS, key=lambda m: m != DEFAULT_MAJOR)
        try:
            for major in ordered:
                if satisfies(NODE_VERSIONS[major], wanted):
                    return major, "engines.node"
        except ValueError:
            raise PlanError(f"engines.node {wanted!r} is not a version range Node can be chosen by") from None
        raise PlanError(f"engines.node {wanted!r} allows no supported Node: use {_supported()}")
    return DEFAULT_MAJOR, "default"


# --- the plan -----------------------------------------------------------------------------------


def _shell(command: str) -> tuple[str, ...]:
    return ("sh", "-c", command)


def _default_start(package: dict, app_rel: str) -> tuple[str, ...]:
    """How a non-Mastra app in a workspace starts from the workspace root (the packed directory)."""
    if (package.get("scripts") or {}).get("start"):
        return ("npm", "start", "--prefix", app_rel)
    main = package.get("main") if isinstance(package.get("main"), str) and package["main"].strip() else "index.js"
    return ("node", f"{app_rel}/{main.strip()}")


def make_plan(src: Path, settings: BuildSettings | None = None) -> Plan:
    settings = settings or BuildSettings()
    try:
        app_rel = check_root_directory(settings.root_directory or ".")
    except ValueError as e:
        raise PlanError(str(e)) from None
    app = src / app_rel
    if not app.is_dir():
        raise PlanError(f"rootDirectory {app_rel!r} does not exist in the source")
    package = read_package_json(app, "the root of the source" if app_rel == "." else f"rootDirectory {app_rel!r}")
    install_rel = find_install_dir(src, app_rel)
    root_package = package if install_rel == app_rel else read_package_json(src / install_rel)
    try:
        manager = detect(src / install_rel, root_package)
    except PackageManagerError as e:
        raise PlanError(str(e)) from None
    major, major_from = node_major(list(dict.fromkeys([app, src / install_rel])), [package, root_package])
    mastra = is_mastra_project(package)

    phases: list[Phase] = []
    if settings.install_command:
        phases.append(Phase("install", _shell(settings.install_command), install_rel, "install command (project setting)"))
    elif _has_dependencies(package) or _has_dependencies(root_package) or manager.lockfile:
        phases.append(Phase("install", manager.install(), install_rel))
    scripts = package.get("scripts") if isinstance(package.get("scripts"), dict) else {}
    if settings.build_command:
        phases.append(Phase("build", _shell(settings.build_command), app_rel, "build command (project setting)"))
    elif mastra:
        phases.append(Phase("build", manager.exec("mastra", "build"), app_rel))
    elif scripts.get("build"):
        phases.append(Phase("build", manager.run_script("build"), app_rel))

    start: tuple[str, ...] | None = None
    if mastra:
        output = str(PurePosixPath(app_rel) / MASTRA_OUTPUT)
        if settings.start_command:
            start = _shell(settings.start_command)
    elif install_rel != app_rel:
        # A workspace app needs the workspace's node_modules and packages: pack from the root.
        output = install_rel
        rel = str(PurePosixPath(app_rel).relative_to(install_rel))
        start = (_shell(f"cd {shlex.quote(rel)} && {settings.start_command}") if settings.start_command
                 else _default_start(package, rel))
    else:
        output = app_rel
        start = _shell(settings.start_command) if settings.start_command else None
    extra = {"node": major, "packageManager": manager.label, **({"start": list(start)} if start else {})}
    return Plan(manager, major, major_from, mastra, tuple(phases), output, app_rel, install_rel, start, extra)


def describe(plan: Plan) -> str:
    where = "" if plan.app_dir == "." else (
        f"; rootDirectory {plan.app_dir} (install in {plan.install_dir}, build in {plan.app_dir})")
    return (f"package manager: {plan.manager.label} (from {plan.detected_by}); "
            f"Node {plan.node_major} (from {plan.node_detected_by}); "
            f"{'Mastra project' if plan.mastra else 'Node project'}{where}")
