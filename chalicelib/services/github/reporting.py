"""GitHub shows the result: a channel sink that turns build and deploy events of GitHub-triggered
builds into queued writes (writes.py), and removes a closed pull request's preview once stopped.

- build building → status `pending`; build failed or cancelled → `failure` linking the build log;
- deploy of the build succeeded → `success` linking the deployment URL (and the PR comment names it);
  deploy failed → `failure`;
- stop of a closed pull request's preview succeeded → the preview deployment is deleted (its builds
  and observability stay).

Runs wherever builds and deploys publish (workers, the API); reads one item per relevant event, and
never fails the publisher (channels.publish catches a sink's error).
"""
from __future__ import annotations

from chalicelib.db import builds as build_store
from chalicelib.db import deployments as deployment_store
from chalicelib.db import github as store
from chalicelib.db import guards
from chalicelib.db.models import Build, map_or_empty
from chalicelib.db.statuses import BuildStatus, DeployStatus
from chalicelib.services.github import writes
from chalicelib.settings import get_settings

BUILD_STATES = {BuildStatus.BUILDING: ("pending", "Building"), BuildStatus.FAILED: ("failure", "Build failed"),
                BuildStatus.CANCELLED: ("failure", "Build cancelled")}


def sink(channel: str, message: dict) -> None:
    if not channel.startswith("project:"):
        return  # every event also reaches the project channel: act on that copy only
    kind, status = message.get("type"), message.get("status")
    if kind == "build" and status in BUILD_STATES:
        _on_build(message["buildId"], status)
    elif kind == "deploy" and message.get("action") == "deploy" and status in (DeployStatus.SUCCEEDED,
                                                                               DeployStatus.FAILED):
        _on_deploy(message.get("buildId"), message["deploymentId"], status)
    elif kind == "deploy" and message.get("action") == "stop" and status == DeployStatus.SUCCEEDED:
        _on_stopped(message["deploymentId"])


def _github(build: Build | None) -> dict:
    return map_or_empty(build.github) if build is not None else {}


def _context(build: Build) -> str:
    return f"mastra-admin/{build.environment}"


def build_link(build: Build) -> str:
    base = get_settings().github_build_link
    return f"{base}/{build.build_id}" if base else f"{_api_base()}/builds/{build.build_id}/logs"


def _api_base() -> str:
    return f"http://{get_settings().public_domain}"


def _status(build: Build, gh: dict, state: str, description: str, url: str | None) -> None:
    writes.queue_status(int(gh["installationId"]), gh["repository"], gh["sha"], state, description, url,
                        _context(build))


def _on_build(build_id: str, status: str) -> None:
    build = build_store.find(build_id)
    gh = _github(build)
    if not gh.get("sha") or build.status != status:
        return
    state, text = BUILD_STATES[status]
    reason = f": {build.reason}" if build.reason and state == "failure" else ""
    _status(build, gh, state, f"{text}{reason}", build_link(build))
    if gh.get("pull") and state == "failure":
        writes.queue_comment(int(gh["installationId"]), gh["repository"], build.project_id, int(gh["pull"]),
                             f"**Preview build failed** for `{gh['sha'][:7]}`{reason}\n\nLog: {build_link(build)}")


def _on_deploy(build_id: str | None, deployment_id: str, status: str) -> None:
    build = build_store.find(build_id) if build_id else None
    gh = _github(build)
    if not gh.get("sha"):
        return
    deployment = deployment_store.find(deployment_id)
    url = deployment.public_url if deployment else None
    if status == DeployStatus.SUCCEEDED:
        _status(build, gh, "success", "Deployed", url)
        if gh.get("pull"):
            writes.queue_comment(int(gh["installationId"]), gh["repository"], build.project_id, int(gh["pull"]),
                                 f"**Preview ready**: {url}\n\nCommit `{gh['sha'][:7]}`, build `{build.build_id}`.")
    else:
        _status(build, gh, "failure", "Deploy failed", build_link(build))


def _on_stopped(deployment_id: str) -> None:
    pull = store.pull_for_deployment(deployment_id)
    if pull is None or pull.state != "closed":
        return
    deployment = deployment_store.find(deployment_id)
    if deployment is not None:
        guards.forget(deployment_id)  # first, as the API's delete does
        deployment_store.delete(deployment)
