"""The local stand-in for API Gateway's WebSocket API.

A WebSocket server (the `websockets` library) on MA_WS_PORT turns a client's connect, messages and
disconnect into API-Gateway-shaped Lambda events for the same Chalice handlers AWS invokes
(`ws_connect`, `ws_message`, `ws_disconnect` in app.py); the $connect handler decides, before the
upgrade, whether the connection is accepted. A second, plain HTTP/1.1 server on MA_WS_MGMT_PORT,
on the same event loop, serves API Gateway's management API (`POST|GET|DELETE /@connections/{id}`),
so the broadcaster (or a boto3 `apigatewaymanagementapi` client) works unchanged with its endpoint
pointed here; an unknown connection answers 410 GoneException, as in AWS.

The credential travels in the query string (browsers cannot set headers on a WebSocket): a
single-use ticket, or during its deprecation period an API key or JWT. Nothing here logs request
paths. `DELETE /@connections/{id}` closes a connection (the broadcaster's answer to a revoked key
or an expired JWT); its $disconnect follows, as in AWS.
"""
from __future__ import annotations

import asyncio
import json
import re
import secrets
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any, Callable
from urllib.parse import parse_qsl, unquote, urlsplit

from websockets.protocol import State

from local_stack.dispatcher import LambdaContext

Handler = Callable[[dict, Any], Any]
SEND_TIMEOUT = 10.0
OPEN_TIMEOUT = 60.0  # a $connect waits for its handler, which a loaded machine may take seconds to run
MAX_POST_BYTES = 128 * 1024  # API Gateway's message limit


def _now_ms() -> int:
    return int(time.time() * 1000)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*([^\r]*)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:", re.IGNORECASE)


def _parse_request(head: bytes) -> tuple[str, str, int | None]:
    """(method, target, body length) of an HTTP/1.1 request head; the length is None when the body
    cannot be framed by Content-Length (chunked, or a value that is not a number)."""
    line_end = head.find(b"\r\n")
    method, target, _ = (head[:line_end if line_end >= 0 else None].decode("latin-1").split(" ", 2) + ["", ""])[:3]
    if _CHUNKED.search(head):
        return method, target, None
    match = _LENGTH.search(head)
    value = match.group(1).strip() if match else b"0"
    return method, target, int(value) if value.isdigit() else None


def _connection_id(target: str) -> str | None:
    """The connection id in a management path (`/@connections/{id}`), None for any other path."""
    path = target.partition("?")[0]
    if "%" in path:
        path = unquote(path)
    prefix = "/@connections/"
    return path[len(prefix):] if path.startswith(prefix) and len(path) > len(prefix) else None


def _response(status: int, body: dict | None, error: str | None, close: bool = False) -> bytes:
    data = json.dumps(body).encode() if body is not None else b""
    head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", f"Content-Length: {len(data)}"]
    if error:
        head.append(f"x-amzn-ErrorType: {error}")
    if data:
        head.append("Content-Type: application/json")
    if close:
        head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data


_OK = _response(200, None, None)
_GONE = _response(410, {"message": "Gone"}, "GoneException")
MAX_HEAD_BYTES = 16 * 1024


def _is_text(data: bytes) -> bool:
    """A text frame when the data is UTF-8 (as API Gateway sends it), else binary."""
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _frame_head(data: bytes) -> bytes:
    """The head of one unfragmented, unmasked frame (server to client) carrying `data`: text when
    it is UTF-8 (as API Gateway sends it), else binary."""
    opcode = 0x81 if _is_text(data) else 0x82  # FIN set
    size = len(data)
    if size < 126:
        return bytes((opcode, size))
    if size < 1 << 16:
        return bytes((opcode, 126)) + size.to_bytes(2, "big")
    return bytes((opcode, 127)) + size.to_bytes(8, "big")


def _send_now(connection, data: bytes) -> bool | None:
    """Write `data` as one frame at once when the connection can take it: True sent, False gone,
    None busy (a full send buffer, a fragmented send in progress, the opening handshake not done).
    In that common case the frame goes straight to the transport: a complete data frame changes
    nothing in the protocol's state, so `connection.send`'s task switch, context manager and
    framing objects are skipped; the bytes are sent as posted, not decoded and encoded again."""
    state = connection.protocol.state
    if state is State.CLOSING or state is State.CLOSED:
        return False
    if state is not State.OPEN or connection.paused or connection.send_in_progress is not None:
        return None
    transport = connection.transport
    if transport.is_closing():
        return False
    transport.write(_frame_head(data) + data)
    return True


class _Management(asyncio.Protocol):
    """One connection to the management API: its requests answered in order, those of one read
    in one write. A POST that must wait for its WebSocket connection stops this connection's
    reading until it is answered, so answers never overtake one another."""

    def __init__(self, gateway: "Gateway"):
        self.gateway = gateway
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.waiting = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.waiting:
            self._serve()

    def _serve(self) -> None:
        answers: list[bytes] = []
        while not self.transport.is_closing():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEAD_BYTES:
                    answers.append(_response(431, {"message": "Request header too large"}, "BadRequestException",
                                             close=True))
                    self._finish(answers, close=True)
                    return
                break
            method, target, length = _parse_request(bytes(self.buffer[:end]))
            if length is None or length > MAX_POST_BYTES:
                # The body is not read: answer, then close rather than misframe what follows.
                answers.append(_response(413, {"message": "Payload too large"}, "PayloadTooLargeException",
                                         close=True))
                self._finish(answers, close=True)
                return
            size = end + 4 + length
            if len(self.buffer) < size:
                break
            body = bytes(self.buffer[end + 4:size])
            del self.buffer[:size]
            answer = self.gateway._manage_now(method, target, body)
            if not isinstance(answer, bytes):  # the POST's send, to await before anything else here
                self._finish(answers)
                answers = []
                self.waiting = True
                self.transport.pause_reading()
                asyncio.ensure_future(self._later(answer))
                return
            answers.append(answer)
        self._finish(answers)

    async def _later(self, sending) -> None:
        answer = await sending
        if self.transport.is_closing():
            return
        self.transport.write(answer)
        self.waiting = False
        self.transport.resume_reading()
        self._serve()

    def _finish(self, answers: list[bytes], close: bool = False) -> None:
        if answers:
            self.transport.write(b"".join(answers))
        if close:
            self.transport.close()


class Gateway:
    def __init__(self, host: str, ws_port: int, mgmt_port: int, *, connect: Handler, message: Handler,
                 disconnect: Handler, api_id: str = "local", stage: str = "local"):
        self.host, self.ws_port, self.mgmt_port = host, ws_port, mgmt_port
        self.handlers = {"$connect": connect, "$default": message, "$disconnect": disconnect}
        self.api_id, self.stage = api_id, stage
        self.connections: dict[str, Any] = {}
        self.connected_at: dict[str, int] = {}
        self.last_active: dict[str, int] = {}
        self.pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="ws-handler")
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None

    # --- events ------------------------------------------------------------------------------

    def _event(self, route: str, connection_id: str, *, body: str | None = None, query: dict | None = None,
               headers: dict | None = None, source_ip: str = "127.0.0.1") -> dict:
        kind = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
        now = _now_ms()
        return {
            "requestContext": {
                "routeKey": route, "eventType": kind, "connectionId": connection_id,
                "apiId": self.api_id, "stage": self.stage, "domainName": f"{self.host}:{self.ws_port}",
                "requestId": str(uuid.uuid4()), "requestTimeEpoch": now,
                "connectedAt": self.connected_at.get(connection_id, now),
                "identity": {"sourceIp": source_ip},
            },
            "queryStringParameters": query or None, "headers": headers or {}, "body": body,
            "isBase64Encoded": False,
        }

    async def _invoke(self, route: str, event: dict) -> Any:
        context = LambdaContext(function_name=f"ws{route}", aws_request_id=event["requestContext"]["requestId"],
                                deadline_ms=time.time() * 1000 + 29_000)
        assert self.loop is not None
        return await self.loop.run_in_executor(self.pool, self.handlers[route], event, context)

    # --- the WebSocket side ----------------------------------------------------------------

    async def _process_request(self, connection, request):
        connection_id = secrets.token_urlsafe(12)
        self.connected_at[connection_id] = _now_ms()
        query = dict(parse_qsl(urlsplit(request.path).query))
        peer = connection.remote_address[0] if connection.remote_address else "127.0.0.1"
        event = self._event("$connect", connection_id, query=query, headers=dict(request.headers), source_ip=peer)
        try:
            result = await self._invoke("$connect", event) or {}
        except Exception:
            self.connected_at.pop(connection_id, None)
            return connection.respond(500, "Internal server error\n")
        status = int(result.get("statusCode", 200))
        if status != 200:
            self.connected_at.pop(connection_id, None)
            return connection.respond(status, (result.get("body") or "Forbidden") + "\n")
        connection.ma_connection_id = connection_id
        self.connections[connection_id] = connection
        return None

    async def _serve_connection(self, connection) -> None:
        connection_id = connection.ma_connection_id
        self.last_active[connection_id] = _now_ms()
        try:
            async for raw in connection:
                self.last_active[connection_id] = _now_ms()
                body = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
                try:
                    await self._invoke("$default", self._event("$default", connection_id, body=body))
                except Exception:
                    pass  # as API Gateway: the client gets nothing back from a failed integration
        except Exception:
            pass
        finally:
            self.connections.pop(connection_id, None)
            try:
                await self._invoke("$disconnect", self._event("$disconnect", connection_id))
            except Exception:
                pass
            self.connected_at.pop(connection_id, None)
            self.last_active.pop(connection_id, None)

    async def _main(self) -> None:
        from websockets.asyncio.server import serve

        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        management = await self.loop.create_server(lambda: _Management(self), self.host, self.mgmt_port)
        async with management, serve(self._serve_connection, self.host, self.ws_port,
                                     process_request=self._process_request, max_size=128 * 1024,
                                     ping_interval=20, ping_timeout=20, open_timeout=OPEN_TIMEOUT,
                                     # No per-message deflate: a batch is 500 copies of one frame, each
                                     # deflated on its own (and inflated by each client) for loopback.
                                     compression=None):
            self._ready.set()
            await self._stop.wait()

    # --- the management API ----------------------------------------------------------------
    # Served on the WebSocket server's own event loop by `_Management`, one protocol object per
    # management connection: a posted message goes straight to its connection, with no thread hop
    # and, in the common case, no task per message.

    def _manage_now(self, method: str, target: str, body: bytes):
        """The answer to a management request, or, when a POST must wait for its connection, the
        coroutine that sends it and answers (`_manage_later`)."""
        connection_id = _connection_id(target)
        if connection_id is None:
            return _response(404, {"message": "Not Found"}, "NotFoundException")
        connection = self.connections.get(connection_id)
        if method == "POST" and connection is not None:
            sent = _send_now(connection, body)
            if sent is None:
                return self._manage_later(connection, body)
            if sent:
                return _OK
        if method == "DELETE" and connection is not None:
            asyncio.ensure_future(connection.close())
            return _response(204, None, None)
        if method == "GET" and connection is not None:
            connected = self.connected_at.get(connection_id, _now_ms())
            return _response(200, {"ConnectedAt": _iso(connected), "Identity": {"SourceIp": "127.0.0.1"},
                                   "LastActiveAt": _iso(self.last_active.get(connection_id, connected))}, None)
        return _GONE

    @staticmethod
    async def _manage_later(connection, body: bytes) -> bytes:
        """A POST whose connection is busy (its send buffer full, a fragmented send in progress, or
        its opening handshake not done): sent through `connection.send`, which waits its turn."""
        try:
            async with asyncio.timeout(SEND_TIMEOUT):
                await connection.send(body, text=_is_text(body))
            return _OK
        except Exception:
            return _GONE

    def close(self, connection_id: str) -> bool:
        connection = self.connections.get(connection_id)
        if connection is None or self.loop is None:
            return False
        asyncio.run_coroutine_threadsafe(connection.close(), self.loop)
        return True

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "Gateway":
        threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True, name="ws-gateway").start()
        if not self._ready.wait(30):
            raise RuntimeError("the WebSocket gateway did not start")
        return self

    def stop(self) -> None:
        if self.loop is not None and self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
