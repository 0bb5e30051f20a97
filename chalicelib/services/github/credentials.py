"""The GitHub App's credentials: its id, private key and webhook secret, read at first use.

In a stage they are fields of its settings secret (`github_app_id`, `github_app_key`,
`github_webhook_secret`, written by `make deploy`; chalicelib/secret_settings.py), so the functions
need no other secret. Locally: MA_GITHUB_APP_ID, and files under $MA_HOME (0600) or, for the webhook
secret alone, MA_GITHUB_WEBHOOK_SECRET. Never logged, never returned.
"""
from __future__ import annotations

import functools
import os
import threading
from pathlib import Path

from chalicelib.errors import Unavailable
from chalicelib.secret_settings import secret_setting
from chalicelib.settings import Settings, get_settings

WEBHOOK_SECRET_FILE = "github-webhook-secret"
APP_KEY_FILE = "github-app.pem"
_lock = threading.Lock()


class NotConfigured(Unavailable):
    code = "github_not_configured"


def _home() -> Path:
    return Path(os.environ.get("MA_HOME") or ".mastra-admin").expanduser()


def _read_file(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""


@functools.lru_cache(maxsize=8)
def _cached(settings: Settings, what: str) -> str:
    if what == "webhook":
        return (secret_setting("github_webhook_secret", settings)
                or _read_file(Path(settings.github_webhook_secret_file or _home() / WEBHOOK_SECRET_FILE)))
    if what == "app_id":
        return secret_setting("github_app_id", settings)
    return secret_setting("github_app_key", settings) or _read_file(
        Path(settings.github_app_key_file or _home() / APP_KEY_FILE))


def webhook_secret() -> str:
    """The webhook secret, or '' when none is configured (every delivery is then refused)."""
    with _lock:
        return _cached(get_settings(), "webhook")


def app_credentials() -> tuple[str, str]:
    """(App id, private key PEM); NotConfigured when either is missing."""
    settings = get_settings()
    with _lock:
        app_id, key = _cached(settings, "app_id"), _cached(settings, "app_key")
    if not app_id or not key:
        raise NotConfigured("The GitHub App is not configured (MA_GITHUB_APP_ID and its private key)")
    return app_id, key


def forget() -> None:
    """Drop cached values (tests; a rotated secret is picked up by a new Lambda environment)."""
    _cached.cache_clear()
