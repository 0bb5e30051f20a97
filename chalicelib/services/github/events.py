"""What a webhook delivery does, run by the webhook queue's consumer.

- push to a branch that a production or staging deployment follows: a build of exactly `after`;
- pull_request opened/reopened/synchronize/ready_for_review: one preview deployment per pull request
  (slug from project and number, stable across pushes) builds the head commit; closed: its server is
  stopped, then the deployment deleted (reporting.py, when the stop succeeded);
- installation and installation_repositories: linked projects say when the App lost access.

Idempotent per delivery: the delivery's `handledAt` is set once, and a redelivered message of a
handled delivery does nothing. A consumer dying midway may run the delivery again: a second push build
supersedes the first (still queued), a preview is found again by its pull request.
"""
from __future__ import annotations

from chalicelib.control_plane_log import logger
from chalicelib.db import deployments as deployment_store
from chalicelib.db import github as store
from chalicelib.db import keys
from chalicelib.db.models import Claim, Deployment, Project, map_or_empty
from chalicelib.errors import Conflict
from chalicelib.services.github import links, writes
from chalicelib.services.github.payloads import (
    InstallationEvent, InstallationRepositories, PullRequest, Push, WebhookMessage,
)

FOLLOWED_BY_PUSH = ("production", "staging")
SCAN = 100


def handle(message: WebhookMessage) -> str:
    delivery = store.find_delivery(message.delivery_id)
    if delivery is not None and delivery.handled_at is not None:
        return "already handled"
    outcome = HANDLERS[message.event](message)
    store.mark_handled(message.delivery_id, outcome)
    logger.info("webhook handled", extra={"deliveryId": message.delivery_id, "event": message.event,
                                          "outcome": outcome})
    return outcome


def _deployments(project: Project) -> list[Deployment]:
    return list(deployment_store.list_for_project(project.project_id, SCAN, None).items)


# --- push ----------------------------------------------------------------------------------------


def on_push(message: WebhookMessage) -> str:
    from chalicelib.services.builds.trigger import queue_build

    push = Push.model_validate(message.payload)
    branch = push.branch
    if branch is None or push.deleted:
        return "nothing to build"
    built = []
    for project in links.linked_projects(push.repository.full_name):
        for deployment in _deployments(project):
            if deployment.type in FOLLOWED_BY_PUSH and deployment.branch == branch:
                build = queue_build(deployment, ref=branch, commit=push.after, trigger="push", github={
                    "deliveryId": message.delivery_id, "event": "push", "repository": push.repository.full_name,
                    "installationId": links.linked(project.source)[1], "sha": push.after,
                    "pusher": push.pusher.name, "message": (push.head_commit.message if push.head_commit else "")[:1000],
                })
                built.append(build.build_id)
    return f"builds {', '.join(built)}" if built else "no deployment follows the branch"


# --- pull requests -------------------------------------------------------------------------------


def on_pull_request(message: WebhookMessage) -> str:
    pr = PullRequest.model_validate(message.payload)
    outcomes = []
    for project in links.linked_projects(pr.repository.full_name):
        outcomes.append(_closed(project, pr) if pr.action == "closed" else _preview(project, pr, message))
    return "; ".join(outcomes) or "no project is linked to the repository"


def _installation(project: Project) -> int:
    return links.linked(project.source)[1]


def _comment(project: Project, pr: PullRequest, body: str, final: bool = False) -> None:
    writes.queue_comment(_installation(project), pr.repository.full_name, project.project_id, pr.number, body,
                         final)


def _preview(project: Project, pr: PullRequest, message: WebhookMessage) -> str:
    from chalicelib.services.builds.trigger import queue_build

    source = map_or_empty(project.source)
    if pr.pull_request.draft and source.get("skipDraftPullRequests") and pr.action != "ready_for_review":
        return f"{project.project_id}: draft skipped"
    if pr.fork and not source.get("buildForkPullRequests"):
        _comment(project, pr, "**Not built**: pull requests from forks are not built for this project "
                              "(a project setting, off by default).")
        return f"{project.project_id}: fork not built"
    pull = store.find_pull(project.project_id, pr.number) or store.new_pull(project.project_id, pr.number)
    deployment = _preview_deployment(project, pr.number, pull.deployment_id)
    pull.deployment_id, pull.head_sha, pull.state, pull.fork = deployment.deployment_id, pr.pull_request.head.sha, \
        "open", int(pr.fork)
    store.save_pull(pull)
    build = queue_build(deployment, ref=pr.pull_request.head.ref, commit=pr.pull_request.head.sha,
                        trigger="pull_request", github={
                            "deliveryId": message.delivery_id, "event": "pull_request",
                            "repository": pr.repository.full_name, "installationId": _installation(project),
                            "sha": pr.pull_request.head.sha, "pull": pr.number, "fork": int(pr.fork)})
    _comment(project, pr, f"**Preview** building `{pr.pull_request.head.sha[:7]}` …\n\n"
                          f"Deployment: `{deployment.deployment_id}`, build `{build.build_id}`.")
    return f"{project.project_id}: preview {deployment.deployment_id} build {build.build_id}"


def preview_branch(number: int) -> str:
    """A preview deployment's branch key: the pull request, not its head branch (forks share names)."""
    return f"pr-{number}"


def _preview_deployment(project: Project, number: int, known: str | None) -> Deployment:
    from chalicelib.services.deploys.deployments import create_for_project

    deployment = deployment_store.find(known) if known else None
    if deployment is not None:
        return deployment
    try:
        return create_for_project(project, "preview", preview_branch(number))
    except Conflict as e:
        if e.code != "deployment_exists":
            raise
    try:
        claim = Claim.get(keys.project(project.project_id), keys.deployment_slot_sk("preview", preview_branch(number)))
    except Claim.DoesNotExist:
        claim = None
    existing = deployment_store.find(claim.owner_id) if claim else None
    if existing is None:
        raise Conflict("The preview's slot is held by a deployment being removed; redeliver", code="preview_busy")
    return existing


def _closed(project: Project, pr: PullRequest) -> str:
    from chalicelib.services.deploys import actions

    pull = store.find_pull(project.project_id, pr.number)
    if pull is None or not pull.deployment_id:
        return f"{project.project_id}: no preview"
    pull.state = "closed"
    store.save_pull(pull)
    deployment = deployment_store.find(pull.deployment_id)
    if deployment is None:
        return f"{project.project_id}: preview already gone"
    # Stopped first; reporting.py deletes the deployment when this stop has succeeded.
    actions.create(deployment, "stop", "stop", deployment.current_build_id, "github")
    _comment(project, pr, f"**Preview stopped**: the pull request was closed. Its builds and traces stay "
                          f"queryable under deployment `{deployment.deployment_id}`.", final=True)
    return f"{project.project_id}: preview {deployment.deployment_id} stopping"


# --- installations -------------------------------------------------------------------------------

INSTALLATION_STATUS = {"deleted": "uninstalled", "suspend": "suspended", "unsuspend": links.ACTIVE,
                       "created": links.ACTIVE}


def on_installation(message: WebhookMessage) -> str:
    event = InstallationEvent.model_validate(message.payload)
    changed = links.set_status(event.installation.id, INSTALLATION_STATUS[event.action])
    return f"{changed} project(s) marked {INSTALLATION_STATUS[event.action]}"


def on_installation_repositories(message: WebhookMessage) -> str:
    event = InstallationRepositories.model_validate(message.payload)
    removed = links.set_status(event.installation.id, "repository_removed",
                               [r.full_name for r in event.repositories_removed])
    added = links.set_status(event.installation.id, links.ACTIVE, [r.full_name for r in event.repositories_added])
    return f"{removed} project(s) lost their repository, {added} got it back"


HANDLERS = {"push": on_push, "pull_request": on_pull_request, "installation": on_installation,
            "installation_repositories": on_installation_repositories}
