"""The REST client: one request function, errors as `ApiError` with the API's code and message."""
from __future__ import annotations

from typing import Any, Iterator

import requests

# Exit codes scripts can rely on (README, "CLI").
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_AUTH, EXIT_NOT_FOUND, EXIT_REJECTED, EXIT_UNAVAILABLE = 0, 1, 2, 3, 4, 5, 6
EXIT_INTERRUPTED = 130


class ApiError(Exception):
    """An error answer of the API (`{"error": {"code", "message"}}`) or no answer at all (status 0)."""

    def __init__(self, status: int, code: str, message: str, details: Any = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details

    @property
    def exit_code(self) -> int:
        if self.status == 401:
            return EXIT_AUTH
        if self.status in (403, 404):
            return EXIT_NOT_FOUND
        if self.status == 0 or self.status >= 500:
            return EXIT_UNAVAILABLE
        return EXIT_REJECTED

    def as_json(self) -> dict:
        error = {"status": self.status, "code": self.code, "message": self.message}
        return {"error": error | ({"details": self.details} if self.details is not None else {})}


class Failed(Exception):
    """The API did what was asked but the outcome is a failure (a build failed, a deploy failed)."""

    def __init__(self, message: str, result: Any = None):
        super().__init__(message)
        self.message, self.result = message, result


def _error_of(r: requests.Response) -> ApiError:
    try:
        body = r.json()["error"]
        return ApiError(r.status_code, body["code"], body["message"], body.get("details"))
    except (ValueError, KeyError, TypeError):
        return ApiError(r.status_code, "http_error", f"HTTP {r.status_code}: {r.text[:200]}")


class Client:
    def __init__(self, api_url: str, token: str | None, timeout: float = 30):
        self.api_url, self.timeout = api_url.rstrip("/"), timeout
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        self.session.headers["User-Agent"] = "mastra-admin-cli"

    def request(self, method: str, path: str, body: Any = None, params: dict | None = None) -> Any:
        try:
            r = self.session.request(method, self.api_url + path, json=body, timeout=self.timeout,
                                     params={k: v for k, v in (params or {}).items() if v is not None})
        except requests.RequestException as e:
            raise ApiError(0, "unreachable", f"cannot reach {self.api_url}: {type(e).__name__}") from e
        if r.status_code >= 400:
            raise _error_of(r)
        return r.json() if r.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, body=body if body is not None else {})

    def items(self, path: str, limit: int | None = None, **params: Any) -> Iterator[dict]:
        """Every item of a list, page after page (at most `limit`)."""
        cursor, seen = None, 0
        while True:
            page = self.get(path, cursor=cursor, limit=min(100, limit - seen) if limit else 100, **params)
            for item in page["items"]:
                yield item
                seen += 1
            cursor = page.get("nextCursor")
            if not cursor or (limit and seen >= limit):
                return
