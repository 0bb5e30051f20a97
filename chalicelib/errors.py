"""The project's exceptions. Services raise these; the API maps them to HTTP in one place."""
from __future__ import annotations

from typing import Any


class AppError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details


class BadRequest(AppError):
    status = 400
    code = "bad_request"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class NotFound(AppError):
    status = 404
    code = "not_found"


class Conflict(AppError):
    status = 409
    code = "conflict"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"


class Invalid(AppError):
    status = 422
    code = "validation_error"


class Unavailable(AppError):
    """A dependency is down; the caller may retry."""

    status = 503
    code = "unavailable"


class SettingsError(AppError):
    """The environment holds a value a setting cannot take; the message names the variable."""

    status = 500
    code = "invalid_settings"
