"""Writes to GitHub (commit statuses, the pull request comment) go through their own queue.

Builds and webhooks only queue a write; its consumer makes the call, retrying briefly in place and
then through SQS (visibility timeout, DLQ after maxReceiveCount), so GitHub being slow or down never
fails a build or a webhook. Each write is idempotent: a status is a state GitHub overwrites; the
comment is created once per pull request (its id recorded conditionally) and edited afterwards.
"""
from __future__ import annotations

import time

from chalicelib import queues
from chalicelib.control_plane_log import logger
from chalicelib.db import github as store
from chalicelib.services.github import client, credentials
from chalicelib.settings import get_settings

IN_PLACE_ATTEMPTS = 3
BACKOFF_SECONDS = 0.5
COMMENT_MARK = "<!-- mastra-admin:preview -->"


def queue_status(installation_id: int, repository: str, sha: str, state: str, description: str,
                 target_url: str | None, context: str) -> bool:
    return queues.send(get_settings().github_writes_queue_name, {
        "kind": "status", "installationId": installation_id, "repository": repository, "sha": sha,
        "state": state, "description": description, "targetUrl": target_url, "context": context,
        "seq": time.time_ns()})


def queue_comment(installation_id: int, repository: str, project_id: str, number: int, body: str,
                  final: bool = False) -> bool:
    """`final`: the closing comment; once the pull request is closed, only that one is written."""
    return queues.send(get_settings().github_writes_queue_name, {
        "kind": "comment", "installationId": installation_id, "repository": repository, "projectId": project_id,
        "number": number, "body": f"{COMMENT_MARK}\n{body}", "final": final, "seq": time.time_ns()})


def perform(message: dict) -> str:
    """Make one write; raise `GitHubUnavailable` to have it retried later. Returns what happened."""
    for attempt in range(1, IN_PLACE_ATTEMPTS + 1):
        try:
            return _perform_once(message)
        except client.GitHubUnavailable:
            if attempt == IN_PLACE_ATTEMPTS:
                raise
            time.sleep(BACKOFF_SECONDS * attempt)
        except credentials.NotConfigured:  # a local trial with only a webhook secret: nothing to write with
            return "skipped: the GitHub App is not configured"
        except client.GitHubRefused as e:  # no retry will help: record why and drop the write
            logger.warning("GitHub refused a write", extra={"kind": message.get("kind"), "status": e.status,
                                                           "repository": message.get("repository")})
            return f"refused: HTTP {e.status}"
    return "unreachable"


def _perform_once(m: dict) -> str:
    installation, repository = int(m["installationId"]), m["repository"]
    if m["kind"] == "status":
        if not store.write_is_newest(f"{repository.lower()}#{m['sha']}#{m['context']}", int(m.get("seq") or 0)):
            return "status skipped: a newer one was written"
        client.create_status(installation, repository, m["sha"], m["state"], m["description"], m.get("targetUrl"),
                             m["context"])
        return f"status {m['state']}"
    pull = store.find_pull(m["projectId"], int(m["number"]))
    if pull is not None and pull.state == "closed" and not m.get("final"):
        return "comment skipped: the pull request is closed"
    if not store.write_is_newest(f"{repository.lower()}#pull#{m['number']}", int(m.get("seq") or 0)):
        return "comment skipped: a newer one was written"
    if pull is not None and pull.comment_id:
        client.update_comment(installation, repository, int(pull.comment_id), m["body"])
        return "comment edited"
    comment_id = client.create_comment(installation, repository, int(m["number"]), m["body"])
    if pull is None:
        return "comment created"
    if not store.set_comment_id(m["projectId"], int(m["number"]), comment_id):
        # Another write created the comment first: ours becomes the edit of theirs, never a second one.
        winner = store.find_pull(m["projectId"], int(m["number"]))
        if winner is not None and winner.comment_id and int(winner.comment_id) != comment_id:
            client.call("DELETE", f"/repos/{repository}/issues/comments/{comment_id}",
                        client.installation_token(installation))
            client.update_comment(installation, repository, int(winner.comment_id), m["body"])
    return "comment created"
