"""Receiving a GitHub webhook: verify, record, queue, answer. The work is the consumer's (events.py).

The signature is checked on the raw bytes, in constant time, before anything reads them; a delivery
that fails it leaves no trace. `X-GitHub-Delivery` is recorded with a conditional put, so a
redelivery of the same id does nothing twice. Both content types GitHub offers are accepted:
application/json, and application/x-www-form-urlencoded whose `payload=` field holds the same JSON
(the signature covers the form-encoded bytes as sent).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import urllib.parse
from dataclasses import dataclass
from datetime import timedelta
from typing import Mapping

from pydantic import ValidationError

from chalicelib import queues
from chalicelib.db import github as store
from chalicelib.errors import BadRequest, Invalid, Unauthorized, Unavailable
from chalicelib.services.github import credentials
from chalicelib.services.github.payloads import INSTALLATION_ACTIONS, MODELS, PULL_ACTIONS, REPOSITORIES_ACTIONS
from chalicelib.settings import get_settings

SIGNATURE_PREFIX = "sha256="
DELIVERY_ID = re.compile(r"^[A-Za-z0-9-]{1,100}$")


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict


def verify(secret: str, raw: bytes, header: str | None) -> None:
    """HMAC-SHA256 of the raw body with the webhook secret, compared in constant time."""
    if not secret:  # nothing can be authenticated: refused as unsigned, with a code the operator can act on
        raise Unauthorized("No GitHub webhook secret is configured on this platform", code="github_not_configured")
    if not header or not header.startswith(SIGNATURE_PREFIX):
        raise Unauthorized("X-Hub-Signature-256 is missing", code="invalid_signature")
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), header[len(SIGNATURE_PREFIX):].strip().encode()):
        raise Unauthorized("The signature does not match the body", code="invalid_signature")


def _document(raw: bytes, content_type: str) -> dict:
    try:
        if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
            fields = urllib.parse.parse_qs(raw.decode(), strict_parsing=True, max_num_fields=10)
            text = fields["payload"][0]
        else:
            text = raw.decode()
        document = json.loads(text)
    except (ValueError, KeyError, UnicodeDecodeError, RecursionError) as e:
        raise BadRequest("The delivery's body is not a GitHub payload", code="invalid_payload") from e
    if not isinstance(document, dict):
        raise BadRequest("The delivery's body is not a JSON object", code="invalid_payload")
    return document


def ignored_reason(event: str, action: str | None, document: dict) -> str | None:
    """Why a signed delivery needs no work, or None."""
    if event not in MODELS:
        return f"event {event!r} is not handled"
    if event == "pull_request" and action not in PULL_ACTIONS:
        return f"pull_request action {action!r} is not handled"
    if event == "installation" and action not in INSTALLATION_ACTIONS:
        return f"installation action {action!r} is not handled"
    if event == "installation_repositories" and action not in REPOSITORIES_ACTIONS:
        return f"installation_repositories action {action!r} is not handled"
    if event == "push":
        ref, deleted = document.get("ref") or "", bool(document.get("deleted"))
        if not str(ref).startswith("refs/heads/"):
            return "a tag (or other non-branch ref) was pushed"
        if deleted:
            return "the push deleted the branch"
    return None


def receive(headers: Mapping[str, str], raw: bytes | None) -> Answer:
    raw = raw or b""
    verify(credentials.webhook_secret(), raw, headers.get("x-hub-signature-256"))
    event = headers.get("x-github-event") or ""
    delivery_id = headers.get("x-github-delivery") or ""
    if not DELIVERY_ID.match(delivery_id):
        raise BadRequest("X-GitHub-Delivery is missing or malformed", code="invalid_delivery_id")
    document = _document(raw, headers.get("content-type") or "application/json")
    if event == "ping":
        return Answer(200, {"ok": True, "event": "ping", "deliveryId": delivery_id})
    action = document.get("action") if isinstance(document.get("action"), str) else None
    reason = ignored_reason(event, action, document)
    payload = None
    if reason is None:
        try:
            payload = MODELS[event].model_validate(document).model_dump(mode="json")
        except ValidationError as e:
            details = [{"loc": list(err["loc"]), "msg": err["msg"]} for err in e.errors()]
            raise Invalid("The payload lacks fields this event needs", code="invalid_payload", details=details) from e
    ttl = timedelta(days=get_settings().github_delivery_ttl_days)
    if not store.record_delivery(delivery_id, event, action, ttl):
        return Answer(200, {"duplicate": True, "deliveryId": delivery_id})
    if reason is not None:
        store.count("ignored", event, action)
        store.mark_handled(delivery_id, f"ignored: {reason}")
        return Answer(202, {"ignored": True, "reason": reason, "deliveryId": delivery_id})
    message = {"deliveryId": delivery_id, "event": event, "payload": payload}
    if not queues.send(get_settings().github_webhook_queue_name, message):
        store.forget_delivery(delivery_id)  # so that GitHub's "Redeliver" can try again
        raise Unavailable("The webhook queue is unavailable; redeliver later", code="queue_unavailable")
    return Answer(202, {"queued": True, "event": event, "action": action, "deliveryId": delivery_id})

