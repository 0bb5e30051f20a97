"""Short-lived, single-use tickets to open the WebSocket API with, instead of a key in the URL.

`POST /ws/tickets` (any authenticated caller) mints one bound to the caller's principal: the
principal and the expiry, signed with HMAC-SHA256, so minting writes nothing and connecting reads
nothing to learn who it is. Connecting with `?ticket=…` checks the signature and the expiry, then
records the ticket's SHA-256 with one conditional put: a replayed ticket (from an access log, say)
is refused, as is one past its expiry, a forged or altered one, and one minted with an API key
revoked since.

The signing key is random, made once per stage by the first process that needs it, and stored
sealed with the stage's KMS key (`secrets_box`); each process unseals it once.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlencode

from chalicelib import secrets_box
from chalicelib.auth.access import Access, Principal
from chalicelib.auth.tokens import hash_token
from chalicelib.db import keys
from chalicelib.db import ws as store
from chalicelib.db.models import WsTicket, utcnow
from chalicelib.errors import Unauthorized
from chalicelib.services.live import channel_access
from chalicelib.settings import get_settings

PREFIX = "wst_"
_TICKET = re.compile(r"^wst_([A-Za-z0-9_-]{1,1000})\.([A-Za-z0-9_-]{43})$")
PURPOSE = "ws-tickets"
_CONTEXT = {"purpose": PURPOSE}  # the KMS encryption context of the sealed key
_key_lock = threading.Lock()


@dataclass(frozen=True)
class Minted:
    ticket: str
    expires_at: datetime
    url: str | None  # the WebSocket URL with the ticket, when MA_WS_URL is set


def mint(access: Access) -> Minted:
    """A ticket for the caller itself: any authenticated principal may have one."""
    access.mark_checked()
    settings = get_settings()
    principal = access.principal
    expires = int(time.time()) + settings.ws_ticket_ttl_seconds
    claims = {"j": secrets.token_urlsafe(16), "u": principal.user_id, "k": principal.key_id,
              "s": principal.scope_team_id, "t": principal.expires_at, "e": expires}
    body = _b64(json.dumps({k: v for k, v in claims.items() if v is not None}, separators=(",", ":")).encode())
    ticket = f"{PREFIX}{body}.{_signature(body)}"
    url = f"{settings.ws_url}?{urlencode({'ticket': ticket})}" if settings.ws_url else None
    return Minted(ticket=ticket, expires_at=datetime.fromtimestamp(expires, timezone.utc), url=url)


def redeem(ticket: str | None) -> Principal:
    """The principal a ticket was minted for; uses it up. Unauthorized if malformed, not signed by
    this stage, expired, used already, or minted with an API key revoked since."""
    claims = _verified_claims(ticket)
    expires = claims["e"]
    if expires <= time.time():
        raise Unauthorized("The ticket has expired; mint another", code="ticket_expired")
    principal = Principal(user_id=claims["u"], key_id=claims.get("k"), scope_team_id=claims.get("s"),
                          expires_at=claims.get("t"))
    if channel_access.key_revoked(principal.key_id, cached=True):
        raise Unauthorized("The API key the ticket was minted with was revoked", code="invalid_token")
    used = WsTicket(keys.ws_ticket(hash_token(ticket)), keys.META, user_id=principal.user_id,
                    key_id=principal.key_id, scope_team_id=principal.scope_team_id,
                    token_expires_at=principal.expires_at, consumed_at=utcnow(),
                    expires_at=datetime.fromtimestamp(expires, timezone.utc))
    if not store.use_ticket(used):
        raise Unauthorized("The ticket was used already; mint another", code="invalid_ticket")
    return principal


def _verified_claims(ticket: str | None) -> dict:
    match = _TICKET.match(ticket) if isinstance(ticket, str) else None
    if match is None:
        raise Unauthorized("Malformed ticket", code="invalid_ticket")
    body, signature = match.groups()
    if not hmac.compare_digest(signature, _signature(body)):
        raise Unauthorized("Unknown ticket; mint another", code="invalid_ticket")
    try:
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError as e:  # signed by us, so never in practice; still a 401, not a 500
        raise Unauthorized("Malformed ticket", code="invalid_ticket") from e
    if not isinstance(claims, dict) or not isinstance(claims.get("u"), str) or not isinstance(claims.get("e"), int):
        raise Unauthorized("Malformed ticket", code="invalid_ticket")
    return claims


def _signature(body: str) -> str:
    return _b64(hmac.new(_signing_key(), (PREFIX + body).encode(), hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signing_key() -> bytes:
    with _key_lock:  # one process unseals it once, however many connects arrive together
        return _load_signing_key()


@functools.lru_cache(maxsize=1)
def _load_signing_key() -> bytes:
    """The stage's ticket key: made and sealed by the first process (its put only if absent), read
    and unsealed by the others. A failure is not cached: the next ticket tries again."""
    sealed = store.find_signing_key(PURPOSE)
    if sealed is None:
        mine = secrets_box.encrypt(secrets.token_urlsafe(32), _CONTEXT)
        sealed = mine if store.create_signing_key(PURPOSE, mine) else store.find_signing_key(PURPOSE)
    return hashlib.sha256(secrets_box.decrypt(sealed, _CONTEXT).encode()).digest()
