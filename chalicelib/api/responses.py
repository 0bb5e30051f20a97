"""The one place where exceptions become HTTP responses."""
from __future__ import annotations

import json
from typing import Any, Callable

from chalice import Response

from chalicelib.errors import AppError

JSON = {"Content-Type": "application/json"}


def json_response(status: int, body: Any) -> Response:
    if isinstance(body, Response):
        return body
    if body is None:
        return Response(body="", status_code=status, headers={})
    if hasattr(body, "model_dump_json"):
        payload = body.model_dump_json(by_alias=True)
    else:
        payload = json.dumps(body, separators=(",", ":"), default=str)
    return Response(body=payload, status_code=status, headers=dict(JSON))


def error_response(exc: AppError) -> Response:
    return error_shape(exc.status, exc.code, exc.message, exc.details)


def error_shape(status: int, code: str, message: str, details: Any = None,
                headers: dict[str, str] | None = None) -> Response:
    """`{"error": {"code", "message"[, "details"]}}`: every error the API answers has this shape."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    all_headers = {**(headers or {}), **JSON}
    if status == 401:
        all_headers["WWW-Authenticate"] = 'Bearer realm="mastra-admin"'
    return Response(body=json.dumps({"error": error}, default=str), status_code=status, headers=all_headers)


def internal_error() -> Response:
    return error_response(AppError("Something went wrong on our side; it has been logged"))


# What Chalice answers itself, before any route runs (its `Code`), in our shape. Its own messages
# echo the request's Content-Type; ours say what to send instead.
_CHALICE_ERRORS = {
    "MethodNotAllowedError": ("method_not_allowed", "This path does not accept the method; see the Allow header"),
    "UnsupportedMediaType": ("unsupported_media_type", "Send bodies as application/json"),
    "BadRequest": ("bad_request", "The response type does not match the request's Accept header"),
    "InternalServerError": ("internal_error", "Something went wrong on our side; it has been logged"),
}


def chalice_errors_middleware(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Chalice's own answers (405 unrouted method, 415 content type, its 500) in our error shape."""
    response = get_response(event)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code, message = _CHALICE_ERRORS.get(body["Code"], ("request_rejected", "The request was rejected"))
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
        return error_shape(response.status_code, code, message, headers=headers)
    return response
