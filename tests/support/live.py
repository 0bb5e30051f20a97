"""WebSocket clients of the local stack: connect with a ticket from `POST /ws/tickets`, as clients should."""
from __future__ import annotations

import requests


def mint_ticket(stack, token: str, session: requests.Session | None = None) -> dict:
    """`{"ticket", "expiresAt", "url"}` minted for the caller of `token`."""
    r = (session or requests).post(stack.url("/ws/tickets"), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    return r.json()


def ws_client(stack, token: str, open_timeout: float = 10):
    """A sync WebSocket client connected with a fresh ticket of `token`'s principal."""
    from websockets.sync.client import connect

    return connect(mint_ticket(stack, token)["url"], open_timeout=open_timeout)
