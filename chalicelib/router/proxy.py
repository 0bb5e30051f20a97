"""The router's reverse proxy, on aiohttp: a web server in front, a pooled client behind.

What a request becomes on its way to the deployment's server:
- headers are compared case-insensitively; hop-by-hop ones (and those named in `Connection`) are
  dropped, and so are the client's own `X-Forwarded-*` and `Forwarded`: the router sets
  X-Forwarded-For/-Proto/-Host itself (trusting `trusted_hops` proxies in front of it, e.g. 1
  behind an ALB, 0 locally); `Host` names the upstream;
- the body is streamed with exactly one framing: the client's Content-Length when it sent one,
  chunked otherwise; over `max_body_bytes` it answers 413, and a client that stops sending for
  `body_timeout` seconds gets 408;
- a client must send its request's headers within `header_timeout` seconds of connecting (or of the
  previous response on a kept-alive connection), or the connection is closed: aiohttp's keep-alive
  timeout, which is also how long an idle client connection stays open (behind an ALB, set it
  above the ALB's idle timeout);
- the response is streamed back as it arrives (server-sent events, streamed agent output); an
  upstream that sends nothing for `upstream_timeout` seconds before its response starts is a 504,
  during the body the client's connection is cut (never a truncated body that looks complete);
- a WebSocket upgrade is relayed to the server's WebSocket (text, binary and close, both ways).

A connection refused by a cached upstream is retried against a fresh read of the route (nothing was
sent yet, so any method may be retried). Upstream connections are kept alive in one pool, closed
after `POOL_IDLE_SECONDS` idle, below Node's 5 s keep-alive timeout so that a server never closes
a connection the pool is about to reuse.
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
from dataclasses import dataclass
from typing import AsyncIterator

from aiohttp import (ClientConnectorError, ClientError, ClientSession, ClientTimeout, ClientWSTimeout,
                     ConnectionTimeoutError, DummyCookieJar, TCPConnector, WSMsgType, WSServerHandshakeError, web)
from multidict import CIMultiDict
from yarl import URL

from chalicelib.router.routes import Route, RouteTable, split_target

log = logging.getLogger("mastra_admin.router")

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
                        "trailer", "trailers", "transfer-encoding", "upgrade", "proxy-connection"})
# Never forwarded as the client sent them: the router (or aiohttp's client) sets them for the upstream.
NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length", "expect", "forwarded",
                              "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"}
WS_HANDSHAKE = frozenset({"sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions",
                          "sec-websocket-protocol", "sec-websocket-accept"})
# What aiohttp's client would add by itself; a header the client did send is forwarded as sent.
NO_AUTO_HEADERS = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")
POOL_IDLE_SECONDS = 4.0
SERVER = "mastra-admin-router"  # where the upstream names none (else aiohttp would name itself and its version)
CONNECT_ATTEMPTS = 3
CONNECT_TIMEOUT = 5.0
BUFFERED_BODY = 64 * 1024  # a response body of known length up to this is read whole, then sent
WS_CLOSE_CODES = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014})


@dataclass(frozen=True)
class ProxyConfig:
    max_body_bytes: int = 10 * 1024 * 1024
    header_timeout: float = 15.0
    body_timeout: float = 30.0
    upstream_timeout: float = 300.0
    trusted_hops: int = 0
    domains: tuple[str, ...] = ("localhost",)

    @classmethod
    def from_settings(cls, settings) -> ProxyConfig:
        public = settings.public_domain.rsplit(":", 1)[0].lower()
        return cls(max_body_bytes=int(settings.router_max_body_mb * 1024 * 1024),
                   header_timeout=settings.router_header_timeout_seconds,
                   body_timeout=settings.router_body_timeout_seconds,
                   upstream_timeout=settings.router_upstream_timeout_seconds,
                   trusted_hops=settings.router_trusted_hops,
                   domains=tuple(dict.fromkeys(d for d in ("localhost", public) if d)))


class BodyRejected(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error(status: int, code: str, message: str, close: bool = False) -> web.Response:
    response = web.Response(status=status, content_type="application/json", headers={"Server": SERVER},
                            body=json.dumps({"error": {"code": code, "message": message}}).encode())
    if close:
        response.force_close()
    return response


def _connection_tokens(headers) -> frozenset[str]:
    value = headers.get("Connection")
    if not value:
        return frozenset()
    return frozenset(t.strip().lower() for t in value.split(","))


class RequestBody:
    """The client's body as the upstream reads it: capped, with a timeout between reads."""

    __slots__ = ("content", "cap", "timeout", "read", "rejected")

    def __init__(self, request: web.BaseRequest, cap: int, timeout: float):
        self.content, self.cap, self.timeout = request.content, cap, timeout
        self.read = 0
        self.rejected: BodyRejected | None = None

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            try:
                async with asyncio.timeout(self.timeout):
                    chunk = await self.content.readany()
            except TimeoutError:
                self.rejected = BodyRejected(408, "request_timeout",
                                             f"The request body stalled for {self.timeout:g} s")
                raise self.rejected from None
            if not chunk:
                return
            self.read += len(chunk)
            if self.read > self.cap:
                self.rejected = BodyRejected(413, "body_too_large",
                                             f"The request body is over {self.cap} bytes")
                raise self.rejected
            yield chunk


class Proxy:
    def __init__(self, routes: RouteTable, config: ProxyConfig):
        self.routes, self.config = routes, config
        self.session: ClientSession | None = None
        self._lookups: dict[str, asyncio.Future] = {}

    async def open(self) -> None:
        connector = TCPConnector(limit=0, keepalive_timeout=POOL_IDLE_SECONDS, use_dns_cache=True)
        self.session = ClientSession(
            connector=connector, cookie_jar=DummyCookieJar(), auto_decompress=False, trust_env=False,
            skip_auto_headers=NO_AUTO_HEADERS,
            timeout=ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT, sock_read=self.config.upstream_timeout))

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    async def _route(self, slug: str, fresh: bool = False) -> Route:
        """The route, from the cache without blocking, else read once for every request waiting on it."""
        if not fresh:
            hit = self.routes.cached(slug)
            if hit is not None:
                return hit
        pending = self._lookups.get(slug)
        if pending is None:
            pending = asyncio.get_running_loop().run_in_executor(None, self.routes.get, slug, True)
            self._lookups[slug] = pending
            pending.add_done_callback(lambda _: self._lookups.pop(slug, None))
        return await asyncio.shield(pending)

    def _upstream_headers(self, request: web.BaseRequest, websocket: bool = False) -> CIMultiDict:
        named = _connection_tokens(request.headers)
        headers: CIMultiDict = CIMultiDict()
        for key, value in request.headers.items():
            lower = key.lower()
            if lower in NOT_FORWARDED or lower in named or (websocket and lower in WS_HANDSHAKE):
                continue
            headers.add(key, value)
        peer = request.remote or ""
        proto = request.scheme
        hops = self.config.trusted_hops
        if hops > 0:
            chain = [a.strip() for v in request.headers.getall("X-Forwarded-For", ()) for a in v.split(",")]
            chain = [a for a in chain if a] + [peer]
            forwarded_for = ", ".join(chain[-(hops + 1):])
            proto = request.headers.get("X-Forwarded-Proto", proto).split(",")[-1].strip() or proto
        else:
            forwarded_for = peer
        headers["X-Forwarded-For"] = forwarded_for
        headers["X-Forwarded-Proto"] = proto
        headers["X-Forwarded-Host"] = request.headers.get("Host", "")
        return headers

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        slug, path = split_target(request.headers.get("Host", ""), request.raw_path, self.config.domains)
        if not slug:
            return error(404, "no_route", "Use http://{slug}.localhost:PORT/ or /d/{slug}/")
        try:
            route = await self._route(slug)
        except Exception:
            log.exception("route lookup for %r failed", slug)
            return error(503, "store_unavailable", "The route table cannot be read")
        if not route.known:
            return error(404, "no_such_deployment", f"No deployment is called {slug!r}")
        if request.headers.get("Upgrade", "").lower() == "websocket" and "upgrade" in _connection_tokens(request.headers):
            return await self._websocket(request, slug, route, path)
        return await self._http(request, slug, route, path)

    async def _connect(self, slug: str, route: Route, send, body: RequestBody | None = None):
        """(what `send(upstream)` returned, None), or (None, the error response).

        A connection refused (or not accepted in time) is retried against a fresh read of the route,
        as long as nothing of the body was read: the server may have just been switched.
        """
        for attempt in range(CONNECT_ATTEMPTS):
            if not route.upstream:
                return None, error(503, "deployment_not_running",
                                   f"Deployment {slug!r} has no running server ({route.status})")
            try:
                return await send(route.upstream), None
            except (ClientConnectorError, ConnectionTimeoutError):
                if body is not None and body.read:
                    return None, error(502, "upstream_failed", f"The server of {slug!r} failed", close=True)
                if attempt:
                    await asyncio.sleep(0.05 * attempt)
                try:
                    route = await self._route(slug, fresh=True)
                except Exception:
                    log.exception("route lookup for %r failed", slug)
                    return None, error(503, "store_unavailable", "The route table cannot be read")
        return None, error(502, "upstream_unreachable", f"The server of {slug!r} does not accept connections")

    async def _http(self, request: web.BaseRequest, slug: str, route: Route, path: str) -> web.StreamResponse:
        length = request.content_length
        if length is not None and length > self.config.max_body_bytes:
            return error(413, "body_too_large", f"The request body is over {self.config.max_body_bytes} bytes",
                         close=True)
        headers = self._upstream_headers(request)
        body = None
        if length is not None:
            headers["Content-Length"] = str(length)  # the client's framing; chunked when it sent none
        if request.body_exists and length != 0:
            body = RequestBody(request, self.config.max_body_bytes, self.config.body_timeout)
            if "100-continue" in request.headers.get("Expect", "").lower():
                await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        assert self.session is not None
        session = self.session

        def send(upstream: str):
            return session.request(request.method, URL(f"http://{upstream}{path}", encoded=True), headers=headers,
                                   data=body.chunks() if body is not None else None, allow_redirects=False)

        try:
            upstream, refused = await self._connect(slug, route, send, body)
        except TimeoutError:
            if body is not None and body.rejected:
                return await _reject(request, body.rejected)
            return error(504, "upstream_timeout",
                         f"The server of {slug!r} did not answer in {self.config.upstream_timeout:g} s", close=True)
        except (ClientError, OSError) as e:
            if body is not None and body.rejected:
                return await _reject(request, body.rejected)
            return error(502, "upstream_failed", f"The server of {slug!r} failed: {type(e).__name__}", close=True)
        if refused is not None:
            return refused
        try:
            return await self._relay(request, upstream)
        finally:
            upstream.release()

    async def _relay(self, request: web.BaseRequest, upstream) -> web.StreamResponse:
        named = _connection_tokens(upstream.headers)
        headers: CIMultiDict = CIMultiDict()
        for key, value in upstream.headers.items():
            lower = key.lower()
            if lower not in HOP_BY_HOP and lower not in named:
                headers.add(key, value)  # Content-Length included: aiohttp frames by it, else chunked
        headers.setdefault("Server", SERVER)
        length = upstream.content_length
        if request.method == "HEAD" or upstream.status in (204, 304) or (length is not None and length <= BUFFERED_BODY):
            # A small body of known length goes out with its headers in one write (nginx's proxy
            # buffering does the same): one send and one client wake-up fewer than streaming it.
            try:
                body = await upstream.read()
            except (ClientError, OSError, TimeoutError) as e:
                return error(502, "upstream_failed", f"The server failed mid-response: {type(e).__name__}", close=True)
            return web.Response(status=upstream.status, reason=upstream.reason, headers=headers, body=body)
        response = web.StreamResponse(status=upstream.status, reason=upstream.reason, headers=headers)
        await response.prepare(request)
        try:
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
        except (ClientError, OSError, TimeoutError):
            # The upstream broke mid-body: cut the client off rather than end the body cleanly.
            if request.transport is not None:
                request.transport.close()
            return response
        await response.write_eof()
        return response

    async def _websocket(self, request: web.BaseRequest, slug: str, route: Route, path: str) -> web.StreamResponse:
        assert self.session is not None
        headers = self._upstream_headers(request, websocket=True)
        protocols = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
        session = self.session

        def send(upstream: str):
            return session.ws_connect(URL(f"http://{upstream}{path}", encoded=True), headers=headers,
                                      protocols=protocols, compress=0, max_msg_size=self.config.max_body_bytes,
                                      autoping=True, timeout=ClientWSTimeout(ws_receive=None, ws_close=10.0))

        try:
            upstream, refused = await self._connect(slug, route, send)
        except WSServerHandshakeError as e:
            status = e.status if e.status >= 400 else 502
            return error(status, "websocket_refused", f"The server of {slug!r} refused the WebSocket ({e.status})")
        except (ClientError, OSError, TimeoutError) as e:
            return error(502, "upstream_failed", f"The server of {slug!r} failed: {type(e).__name__}")
        if refused is not None:
            return refused
        client = web.WebSocketResponse(protocols=(upstream.protocol,) if upstream.protocol else (),
                                       max_msg_size=self.config.max_body_bytes, autoping=True)
        try:
            await client.prepare(request)
            # One side's close ends both pumps; a send to a side already gone is not an error here.
            await asyncio.gather(_pump(client, upstream), _pump(upstream, client), return_exceptions=True)
        finally:
            await upstream.close()
            await client.close()
        return client


async def _pump(source, sink) -> None:
    """Relay messages from one side to the other; when `source` closes, close `sink` the same way."""
    code, reason = None, ""
    while True:
        message = await source.receive()
        if message.type == WSMsgType.TEXT:
            await sink.send_str(message.data)
        elif message.type == WSMsgType.BINARY:
            await sink.send_bytes(message.data)
        elif message.type == WSMsgType.CLOSE:
            code, reason = message.data, message.extra or ""
            break
        elif message.type in (WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
            code = source.close_code
            break
    if code not in WS_CLOSE_CODES and not (code and 3000 <= code < 5000):
        code = 1011 if source.exception() is not None else 1000  # none given, or one not to be sent
    await sink.close(code=code, message=reason.encode()[:123])


async def _reject(request: web.BaseRequest, rejected: BodyRejected) -> web.StreamResponse:
    """Answer a body the router will not read to its end, and close the connection."""
    response = error(rejected.status, rejected.code, rejected.message, close=True)
    if rejected.status == 413:
        return response  # aiohttp reads (and drops) what the client still sends, for a while, so it sees the 413
    await response.prepare(request)
    await response.write_eof()
    request.protocol.force_close()  # a stalled client: no waiting for the rest of its body
    return response


def make_server(proxy: Proxy, config: ProxyConfig) -> web.Server:
    return web.Server(proxy.handle, handler_cancellation=True, keepalive_timeout=config.header_timeout,
                      auto_decompress=False, access_log=None)


class Router:
    """The router on its own event loop: `await start()` / `await stop()` inside a loop."""

    def __init__(self, routes: RouteTable, config: ProxyConfig, host: str = "127.0.0.1", port: int = 0,
                 shutdown_timeout: float = 5.0):
        self.proxy = Proxy(routes, config)
        self.config, self.host, self.port, self.shutdown_timeout = config, host, port, shutdown_timeout
        self.runner: web.ServerRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        await self.proxy.open()
        self.runner = web.ServerRunner(make_server(self.proxy, self.config), shutdown_timeout=self.shutdown_timeout)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.host, self.port, backlog=1024, reuse_address=True)
        await site.start()
        self.port = self.runner.addresses[0][1]

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        await self.proxy.close()


class RouterThread:
    """The router in a thread of its own with its own event loop (tests, benchmarks)."""

    def __init__(self, routes: RouteTable, config: ProxyConfig = ProxyConfig(), host: str = "127.0.0.1",
                 port: int = 0):
        self.router = Router(routes, config, host, port, shutdown_timeout=1.0)
        self._loop = asyncio.new_event_loop()
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="router", daemon=True)

    @property
    def url(self) -> str:
        return self.router.url

    def start(self) -> RouterThread:
        self._thread.start()
        self._ready.wait(30)
        if self._failed is not None:
            raise self._failed
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        try:
            await self.router.start()
        except BaseException as e:  # reported to start()'s caller
            self._failed = e
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            await self.router.stop()

    def stop(self) -> None:
        if self._thread.is_alive() and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(15)
