"""Short-lived, single-use tickets to open the WebSocket API with, instead of a key in the URL.

`POST /ws/tickets` (any authenticated caller) mints one bound to the caller's principal; only its
SHA-256 is stored, with a TTL. Connecting with `?ticket=…` consumes it with one conditional write,
so a replayed ticket (from an access log, say) is refused, as is one past its expiry.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from chalicelib.auth.access import Access, Principal
from chalicelib.auth.tokens import hash_token
from chalicelib.db import keys
from chalicelib.db import ws as store
from chalicelib.db.models import WsTicket, utcnow
from chalicelib.errors import Unauthorized
from chalicelib.services.live import channel_access
from chalicelib.settings import get_settings

PREFIX = "wst_"
_TICKET = re.compile(r"^wst_[A-Za-z0-9_-]{43}$")


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
    ticket = PREFIX + secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(seconds=settings.ws_ticket_ttl_seconds)
    store.put_ticket(WsTicket(
        keys.ws_ticket(hash_token(ticket)), keys.META, user_id=principal.user_id, key_id=principal.key_id,
        scope_team_id=principal.scope_team_id, token_expires_at=principal.expires_at, expires_at=expires_at,
    ))
    url = f"{settings.ws_url}?{urlencode({'ticket': ticket})}" if settings.ws_url else None
    return Minted(ticket=ticket, expires_at=expires_at, url=url)


def redeem(ticket: str | None) -> Principal:
    """The principal a ticket was minted for; consumes it. Unauthorized if malformed, unknown,
    used already, expired, or minted with an API key revoked since."""
    if not isinstance(ticket, str) or not _TICKET.match(ticket):
        raise Unauthorized("Malformed ticket", code="invalid_ticket")
    item = store.consume_ticket(hash_token(ticket))
    if item is None:
        raise Unauthorized("Unknown or already used ticket; mint another", code="invalid_ticket")
    if item.expires_at <= utcnow():
        raise Unauthorized("The ticket has expired; mint another", code="ticket_expired")
    if channel_access.key_revoked(item.key_id, cached=True):
        raise Unauthorized("The API key the ticket was minted with was revoked", code="invalid_token")
    return Principal(user_id=item.user_id, key_id=item.key_id, scope_team_id=item.scope_team_id,
                     expires_at=int(item.token_expires_at) if item.token_expires_at is not None else None)
