"""Projects, their sources and their encrypted environment variables."""
from __future__ import annotations

import urllib.parse

from chalicelib import secrets_box
from chalicelib.auth.access import Access
from chalicelib.db import keys
from chalicelib.db import projects as store
from chalicelib.db.models import EnvVar, Project, map_or_empty, utcnow
from chalicelib.db.pages import Page
from chalicelib.errors import BadRequest, Invalid, NotFound
from chalicelib.ids import check_id, new_id
from chalicelib.models import api
from chalicelib.runners.build_plan import BuildSettings, check_root_directory
from chalicelib.sources import SourceError, check_file_url, check_local_path
from chalicelib.services.deploys.slugs import slugify
from chalicelib.settings import Settings, get_settings


def _checked(check, raw: str, settings: Settings) -> str:
    """The same checks a build makes when it fetches (chalicelib/sources.py), answered up front."""
    if not settings.local_sources_enabled:
        raise Invalid("Local sources are disabled in this stage", code="local_source_disabled")
    try:
        return str(check(raw, settings))
    except SourceError as e:
        raise Invalid(f"Refused local source: {e}", code="local_source_outside_roots") from e


def _source(source: api.GithubSource | api.LocalSource | api.GitSource, settings: Settings) -> dict:
    if isinstance(source, api.GithubSource):
        from chalicelib.services.github.links import source_of

        return source_of(source)
    if isinstance(source, api.LocalSource):
        return {"type": "local", "path": _checked(check_local_path, source.path, settings)}
    if isinstance(source, api.GitSource):
        try:
            parts = urllib.parse.urlsplit(source.url)
            parts.port  # noqa: B018 - parsing the port is what raises for a malformed host
        except ValueError as e:  # e.g. an unbalanced "[" or "]" in the host
            raise Invalid(f"The git URL is malformed: {e}", code="invalid_git_url") from e
        if parts.password or (parts.username and parts.scheme == "https"):
            raise Invalid("Put no credentials in the git URL; store a token instead", code="git_url_credentials")
        if parts.scheme == "file":
            _checked(check_file_url, source.url, settings)
    return source.model_dump(by_alias=True)


BUILD_FIELDS = ("root_directory", "install_command", "build_command", "start_command")


def _build_settings(body: api.BuildSettingsFields, current: dict | None = None) -> dict | None:
    """The stored build settings after `body` (only the fields it names change; null or "" clears)."""
    merged = dict(current or {})
    for name in BUILD_FIELDS:
        if name in body.model_fields_set:
            merged[name] = getattr(body, name) or None
    if merged.get("root_directory"):
        try:
            merged["root_directory"] = check_root_directory(merged["root_directory"])
        except ValueError as e:
            raise Invalid(str(e), code="invalid_root_directory") from e
    cleaned = {k: v for k, v in merged.items() if k in BUILD_FIELDS and v and v != "."}
    return cleaned or None


def build_settings(project: Project) -> BuildSettings:
    """What a build of the project is told (chalicelib/runners/build_plan.py)."""
    return BuildSettings.of(map_or_empty(project.build_settings))


def require_project(access: Access, project_id: str, permission: str | None = None) -> Project:
    return access.require_item("project", project_id, store.find, permission)


def create_project(access: Access, team_id: str, body: api.ProjectCreate) -> Project:
    check_id("team", team_id)
    access.require(team_id, resource="team")
    source = _source(body.source, get_settings())
    project_id = new_id("project")
    now = utcnow()
    project = Project(
        keys.project(project_id), keys.META,
        gsi1pk=keys.team_projects(team_id), gsi1sk=keys.sorted_by_time(now.isoformat(), project_id),
        project_id=project_id, team_id=team_id, name=body.name, slug=slugify(body.name, max_length=40),
        source=source, default_branch=body.default_branch or source.get("branch") or "main",
        build_settings=_build_settings(body), created_at=now, updated_at=now,
    )
    _link_github(project, None, create=True)
    return project


def _link_github(project: Project, previous: dict | None, create: bool = False) -> None:
    """Saves the project; a GitHub App link is checked first and its link item kept in step after."""
    from chalicelib.services.github import links

    links.check_link(project.team_id, map_or_empty(project.source), previous)
    if create:
        store.create(project)
    else:
        store.save(project)
    links.sync(project, previous)


def list_projects(access: Access, team_id: str, limit: int, cursor: str | None) -> Page[Project]:
    check_id("team", team_id)
    access.require(team_id, resource="team")
    page = store.list_for_team(team_id, limit, cursor)
    return page


def get_project(access: Access, project_id: str) -> Project:
    return require_project(access, project_id)


def update_project(access: Access, project_id: str, body: api.ProjectUpdate) -> Project:
    project = require_project(access, project_id)
    previous = map_or_empty(project.source)
    if body.name is not None:
        project.name = body.name
    if body.source is not None:
        project.source = _source(body.source, get_settings())
    if body.default_branch is not None:
        project.default_branch = body.default_branch
    project.build_settings = _build_settings(body, map_or_empty(project.build_settings))
    project.updated_at = utcnow()
    _link_github(project, previous)
    return project


def delete_project(access: Access, project_id: str) -> None:
    project = require_project(access, project_id)
    _forget_guards(project.project_id)  # first, as a deployment's own delete does
    store.delete_cascade(project)


def _forget_guards(project_id: str) -> None:
    """The release guards (and their events) of the deployments the cascade removes."""
    from chalicelib.db import deployments, guards

    cursor = None
    while True:
        page = deployments.list_for_project(project_id, 100, cursor)
        for deployment in page.items:
            guards.forget(deployment.deployment_id)
        cursor = page.next_cursor
        if not cursor:
            return


# --- environment variables ------------------------------------------------------------------

_ENV_NAME_MAX = 128


def _check_env_name(name: str) -> str:
    if not name or len(name) > _ENV_NAME_MAX or not (name[0].isalpha() or name[0] == "_") or not all(
        c.isascii() and (c.isalnum() or c == "_") for c in name
    ):
        raise BadRequest("Env var names are letters, digits and _, not starting with a digit", code="invalid_name")
    return name


def env_context(project: Project, name: str) -> dict[str, str]:
    return {"teamId": project.team_id, "projectId": project.project_id, "name": name}


def list_env(access: Access, project_id: str, limit: int, cursor: str | None) -> Page[EnvVar]:
    project = require_project(access, project_id)
    page = store.list_env(project.project_id, limit, cursor)
    return page


def set_env(access: Access, project_id: str, name: str, body: api.EnvVarSet) -> tuple[EnvVar, bool]:
    """Upsert; returns the masked variable and whether it was created."""
    _check_env_name(name)
    project = require_project(access, project_id)
    blob = secrets_box.encrypt(body.value, env_context(project, name))
    var = store.find_env(project.project_id, name)
    created = var is None
    if var is None:
        var = EnvVar(keys.project(project.project_id), keys.env_sk(name),
                     project_id=project.project_id, team_id=project.team_id, name=name, ciphertext=blob)
    else:
        var.ciphertext, var.updated_at = blob, utcnow()
    store.save_env(var)
    return var, created


def delete_env(access: Access, project_id: str, name: str) -> None:
    _check_env_name(name)
    project = require_project(access, project_id)
    var = store.find_env(project.project_id, name)
    if var is None:
        raise NotFound("No such variable")
    store.delete_env(var)


def decrypted_env(project: Project) -> dict[str, str]:
    """Plain values for a deploy. Never returned by the API."""
    out: dict[str, str] = {}
    cursor = None
    while True:
        page = store.list_env(project.project_id, 100, cursor)
        for var in page.items:
            out[var.name] = secrets_box.decrypt(var.ciphertext, env_context(project, var.name))
        if not page.next_cursor:
            return out
        cursor = page.next_cursor
