"""GitHub webhook deliveries as GitHub sends them: full push and pull_request bodies (the shape of
GitHub's documented examples), the headers, and the raw bytes signed with the webhook secret."""
from __future__ import annotations

import copy
import hashlib
import hmac
import json
import uuid
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "github"


def recorded(name: str) -> dict:
    """A recorded delivery body from tests/fixtures/github/{name}.json."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def _retarget(body: dict, repository: str, installation_id: int) -> dict:
    body = copy.deepcopy(body)
    owner, name = repository.split("/")
    body["repository"].update(full_name=repository, name=name)
    body["repository"]["owner"]["login"] = owner
    body["installation"] = {"id": installation_id, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u"}
    return body


def push(repository: str, installation_id: int, branch: str, after: str, *, deleted: bool = False,
         tag: bool = False, message: str = "Update the weather agent", pusher: str = "octocat") -> dict:
    body = _retarget(recorded("push"), repository, installation_id)
    body.update(ref=f"refs/tags/{branch}" if tag else f"refs/heads/{branch}", after=after, deleted=deleted,
                base_ref=None)
    body["pusher"] = {"name": pusher, "email": f"{pusher}@github.com"}
    body["head_commit"] = None if deleted else {**body["head_commit"], "id": after, "tree_id": after,
                                                "message": message}
    if deleted:
        body["commits"] = []
    return body


def pull_request(repository: str, installation_id: int, action: str, number: int, head_sha: str, *,
                 head_ref: str = "feature/forecast", fork_of: str | None = None, draft: bool = False,
                 merged: bool = False) -> dict:
    body = _retarget(recorded("pull_request"), repository, installation_id)
    body.update(action=action, number=number)
    pr = body["pull_request"]
    pr.update(number=number, draft=draft, merged=merged, state="closed" if action == "closed" else "open",
              url=f"https://api.github.com/repos/{repository}/pulls/{number}",
              html_url=f"https://github.com/{repository}/pull/{number}")
    pr["head"].update(ref=head_ref, sha=head_sha, label=f"{(fork_of or repository).split('/')[0]}:{head_ref}")
    pr["head"]["repo"] = {**body["repository"], "full_name": fork_of or repository,
                          "fork": bool(fork_of)}
    pr["base"]["repo"] = copy.deepcopy(body["repository"])
    return body


def installation(action: str, installation_id: int, repositories: list[str]) -> dict:
    return {"action": action, "installation": {"id": installation_id, "account": {"login": "octo-org"}},
            "repositories": [{"full_name": r, "name": r.split("/")[1], "private": True} for r in repositories],
            "sender": {"login": "octocat", "type": "User"}}


def installation_repositories(action: str, installation_id: int, repositories: list[str]) -> dict:
    listed = [{"full_name": r, "name": r.split("/")[1], "private": True} for r in repositories]
    return {"action": action, "installation": {"id": installation_id}, "repository_selection": "selected",
            "repositories_added": listed if action == "added" else [],
            "repositories_removed": listed if action == "removed" else [],
            "sender": {"login": "octocat", "type": "User"}}


def sign(secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def delivery(event: str, body: dict, secret: str, *, delivery_id: str | None = None) -> tuple[dict, bytes]:
    """(headers, raw body) of one delivery, signed as GitHub signs it (both signature headers)."""
    raw = json.dumps(body, indent=2).encode()  # GitHub's bodies are pretty-printed: signatures cover these bytes
    headers = {
        "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/044aadd",
        "X-GitHub-Event": event, "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "292430182", "X-GitHub-Hook-Installation-Target-ID": "79929171",
        "X-GitHub-Hook-Installation-Target-Type": "integration",
        "X-Hub-Signature": "sha1=" + hmac.new(secret.encode(), raw, hashlib.sha1).hexdigest(),
        "X-Hub-Signature-256": sign(secret, raw),
    }
    return headers, raw
