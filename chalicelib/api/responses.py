"""The one place where exceptions become HTTP responses."""
from __future__ import annotations

import json
from typing import Any

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
    error: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if exc.details is not None:
        error["details"] = exc.details
    headers = dict(JSON)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="mastra-admin"'
    return Response(body=json.dumps({"error": error}, default=str), status_code=exc.status, headers=headers)


def internal_error() -> Response:
    return error_response(AppError("Something went wrong on our side; it has been logged"))
