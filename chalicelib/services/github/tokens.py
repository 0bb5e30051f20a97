"""The token a build downloads its GitHub source with: an installation token minted for this use when
the project is linked through the App, else the project's stored personal token (if any)."""
from __future__ import annotations

from chalicelib.db.models import Build, Project, map_or_empty
from chalicelib.sources import SourceError


def source_token(project: Project) -> str | None:
    from chalicelib.services.accounts.source_tokens import decrypted_token
    from chalicelib.services.github import client, credentials, links

    link = links.linked(project.source)
    if link is None:
        return decrypted_token(project)
    reason = links.unusable_reason(project.source)
    if reason:
        raise SourceError(reason)
    try:
        return client.installation_token(link[1])
    except credentials.NotConfigured:
        return decrypted_token(project)  # a local trial with only a webhook secret: public repositories
    except client.GitHubError as e:
        raise SourceError(f"no installation token from GitHub: {e}") from e


def withholds_secrets(build: Build) -> bool:
    """A fork's pull request is built and served without the project's variables and overrides."""
    return bool(map_or_empty(build.github).get("fork"))
