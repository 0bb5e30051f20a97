"""The GitHub REST calls this platform makes, as the App: installation tokens, statuses, comments.

An App JWT (RS256, signed with the App's key, ten minutes at most) buys an installation access token,
cached per installation until five minutes before it expires. Plain urllib: five endpoints do not
justify a client library's import on every cold start. Vendor failures become `GitHubUnavailable`
(retry later: 5xx, 429, network) or `GitHubRefused` (retrying will not help: other 4xx).
"""
from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from chalicelib.services.github import credentials
from chalicelib.settings import get_settings

TIMEOUT = 10
TOKEN_MARGIN_SECONDS = 300
_tokens: dict[int, tuple[str, float]] = {}  # installation id -> (token, expires at, epoch s)
_lock = threading.Lock()


class GitHubError(Exception):
    def __init__(self, message: str, status: int = 0):
        super().__init__(message)
        self.status = status


class GitHubUnavailable(GitHubError):
    """GitHub is slow, down or rate limiting: the write is retried."""


class GitHubRefused(GitHubError):
    """GitHub refused the call (the App lost access, the resource is gone): retrying will not help."""


def call(method: str, path: str, token: str, body: Any = None, auth: str = "Bearer") -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{get_settings().github_api_url}{path}", data=data, method=method, headers={
        "Accept": "application/vnd.github+json", "User-Agent": "mastra-admin", "X-GitHub-Api-Version": "2022-11-28",
        "Authorization": f"{auth} {token}", **({"Content-Type": "application/json"} if data else {}),
    })
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            text = response.read()
    except urllib.error.HTTPError as e:
        kind = GitHubUnavailable if e.code >= 500 or e.code == 429 else GitHubRefused
        raise kind(f"GitHub answered HTTP {e.code} to {method} {path.split('?')[0]}", e.code) from e
    except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
        raise GitHubUnavailable(f"GitHub is unreachable: {getattr(e, 'reason', e)}") from e
    return json.loads(text) if text else None


def app_jwt(now: float | None = None) -> str:
    import jwt  # PyJWT, lazy: only GitHub calls sign

    app_id, key = credentials.app_credentials()
    now = int(now or time.time())
    # iat a minute back for clock drift; GitHub refuses an exp more than ten minutes ahead.
    return jwt.encode({"iat": now - 60, "exp": now + 540, "iss": app_id}, key, algorithm="RS256")


def installation_token(installation_id: int) -> str:
    with _lock:
        cached = _tokens.get(installation_id)
        if cached and cached[1] - TOKEN_MARGIN_SECONDS > time.time():
            return cached[0]
    answer = call("POST", f"/app/installations/{installation_id}/access_tokens", app_jwt())
    token, expires = answer["token"], _epoch(answer.get("expires_at"))
    with _lock:
        _tokens[installation_id] = (token, expires)
    return token


def _epoch(iso: str | None) -> float:
    from datetime import datetime

    if not iso:
        return time.time() + 3600
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def forget_tokens() -> None:
    with _lock:
        _tokens.clear()


# --- what the platform writes ------------------------------------------------------------------------


def create_status(installation_id: int, repository: str, sha: str, state: str, description: str,
                  target_url: str | None, context: str) -> None:
    body = {"state": state, "description": description[:140], "context": context}
    if target_url:
        body["target_url"] = target_url
    call("POST", f"/repos/{repository}/statuses/{sha}", installation_token(installation_id), body)


def create_comment(installation_id: int, repository: str, number: int, body: str) -> int:
    answer = call("POST", f"/repos/{repository}/issues/{number}/comments", installation_token(installation_id),
                  {"body": body})
    return int(answer["id"])


def update_comment(installation_id: int, repository: str, comment_id: int, body: str) -> None:
    call("PATCH", f"/repos/{repository}/issues/comments/{comment_id}", installation_token(installation_id),
         {"body": body})
