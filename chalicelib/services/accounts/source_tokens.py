"""The GitHub token a project's builds use to download its repository: encrypted, never returned."""
from __future__ import annotations

from chalicelib import secrets_box
from chalicelib.auth.access import Access
from chalicelib.db import keys
from chalicelib.db.errors import translated
from chalicelib.db.models import Project, SourceToken, utcnow
from chalicelib.errors import NotFound
from chalicelib.models import api
from chalicelib.services.accounts.projects import require_project

PROVIDER = "github"


def _context(project: Project) -> dict[str, str]:
    return {"teamId": project.team_id, "projectId": project.project_id, "name": "source-token:github"}


def _find(project_id: str) -> SourceToken | None:
    with translated():
        try:
            return SourceToken.get(keys.project(project_id), keys.source_token_sk(PROVIDER), consistent_read=True)
        except SourceToken.DoesNotExist:
            return None


def _out(item: SourceToken) -> api.SourceTokenOut:
    return api.SourceTokenOut(provider=PROVIDER, hint=item.hint, updated_at=item.updated_at)


def set_token(access: Access, project_id: str, body: api.SourceTokenSet) -> api.SourceTokenOut:
    project = require_project(access, project_id, "project:update")
    item = _find(project.project_id) or SourceToken(
        keys.project(project.project_id), keys.source_token_sk(PROVIDER),
        project_id=project.project_id, team_id=project.team_id)
    item.ciphertext = secrets_box.encrypt(body.token, _context(project))
    item.hint = "…" + body.token[-4:] if len(body.token) >= 12 else "…"
    item.updated_at = utcnow()
    with translated("The token changed meanwhile; retry", code="version_conflict"):
        item.save()
    return _out(item)


def get_token(access: Access, project_id: str) -> api.SourceTokenOut:
    project = require_project(access, project_id)
    item = _find(project.project_id)
    if item is None:
        raise NotFound("The project has no source token", code="no_source_token")
    return _out(item)


def delete_token(access: Access, project_id: str) -> None:
    project = require_project(access, project_id, "project:update")
    item = _find(project.project_id)
    if item is not None:
        with translated():
            item.delete()


def decrypted_token(project: Project) -> str | None:
    """For the build worker only."""
    item = _find(project.project_id)
    return secrets_box.decrypt(item.ciphertext, _context(project)) if item else None
