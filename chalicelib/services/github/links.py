"""Projects linked to repositories through the GitHub App, and what installation events change.

A link is `{"type": "github", "repository": "owner/name", "installationId": N}` in the project's
source, mirrored by a GithubLink item so a webhook finds its projects with one Query. An installation
belongs to the first team that links it (a claim written once): another team cannot build a
repository through someone else's installation. When the App can be asked, linking also checks that
the installation really covers the repository. `installationStatus` in the source says when the App
was uninstalled, suspended or lost the repository; builds then fail with that reason.
"""
from __future__ import annotations

from chalicelib.db import github as store
from chalicelib.db import keys
from chalicelib.db import projects as project_store
from chalicelib.db.conditional import applied
from chalicelib.db.models import Claim, Project, map_or_empty
from chalicelib.errors import Forbidden, Invalid, Unavailable
from chalicelib.models import api

ACTIVE = "active"
REASONS = {
    "uninstalled": "the GitHub App was uninstalled from the repository's account",
    "suspended": "the GitHub App's installation is suspended",
    "repository_removed": "the repository was removed from the GitHub App's installation",
}


def source_of(source: api.GithubSource) -> dict:
    """The stored form of a GitHub source (`repo` kept: the build's fetch reads it)."""
    if source.installation_id is None:
        return {"type": "github", "repo": source.repo or source.repository, "branch": source.branch}
    return {"type": "github", "repo": source.repository, "repository": source.repository, "branch": source.branch,
            "installationId": source.installation_id, "installationStatus": ACTIVE,
            "buildForkPullRequests": source.build_fork_pull_requests,
            "skipDraftPullRequests": source.skip_draft_pull_requests}


def linked(source: object) -> tuple[str, int] | None:
    """(repository, installation id) of an App-linked source, else None."""
    s = map_or_empty(source)
    if s.get("type") == "github" and s.get("installationId") and s.get("repository"):
        return str(s["repository"]), int(s["installationId"])
    return None


def check_link(team_id: str, source: dict, previous: dict | None = None) -> None:
    """Before a project links a repository: the installation is this team's and covers the repository."""
    link = linked(source)
    if link is None or link == linked(previous or {}):
        return
    repository, installation_id = link
    claim = Claim(keys.github_installation(installation_id), keys.META, owner_id=team_id)
    if not applied(lambda: claim.save(condition=Claim.pk.does_not_exist() | (Claim.owner_id == team_id))):
        raise Forbidden("The GitHub App installation is linked to another team", code="installation_claimed")
    _check_coverage(repository, installation_id)


def _check_coverage(repository: str, installation_id: int) -> None:
    from chalicelib.services.github import client, credentials

    try:
        answer = client.call("GET", f"/repos/{repository}/installation", client.app_jwt())
    except credentials.NotConfigured:
        return  # the App's key is not here (a local trial with only a webhook secret): links on trust
    except client.GitHubRefused as e:
        raise Invalid(f"The GitHub App is not installed on {repository} (HTTP {e.status})",
                      code="repository_not_installed") from e
    except client.GitHubUnavailable as e:
        raise Unavailable("GitHub did not answer; retry", code="github_unavailable") from e
    if int(answer.get("id", 0)) != installation_id:
        raise Invalid(f"{repository} is not in installation {installation_id}", code="repository_not_installed")


def sync(project: Project, previous: dict | None) -> None:
    """After a project's source was saved: its link item follows (the old one dropped)."""
    old, new = linked(previous or {}), linked(project.source)
    if old and old != new:
        store.drop_link(old[0], project.project_id)
    if new:
        store.put_link(new[0], project.project_id, new[1])


def linked_projects(repository: str) -> list[Project]:
    """The projects linked to the repository; links whose project went or moved are dropped."""
    projects = []
    for link in store.links_for_repository(repository):
        project = project_store.find(link.project_id)
        current = linked(project.source) if project else None
        if current is None or current[0].lower() != repository.lower():
            store.drop_link(link.repository, link.project_id)
            continue
        projects.append(project)
    return projects


def set_status(installation_id: int, status: str, repositories: list[str] | None = None) -> int:
    """Mark the installation's projects (or those of some repositories) with `status`; how many changed."""
    wanted = {r.lower() for r in repositories} if repositories is not None else None
    changed = 0
    for link in store.links_for_installation(installation_id):
        if wanted is not None and link.repository.lower() not in wanted:
            continue
        project = project_store.find(link.project_id)
        if project is None or linked(project.source) is None:
            continue
        source = map_or_empty(project.source)
        if source.get("installationStatus") == status:
            continue
        source["installationStatus"] = status
        project.source = source
        project_store.save(project)
        changed += 1
    return changed


def unusable_reason(source: object) -> str | None:
    """Why a linked source cannot be fetched now, or None."""
    status = map_or_empty(source).get("installationStatus", ACTIVE)
    return None if status == ACTIVE else REASONS.get(status, status)
