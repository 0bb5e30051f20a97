"""The GitHub App's credentials: its id, private key and webhook secret, read at first use.

Locally they are files under $MA_HOME (0600) or, for the webhook secret alone, MA_GITHUB_WEBHOOK_SECRET;
in AWS, Secrets Manager ARNs from the settings. Never logged, never returned. A small Secrets Manager
adapter lives here until a shared one exists in chalicelib.
"""
from __future__ import annotations

import functools
import os
import threading
from pathlib import Path

from chalicelib import aws
from chalicelib.errors import Unavailable
from chalicelib.settings import Settings, get_settings

WEBHOOK_SECRET_FILE = "github-webhook-secret"
APP_KEY_FILE = "github-app.pem"
_lock = threading.Lock()


class NotConfigured(Unavailable):
    code = "github_not_configured"


def _home() -> Path:
    return Path(os.environ.get("MA_HOME") or ".mastra-admin").expanduser()


def _secret_value(arn: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return aws.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    except (ClientError, BotoCoreError) as e:  # the ARN names the secret; nothing of its value is in the error
        raise Unavailable(f"Secrets Manager did not answer for the GitHub App ({aws.error_code(e) or 'unreachable'})",
                          code="github_secret_unavailable") from e


def _read_file(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""


@functools.lru_cache(maxsize=4)
def _cached(settings: Settings, what: str) -> str:
    if what == "webhook":
        if settings.github_webhook_secret:
            return settings.github_webhook_secret
        if settings.github_webhook_secret_arn:
            return _secret_value(settings.github_webhook_secret_arn)
        return _read_file(Path(settings.github_webhook_secret_file or _home() / WEBHOOK_SECRET_FILE))
    if settings.github_app_key_secret_arn:
        return _secret_value(settings.github_app_key_secret_arn)
    return _read_file(Path(settings.github_app_key_file or _home() / APP_KEY_FILE))


def webhook_secret() -> str:
    """The webhook secret, or '' when none is configured (every delivery is then refused)."""
    with _lock:
        return _cached(get_settings(), "webhook")


def app_credentials() -> tuple[str, str]:
    """(App id, private key PEM); NotConfigured when either is missing."""
    settings = get_settings()
    with _lock:
        key = _cached(settings, "app_key")
    if not settings.github_app_id or not key:
        raise NotConfigured("The GitHub App is not configured (MA_GITHUB_APP_ID and its private key)")
    return settings.github_app_id, key


def forget() -> None:
    """Drop cached values (tests; a rotated secret is picked up by a new Lambda environment)."""
    _cached.cache_clear()
