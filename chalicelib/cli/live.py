"""The WebSocket side: connect with a single-use ticket (`POST /ws/tickets`), subscribe, and come back
after a dropped connection, resuming log channels from the last offset received.

`LogAssembler` is the part that makes a followed log gapless and duplicate-free: it keeps the offset
of the next line it wants, drops what it already has, joins a long line sent in parts, and reports a
gap (which the caller fills from the REST log endpoint) instead of skipping lines.
"""
from __future__ import annotations

import json
import time
from typing import Callable, Iterator

from chalicelib.cli.client import ApiError, Client


class Gap(Exception):
    def __init__(self, wanted: int, got: int):
        super().__init__(f"lines {wanted}..{got - 1} missing")
        self.wanted, self.got = wanted, got


class LogAssembler:
    """Lines of one log, in order, each once."""

    def __init__(self, next_offset: int = 0):
        self.next = next_offset
        self._parts: dict[int, str] = {}

    def feed(self, offset: int, lines: list[str], part: int | None = None, parts: int | None = None) -> list[str]:
        if parts is not None:  # one long line, split by the broadcaster into `parts` messages
            if offset < self.next:
                return []
            if offset > self.next:
                raise Gap(self.next, offset)
            self._parts[part or 0] = lines[0] if lines else ""
            if len(self._parts) < parts:
                return []
            whole = "".join(self._parts[i] for i in range(parts))
            self._parts.clear()
            self.next += 1
            return [whole]
        if offset > self.next:
            raise Gap(self.next, offset)
        fresh = lines[self.next - offset:]
        self.next += len(fresh)
        return fresh

    def feed_message(self, message: dict) -> list[str]:
        return self.feed(message["offset"], message.get("lines", []), message.get("part"), message.get("parts"))


Subscription = tuple[str, Callable[[], int | None]]  # channel, and the offset to resume from (None: from now)


class Live:
    """One logical WebSocket connection that survives drops: each (re)connect mints a fresh ticket and
    subscribes every channel again, log channels with `since` = the next offset wanted."""

    def __init__(self, client: Client, ws_url: str | None = None, give_up_after: float = 60,
                 on_reconnect: Callable[[str], None] | None = None):
        self.client, self.ws_url, self.give_up_after = client, ws_url, give_up_after
        self.on_reconnect = on_reconnect or (lambda reason: None)
        self.subscriptions: list[Subscription] = []
        self._ws = None
        self.connects = 0

    def subscribe(self, channel: str, since: Callable[[], int | None] = lambda: None) -> None:
        self.subscriptions.append((channel, since))

    def _url(self) -> str:
        minted = self.client.post("/ws/tickets")
        if self.ws_url:
            return f"{self.ws_url.rstrip('/')}?ticket={minted['ticket']}"
        if not minted.get("url"):
            raise ApiError(0, "no_websocket_url", "the API has no WebSocket URL configured: pass --ws-url")
        return minted["url"]

    def _connect(self) -> None:
        from websockets.sync.client import connect

        ws = connect(self._url(), open_timeout=10, close_timeout=2)
        for channel, since in self.subscriptions:
            request = {"action": "subscribe", "channel": channel}
            if (offset := since()) is not None:
                request["since"] = offset
            ws.send(json.dumps(request))
        self._ws = ws
        self.connects += 1

    def messages(self, idle: float = 1.0) -> Iterator[dict | None]:
        """Messages as they come; None after `idle` seconds without one (time to check state over REST)."""
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

        down_since: float | None = None
        while True:
            if self._ws is None:
                try:
                    self._connect()
                    down_since = None
                except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as e:
                    down_since = down_since or time.monotonic()
                    if time.monotonic() - down_since > self.give_up_after:
                        raise ApiError(0, "websocket_unreachable", f"the WebSocket API is unreachable: {e}") from e
                    time.sleep(min(idle, 0.5))
                    yield None
                    continue
            try:
                raw = self._ws.recv(timeout=idle)
            except TimeoutError:
                yield None
                continue
            except (ConnectionClosed, OSError) as e:
                self._drop()
                self.on_reconnect(type(e).__name__)
                continue
            message = json.loads(raw)
            if message.get("type") == "closing":
                raise ApiError(401, message.get("reason", "closing"), "the API closed the connection: "
                               f"{message.get('reason')}")
            if message.get("type") == "error":
                status = {"not_found": 404, "forbidden": 403}.get(message.get("code"), 400)
                raise ApiError(status, message.get("code", "error"), message.get("message", "subscription refused"))
            yield message

    def _drop(self) -> None:
        if self._ws is not None:
            try:
                self._ws.close()
            except Exception:  # the socket is already gone; closing is best effort
                pass
        self._ws = None

    def close(self) -> None:
        self._drop()
