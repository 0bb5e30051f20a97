"""A stage's secret settings: the ClickHouse URL, user and password, the JWT HS256 secret, and the
GitHub App's id, private key and webhook secret.

In a stage they live in one Secrets Manager secret (JSON, encrypted with the stage's key, written
by `make deploy`), named by `MA_SETTINGS_SECRET`; they are read at first use, not at import (most
functions never need them), and cached for the process. A value the secret does not hold, or every
value when no secret is named (the local stack), comes from its variable (chalicelib/settings.py).
Secrets Manager errors become `Unavailable` without the secret's content.
"""
from __future__ import annotations

import functools
import json

from chalicelib import aws
from chalicelib.errors import SettingsError, Unavailable
from chalicelib.settings import MIN_HS256_SECRET_BYTES, Settings, get_settings

KEYS = ("clickhouse_url", "clickhouse_user", "clickhouse_password", "jwt_hs256_secret",
        "github_app_id", "github_app_key", "github_webhook_secret")


def secret_setting(name: str, settings: Settings | None = None) -> str:
    """The value of one of KEYS for these settings (default: the process's)."""
    if name not in KEYS:
        raise KeyError(name)
    settings = settings or get_settings()
    if settings.settings_secret:
        value = _load(settings.settings_secret).get(name)
        if value:
            return value
    return getattr(settings, name, "")  # github_app_key has no variable: locally it is a file


@functools.lru_cache(maxsize=4)
def _load(secret_id: str) -> dict[str, str]:
    """The secret's values (a failed read is not cached: the next use tries again)."""
    try:
        raw = aws.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    except Exception as e:
        raise Unavailable(f"The stage's settings secret cannot be read ({aws.error_code(e) or type(e).__name__})",
                          code="settings_unavailable") from e
    try:
        values = json.loads(raw)
    except ValueError as e:
        raise SettingsError(f"{secret_id}: expected a JSON object of {', '.join(KEYS)}") from None
    if not isinstance(values, dict) or not all(isinstance(values.get(k, ""), str) for k in KEYS):
        raise SettingsError(f"{secret_id}: expected a JSON object of {', '.join(KEYS)} (text values)")
    jwt_secret = values.get("jwt_hs256_secret") or ""
    if jwt_secret and len(jwt_secret.encode()) < MIN_HS256_SECRET_BYTES:
        raise SettingsError(f"{secret_id}: jwt_hs256_secret must have at least {MIN_HS256_SECRET_BYTES} bytes")
    return {k: values[k] for k in KEYS if values.get(k)}


def clear_cache() -> None:
    _load.cache_clear()
