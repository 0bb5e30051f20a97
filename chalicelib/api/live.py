"""The WebSocket API's REST side: connect tickets."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.routing import Call, route
from chalicelib.models import api

bp = Blueprint(__name__)


@route(bp, "POST", "/ws/tickets", permission=None, response=api.WsTicket, status=201, cached_auth=True)
def create_ws_ticket(call: Call):
    """Mint a single-use ticket to connect to the WebSocket API with (`?ticket=`); it expires in a minute."""
    from chalicelib.services.live import tickets

    minted = tickets.mint(call.access)
    return api.WsTicket(ticket=minted.ticket, expires_at=minted.expires_at, url=minted.url).model_dump(
        mode="json", by_alias=True, exclude_none=True)
