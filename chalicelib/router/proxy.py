"""The router's reverse proxy: asyncio protocols, HTTP/1.1 parsed by httptools (llhttp, uvicorn's parser).

Each client connection is a `ClientConnection`; for each request it borrows a kept-alive upstream
connection (`Upstream`) from one pool, sends the rewritten request head and streams the body, and
relays the response as it arrives. No task, no future and no copy of the body on the path of a
request whose route is cached and whose upstream has an idle connection: the parsers' callbacks
write straight to the other side.

What a request becomes on its way to the deployment's server:
- headers are compared case-insensitively; hop-by-hop ones (and those named in `Connection`) are
  dropped, and so are the client's own `X-Forwarded-*` and `Forwarded`: the router sets
  X-Forwarded-For/-Proto/-Host itself (trusting `trusted_hops` proxies in front of it, e.g. 1
  behind an ALB, 0 locally); `Host` names the upstream;
- the body is streamed with exactly one framing: the client's Content-Length when it sent one,
  chunked otherwise (llhttp refuses a request with two lengths or a length and chunked); over
  `max_body_bytes` it answers 413, and a client that stops sending for `body_timeout` seconds
  gets 408;
- a client must send its request's headers within `header_timeout` seconds of connecting (or of the
  previous response on a kept-alive connection), or the connection is closed: this is also how
  long an idle client connection stays open (behind an ALB, set it above the ALB's idle timeout);
- the response is streamed back as it arrives (server-sent events, streamed agent output), each
  read of the upstream written to the client at once (a small response goes out in one write);
  an upstream that sends nothing for `upstream_timeout` seconds before its response starts is a
  504, during the body the client's connection is cut (never a truncated body that looks complete);
- a WebSocket upgrade is forwarded with its handshake headers; when the server answers 101 the two
  connections are joined byte for byte (frames, pings and close codes pass as they are).

Timeouts are deadlines checked by one sweep every `margin` seconds (a quarter of the shortest
timeout, at most 1 s; each fires up to that much late): a timer per request cost more than the
rest of the request's work. The event loop is uvloop's where installed (`new_event_loop`).

A connection refused by a cached upstream is retried against a fresh read of the route (nothing was
sent yet, so any method may be retried). Upstream connections are kept alive in one pool and not
reused after `POOL_IDLE_SECONDS` idle, below Node's 5 s keep-alive timeout so that a server never
closes a connection the pool is about to reuse.
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
from dataclasses import dataclass
from http import HTTPStatus

import httptools

from chalicelib.router.routes import Route, RouteTable, split_target

log = logging.getLogger("mastra_admin.router")

HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te",
                        b"trailer", b"trailers", b"transfer-encoding", b"upgrade", b"proxy-connection"})
# Never forwarded as the client sent them: the router sets them for the upstream.
NOT_FORWARDED = HOP_BY_HOP | {b"host", b"content-length", b"expect", b"forwarded",
                              b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host"}
POOL_IDLE_SECONDS = 4.0
SERVER = "mastra-admin-router"  # where the upstream names none
CONNECT_ATTEMPTS = 3
CONNECT_TIMEOUT = 5.0
BUFFER_LIMIT = 256 * 1024  # request bytes held while the upstream connects, before the client is paused
REASONS = {s.value: s.phrase.encode() for s in HTTPStatus}
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
LAST_CHUNK = b"0\r\n\r\n"


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


def error(status: int, code: str, message: str, close: bool = True, head: bool = False) -> bytes:
    """A whole response from the router itself, in our error shape."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    return b"".join((
        b"HTTP/1.1 %d %s\r\nServer: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
        % (status, REASONS.get(status, b""), SERVER.encode(), len(body)),
        b"Connection: close\r\n\r\n" if close else b"\r\n", b"" if head else body))


SIMPLE_CONNECTION = frozenset({b"keep-alive", b"close", b"upgrade"})


def _tokens(value: bytes) -> frozenset[bytes]:
    return frozenset(t.strip() for t in value.lower().split(b","))


def _named(value: bytes) -> frozenset[bytes]:
    """The headers a `Connection` value names, beyond the hop-by-hop ones dropped anyway."""
    tokens = _tokens(value)
    return frozenset() if tokens <= SIMPLE_CONNECTION else tokens


def _without(lines: list[bytes], named: frozenset[bytes]) -> list[bytes]:
    return [line for line in lines if line.partition(b":")[0].strip().lower() not in named]


# How the request's own headers are handled (anything else is forwarded as sent).
(R_HOST, R_LENGTH, R_CHUNKED, R_CONNECTION, R_UPGRADE, R_EXPECT, R_XFF, R_XFP, R_DROP) = range(9)
REQUEST_HEADERS = {b"host": R_HOST, b"content-length": R_LENGTH, b"transfer-encoding": R_CHUNKED,
                   b"connection": R_CONNECTION, b"upgrade": R_UPGRADE, b"expect": R_EXPECT,
                   b"x-forwarded-for": R_XFF, b"x-forwarded-proto": R_XFP,
                   **{name: R_DROP for name in NOT_FORWARDED if name not in (
                       b"host", b"content-length", b"transfer-encoding", b"connection", b"upgrade", b"expect",
                       b"x-forwarded-for", b"x-forwarded-proto")}}
(S_CONNECTION, S_LENGTH, S_CHUNKED, S_SERVER, S_UPGRADE, S_DROP) = range(6)
RESPONSE_HEADERS = {b"connection": S_CONNECTION, b"content-length": S_LENGTH, b"transfer-encoding": S_CHUNKED,
                    b"server": S_SERVER, b"upgrade": S_UPGRADE,
                    **{name: S_DROP for name in HOP_BY_HOP if name not in (
                        b"connection", b"transfer-encoding", b"upgrade")}}


class Exchange:
    """One request and its response, on one client connection."""

    __slots__ = ("method", "path", "lines", "host", "slug", "length", "chunked", "connection", "upgrade", "expect",
                 "xff", "proto", "websocket", "keep_alive", "version", "upstream", "pending", "pending_size", "read",
                 "req_done", "resp_started", "resp_done", "close", "rejected", "last_body", "body_open", "task",
                 "answer")

    def __init__(self):
        self.lines: list[bytes] = []  # the client's headers to forward, as lines
        self.host = self.connection = b""
        self.length = self.upgrade = self.proto = None
        self.xff: list[bytes] | None = None
        self.chunked = self.expect = self.websocket = False
        self.upstream: Upstream | None = None
        self.pending: list[bytes] | None = []  # request bytes not sent yet; None once streaming to the upstream
        self.pending_size = 0
        self.read = 0
        self.req_done = self.resp_started = self.resp_done = self.close = self.rejected = self.body_open = False
        self.task = self.answer = None


class Upstream(asyncio.Protocol):
    """A connection to a deployment's server; lent to one exchange at a time, kept alive in the pool."""

    __slots__ = ("proxy", "address", "transport", "parser", "client", "exchange", "closed", "idle_since",
                 "status", "reason", "lines", "connection", "length", "chunked", "server", "upgrade", "out",
                 "chunked_out", "head_only", "keep_alive", "complete", "last", "tunnel", "close_delimited")

    def __init__(self, proxy: Proxy, address: str):
        self.proxy, self.address = proxy, address
        self.transport = None
        self.parser = httptools.HttpResponseParser(self)
        self.client: ClientConnection | None = None
        self.exchange: Exchange | None = None
        self.closed = self.tunnel = self.complete = False
        self.idle_since = self.last = 0.0
        self.out: list[bytes] | None = None

    # -- lent to an exchange

    def start(self, client: ClientConnection, exchange: Exchange, data: bytes) -> None:
        self.client, self.exchange = client, exchange
        self.status, self.reason, self.lines = 0, b"", []
        self.connection, self.length, self.upgrade = b"", None, None
        self.head_only = exchange.method == b"HEAD"
        self.complete = self.chunked_out = self.close_delimited = self.chunked = self.server = False
        self.keep_alive = True
        self.last = self.proxy.clock
        self.transport.write(data)

    def waiting(self) -> bool:
        """Waiting on the server (its response not whole yet): what the upstream timeout applies to."""
        return self.exchange is not None and not self.complete and not self.tunnel

    # -- asyncio.Protocol

    def connection_made(self, transport) -> None:
        self.transport = transport  # TCP_NODELAY: asyncio's and uvloop's transports set it themselves

    def data_received(self, data: bytes) -> None:
        if self.tunnel:
            if self.client is not None:
                self.client.transport.write(data)
            return
        exchange = self.exchange
        if exchange is None:  # an idle connection that talks: not reusable
            self.abort()
            return
        self.last = self.proxy.clock
        self.out = out = []
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as e:
            if self.status == 101 and exchange.websocket:
                rest = data[e.args[0]:]
                if rest:
                    out.append(rest)
        except httptools.HttpParserError:
            self.out = None
            client = self.client
            self.abort()
            if client is not None:
                client.upstream_failed(exchange, 502, "upstream_failed",
                                       f"The server of {exchange.slug!r} sent an invalid response")
            return
        self.out = None
        client = self.client
        if out and client is not None:
            client.transport.write(out[0] if len(out) == 1 else b"".join(out))
        if self.status == 101 and exchange.websocket and not self.tunnel:
            self.tunnel = True  # 101 Switching Protocols: from now on, bytes both ways
            client.join(self)
        elif self.complete:
            if self.head_only:
                self.parser = httptools.HttpResponseParser(self)  # llhttp would wait for the announced body
            if not self.keep_alive or self.closed:
                exchange.upstream = None
                self.abort()
            client.response_done(exchange)

    def connection_lost(self, exc) -> None:
        self.closed = True
        client, exchange = self.client, self.exchange
        self.client = self.exchange = None
        if client is None or exchange is None:
            return
        if self.tunnel:
            client.transport.close()
        elif self.close_delimited and exc is None:  # a body that ends with the connection
            if self.chunked_out:
                client.transport.write(LAST_CHUNK)
            self.complete = True
            self.keep_alive = False
            exchange.upstream = None
            client.response_done(exchange)
        elif not self.complete:
            client.upstream_failed(exchange, 502, "upstream_failed",
                                   f"The server of {exchange.slug!r} closed the connection")

    def pause_writing(self) -> None:
        if self.client is not None:
            self.client.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.client is not None and not self.client.transport.is_closing():
            self.client.transport.resume_reading()

    # -- httptools callbacks

    def on_status(self, status: bytes) -> None:
        self.reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        kind = RESPONSE_HEADERS.get(name.lower())
        if kind is None:
            self.lines.append(b"%s: %s\r\n" % (name, value))
        elif kind == S_LENGTH:
            self.length = value
            self.lines.append(b"%s: %s\r\n" % (name, value))  # the body's framing, as the server sent it
        elif kind == S_CONNECTION:
            self.connection = value
        elif kind == S_CHUNKED:
            self.chunked = b"chunked" in value.lower()
        elif kind == S_SERVER:
            self.server = True
            self.lines.append(b"%s: %s\r\n" % (name, value))
        elif kind == S_UPGRADE:
            self.upgrade = b"%s: %s\r\n" % (name, value)

    def on_headers_complete(self) -> None:
        exchange = self.exchange
        self.status = status = self.parser.get_status_code()
        upgrade = status == 101 and exchange.websocket
        lines = self.lines
        if self.connection:
            named = _named(self.connection)
            if named:
                lines = _without(lines, named)
        head = b"HTTP/1.1 %d %s\r\n" % (status, self.reason or REASONS.get(status, b""))
        self.reason = b""
        self.lines = []
        if not self.server:
            lines.append(b"Server: mastra-admin-router\r\n")
        if upgrade:
            lines.append(b"Connection: Upgrade\r\n")
            if self.upgrade:
                lines.append(self.upgrade)
        elif 100 <= status < 200:  # informational: the final response follows
            self.out.append(b"".join((head, *lines, b"\r\n")))
            return
        else:
            self.keep_alive = self.parser.should_keep_alive()
            if self.head_only:
                self.complete = True
            elif self.length is None and status not in (204, 304):
                self.close_delimited = not self.chunked
                if exchange.version == b"1.1":
                    lines.append(b"Transfer-Encoding: chunked\r\n")
                    self.chunked_out = True
                else:
                    exchange.close = True  # HTTP/1.0: the end of the body is the end of the connection
            if exchange.close or not exchange.keep_alive:
                exchange.close = True
                lines.append(b"Connection: close\r\n")
            elif exchange.version != b"1.1":
                lines.append(b"Connection: keep-alive\r\n")
        exchange.resp_started = True
        lines.append(b"\r\n")
        self.out.append(b"".join((head, *lines)))

    def on_body(self, body: bytes) -> None:
        if self.chunked_out:
            self.out.append(b"%x\r\n%s\r\n" % (len(body), body))
        else:
            self.out.append(body)

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:
            return  # informational: the final response follows
        if self.chunked_out:
            self.out.append(LAST_CHUNK)
        self.keep_alive = self.keep_alive and self.parser.should_keep_alive()
        self.complete = True

    # -- the end of an exchange

    def release(self) -> None:
        """Back to the pool (the exchange is over on both sides)."""
        self.client = self.exchange = None
        self.idle_since = self.proxy.loop.time()
        self.proxy.pool.setdefault(self.address, []).append(self)

    def abort(self) -> None:
        self.closed = True
        self.client = self.exchange = None
        if self.transport is not None:
            self.transport.abort()


class ClientConnection(asyncio.Protocol):
    """A connection from a client: its requests, one after another, each relayed to an upstream.

    Timeouts are deadlines that the proxy's sweep checks (`check`), not a timer per request.
    """

    __slots__ = ("proxy", "config", "transport", "parser", "peer", "queue", "current", "url", "header_deadline",
                 "linger_deadline", "tunnel", "upgrading", "closing")

    def __init__(self, proxy: Proxy):
        self.proxy = proxy
        self.config = proxy.config
        self.transport = None
        self.parser = httptools.HttpRequestParser(self)
        self.queue: list[Exchange] = []  # requests in order (more than one only when a client pipelines)
        self.current: Exchange | None = None  # the request being read
        self.url = b""
        self.header_deadline = self.linger_deadline = 0.0
        self.tunnel: Upstream | None = None
        self.upgrading: list[bytes] | None = None
        self.closing = False

    # -- asyncio.Protocol

    def connection_made(self, transport) -> None:
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = peer[0].encode() if peer else b""
        self.proxy.connections.add(self)
        self.header_deadline = self.proxy.clock + self.proxy.margin + self.config.header_timeout

    def data_received(self, data: bytes) -> None:
        if self.tunnel is not None:
            self.tunnel.transport.write(data)
            return
        if self.upgrading is not None:
            if self.queue and self.queue[0].websocket:
                self.upgrading.append(data)  # else dropped: the connection closes after this response
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as e:
            exchange = self.current or (self.queue[-1] if self.queue else None)
            if exchange is not None:
                # the WebSocket's first bytes, if the server accepts it; else answer this request, then close
                exchange.close = True
                self.upgrading = [data[e.args[0]:]] if exchange.websocket else []
        except httptools.HttpParserError as e:
            if not self.queue and not self.transport.is_closing():
                self.transport.write(error(400, "bad_request", f"Malformed request: {e}"))
            self._close()

    def eof_received(self):
        if self.tunnel is None and self.queue and self.queue[-1].req_done:
            self.queue[-1].close = True  # half-closed after a whole request: answer it, then close
            return True
        return False

    def connection_lost(self, exc) -> None:
        self.closing = True
        self.proxy.connections.discard(self)
        if self.tunnel is not None:
            self.tunnel.transport.close()
            self.tunnel.client = None
            self.tunnel = None
        for exchange in self.queue:
            self._drop(exchange)
        self.queue.clear()

    def pause_writing(self) -> None:
        up = self.queue[0].upstream if self.queue else self.tunnel
        if up is not None and not up.closed:
            up.transport.pause_reading()

    def resume_writing(self) -> None:
        up = self.queue[0].upstream if self.queue else self.tunnel
        if up is not None and not up.closed:
            up.transport.resume_reading()

    # -- httptools callbacks

    def on_message_begin(self) -> None:
        self.url = b""
        self.current = Exchange()

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        ex = self.current
        kind = REQUEST_HEADERS.get(name.lower())
        if kind is None:
            ex.lines.append(b"%s: %s\r\n" % (name, value))
        elif kind == R_HOST:
            ex.host = value
        elif kind == R_LENGTH:
            ex.length = value
        elif kind == R_CHUNKED:
            ex.chunked = True
        elif kind == R_CONNECTION:
            ex.connection = value
        elif kind == R_UPGRADE:
            ex.upgrade = b"%s: %s\r\n" % (name, value)
            ex.websocket = value.strip().lower() == b"websocket"
        elif kind == R_EXPECT:
            ex.expect = b"100-continue" in value.lower()
        elif kind == R_XFF:
            ex.xff = [value] if ex.xff is None else ex.xff + [value]
        elif kind == R_XFP:
            ex.proto = value

    def on_headers_complete(self) -> None:
        self.header_deadline = 0.0
        parser, config, ex, proxy = self.parser, self.config, self.current, self.proxy
        ex.method = parser.get_method()
        ex.version = parser.get_http_version().encode()
        ex.keep_alive = parser.should_keep_alive()
        if ex.connection:
            named = _named(ex.connection)
            if named:
                ex.lines = _without(ex.lines, named)
            ex.websocket = ex.websocket and b"upgrade" in _tokens(ex.connection)
        else:
            ex.websocket = False
        if ex.websocket:
            ex.lines += (b"Connection: Upgrade\r\n", ex.upgrade)
        hops = config.trusted_hops
        if hops > 0:
            chain = [a.strip() for v in ex.xff or () for a in v.split(b",")]
            chain = [a for a in chain if a] + [self.peer]
            ex.xff = b", ".join(chain[-(hops + 1):])
            ex.proto = (ex.proto or b"").split(b",")[-1].strip() or b"http"
        else:
            ex.xff, ex.proto = self.peer, b"http"
        if ex.length is not None:
            ex.length = int(ex.length)
        slug, path = split_target(ex.host.decode("latin-1"), self.url.decode("latin-1"), config.domains)
        ex.slug, ex.path = slug, path.encode("latin-1")
        self.queue.append(ex)
        has_body = ex.chunked or bool(ex.length)
        if not slug:
            self._local(ex, 404, "no_route", "Use http://{slug}.localhost:PORT/ or /d/{slug}/", close=has_body)
        elif ex.length is not None and ex.length > config.max_body_bytes:
            self._local(ex, 413, "body_too_large", f"The request body is over {config.max_body_bytes} bytes",
                        close=True)
        else:
            if has_body:
                if ex.expect:
                    self.transport.write(CONTINUE)
                ex.body_open = True
                ex.last_body = proxy.clock
            if len(self.queue) == 1:
                self._start(ex)

    def on_body(self, body: bytes) -> None:
        ex = self.current
        if ex.rejected:
            return
        ex.read += len(body)
        if ex.read > self.config.max_body_bytes:
            self._reject(ex, 413, "body_too_large", f"The request body is over {self.config.max_body_bytes} bytes")
            return
        ex.last_body = self.proxy.clock
        if ex.chunked:
            body = b"%x\r\n%s\r\n" % (len(body), body)
        if ex.pending is None:
            if ex.upstream is not None:
                ex.upstream.transport.write(body)
        else:
            ex.pending.append(body)
            ex.pending_size += len(body)
            if ex.pending_size > BUFFER_LIMIT:
                self.transport.pause_reading()

    def on_message_complete(self) -> None:
        ex = self.current
        self.current = None
        ex.req_done = True
        ex.body_open = False
        if ex.rejected:
            if ex.resp_done:
                self._finish(ex)
            return
        if ex.chunked:
            if ex.pending is None:
                if ex.upstream is not None:
                    ex.upstream.transport.write(LAST_CHUNK)
            else:
                ex.pending.append(LAST_CHUNK)
        if len(self.queue) > 1:
            self.transport.pause_reading()  # a pipelining client: one request ahead is enough
        if ex.resp_done:
            self._finish(ex)

    # -- sending a request

    def _start(self, ex: Exchange) -> None:
        """`ex` is first in line: answer it, or send it to an upstream (at once when one is idle)."""
        if ex.resp_done:
            answer, ex.answer = ex.answer, None
            if answer:
                self.transport.write(answer)
            if ex.req_done:
                self._finish(ex)
            return
        route = self.proxy.routes.cached(ex.slug)
        if route is not None and route.known and route.upstream:
            up = self.proxy.acquire(route.upstream)
            if up is not None:
                self._send(ex, up)
                return
        ex.task = self.proxy.loop.create_task(self._connect(ex, route))

    async def _connect(self, ex: Exchange, route: Route | None) -> None:
        proxy = self.proxy
        try:
            if route is None:
                route = await proxy.route(ex.slug)
            for attempt in range(CONNECT_ATTEMPTS):
                if not route.known:
                    self._local(ex, 404, "no_such_deployment", f"No deployment is called {ex.slug!r}",
                                close=not ex.req_done)
                    return
                if not route.upstream:
                    self._local(ex, 503, "deployment_not_running",
                                f"Deployment {ex.slug!r} has no running server ({route.status})", close=not ex.req_done)
                    return
                up = proxy.acquire(route.upstream)
                if up is None:
                    try:
                        up = await proxy.connect(route.upstream)
                    except (OSError, TimeoutError):
                        if attempt:
                            await asyncio.sleep(0.05 * attempt)
                        route = await proxy.route(ex.slug, fresh=True)
                        continue
                if self.closing or ex.rejected:
                    up.release()
                    return
                self._send(ex, up)
                return
            self._local(ex, 502, "upstream_unreachable", f"The server of {ex.slug!r} does not accept connections",
                        close=not ex.req_done)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("route lookup for %r failed", ex.slug)
            self._local(ex, 503, "store_unavailable", "The route table cannot be read", close=not ex.req_done)
        finally:
            ex.task = None

    def _send(self, ex: Exchange, up: Upstream) -> None:
        head = [ex.method, b" ", ex.path, b" HTTP/1.1\r\n", *ex.lines, b"Host: ", up.address.encode(),
                b"\r\nX-Forwarded-For: ", ex.xff, b"\r\nX-Forwarded-Proto: ", ex.proto, b"\r\nX-Forwarded-Host: ",
                ex.host, b"\r\n"]
        if ex.length is not None:
            head.append(b"Content-Length: %d\r\n" % ex.length)
        elif ex.chunked:
            head.append(b"Transfer-Encoding: chunked\r\n")
        head.append(b"\r\n")
        pending, ex.pending = ex.pending, None
        if pending:
            head += pending
            if ex.pending_size > BUFFER_LIMIT:
                self.transport.resume_reading()
        ex.upstream = up
        up.start(self, ex, b"".join(head))

    # -- answers

    def _local(self, ex: Exchange, status: int, code: str, message: str, close: bool = False) -> None:
        """The router answers `ex` itself (the rest of its body, if any, is read and dropped)."""
        if self.closing:
            return
        ex.resp_started = ex.resp_done = True
        ex.rejected = ex.rejected or not ex.req_done
        if close:
            ex.close = True
        answer = error(status, code, message, close=ex.close, head=ex.method == b"HEAD")
        if ex is not self.queue[0]:
            ex.answer = answer  # after the responses before it
            return
        self.transport.write(answer)
        if ex.req_done:
            self._finish(ex)
        elif ex.close:
            # Read (and drop) what the client still sends for a while, so that it sees the answer.
            self.linger_deadline = self.proxy.clock + self.proxy.margin + self.config.body_timeout

    def _reject(self, ex: Exchange, status: int, code: str, message: str) -> None:
        """Stop reading `ex`'s body: answer with an error unless the response has started, and close."""
        self._drop(ex)
        if ex.resp_started:
            self._close(abort=True)
            return
        self._local(ex, status, code, message, close=True)

    def check(self, now: float) -> None:
        """The proxy's sweep: enforce the header, body and upstream timeouts."""
        if self.closing:
            return
        if self.header_deadline and now > self.header_deadline and not self.queue:
            self._close()  # no request (or only part of its head) in time; an idle kept-alive connection
            return
        if self.linger_deadline and now > self.linger_deadline:
            self._close()
            return
        config, margin = self.config, self.proxy.margin
        for ex in self.queue:
            if ex.body_open and not ex.rejected and now - ex.last_body > config.body_timeout + margin:
                self._reject(ex, 408, "request_timeout", f"The request body stalled for {config.body_timeout:g} s")
                self._close()  # a stalled client: no waiting for the rest of its body
                return
        up = self.queue[0].upstream if self.queue else None
        if up is not None and up.waiting() and now - up.last > config.upstream_timeout + margin:
            ex = self.queue[0]
            up.abort()
            self.upstream_failed(ex, 504, "upstream_timeout",
                                 f"The server of {ex.slug!r} did not answer in {config.upstream_timeout:g} s")

    def upstream_failed(self, ex: Exchange, status: int, code: str, message: str) -> None:
        ex.upstream = None
        if ex.resp_started or ex not in self.queue:
            self._close(abort=True)  # never a truncated body that looks complete
            return
        self._local(ex, status, code, message, close=True)
        self._close()

    def response_done(self, ex: Exchange) -> None:
        ex.resp_done = True
        if ex.req_done:
            self._finish(ex)

    def _finish(self, ex: Exchange) -> None:
        """Both the request and its response are whole."""
        queue = self.queue
        if queue and queue[0] is ex:
            queue.pop(0)
        up = ex.upstream
        if up is not None:
            ex.upstream = None
            if up.exchange is ex and up.complete and up.keep_alive and not up.closed:
                up.release()
            else:
                up.abort()
        if ex.close or self.closing:
            self._close()
            return
        if queue:
            self.transport.resume_reading()
            self._start(queue[0])
        else:
            self.header_deadline = self.proxy.clock + self.proxy.margin + self.config.header_timeout

    def join(self, up: Upstream) -> None:
        """The server accepted the WebSocket: relay bytes both ways until either side closes."""
        self.tunnel = up
        pending, self.upgrading = self.upgrading or [], None
        if self.queue:
            ex = self.queue.pop(0)
            ex.upstream = None
            ex.body_open = False
        data = b"".join(pending)
        if data:
            up.transport.write(data)

    def _drop(self, ex: Exchange) -> None:
        ex.body_open = False
        if ex.task is not None:
            ex.task.cancel()
            ex.task = None
        if ex.upstream is not None:
            ex.upstream.abort()
            ex.upstream = None

    def _close(self, abort: bool = False) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if abort:
            self.transport.abort()
        else:
            self.transport.close()

    def shutdown(self) -> None:
        """The router stops: close now when idle, else after the response in flight."""
        if not self.queue and self.current is None and self.tunnel is None:
            self._close()
        elif self.queue:
            self.queue[-1].close = True


class Proxy:
    def __init__(self, routes: RouteTable, config: ProxyConfig):
        self.routes, self.config = routes, config
        self.loop: asyncio.AbstractEventLoop | None = None
        self.pool: dict[str, list[Upstream]] = {}
        self.connections: set[ClientConnection] = set()
        self._lookups: dict[str, asyncio.Future] = {}
        # One sweep every `margin` seconds enforces every timeout (a timer per request cost more than
        # the rest of the request's work); `clock` is the loop's time at the last sweep.
        self.margin = min(1.0, config.header_timeout / 4, config.body_timeout / 4, config.upstream_timeout / 4)
        self.clock = 0.0
        self._sweeper: asyncio.TimerHandle | None = None

    async def open(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._sweep()

    def _sweep(self) -> None:
        self.clock = now = self.loop.time()
        self._sweeper = self.loop.call_at(now + self.margin, self._sweep)
        for connection in list(self.connections):
            connection.check(now)

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        for idle in self.pool.values():
            for up in idle:
                up.abort()
        self.pool.clear()

    def acquire(self, address: str) -> Upstream | None:
        """An idle connection to `address` from the pool, or None."""
        idle = self.pool.get(address)
        if not idle:
            return None
        oldest = self.loop.time() - POOL_IDLE_SECONDS
        while idle:
            up = idle.pop()
            if not up.closed and up.idle_since > oldest:
                return up
            up.abort()
        return None

    async def connect(self, address: str) -> Upstream:
        host, _, port = address.rpartition(":")
        async with asyncio.timeout(CONNECT_TIMEOUT):
            _, up = await self.loop.create_connection(lambda: Upstream(self, address), host, int(port))
        return up

    async def route(self, slug: str, fresh: bool = False) -> Route:
        """The route, from the cache without blocking, else read once for every request waiting on it."""
        if not fresh:
            hit = self.routes.cached(slug)
            if hit is not None:
                return hit
        pending = self._lookups.get(slug)
        if pending is None:
            pending = self.loop.run_in_executor(None, self.routes.get, slug, True)
            self._lookups[slug] = pending
            pending.add_done_callback(lambda _: self._lookups.pop(slug, None))
        return await asyncio.shield(pending)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop when it is installed (a faster loop for the same code), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class Router:
    """The router on the running event loop: `await start()` / `await stop()` inside a loop."""

    def __init__(self, routes: RouteTable, config: ProxyConfig, host: str = "127.0.0.1", port: int = 0,
                 shutdown_timeout: float = 5.0):
        self.proxy = Proxy(routes, config)
        self.config, self.host, self.port, self.shutdown_timeout = config, host, port, shutdown_timeout
        self.server: asyncio.AbstractServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        await self.proxy.open()
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: ClientConnection(self.proxy), self.host, self.port,
                                               backlog=1024, reuse_address=True)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            for connection in list(self.proxy.connections):
                connection.shutdown()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.shutdown_timeout
            while self.proxy.connections and loop.time() < deadline:
                await asyncio.sleep(0.05)
            for connection in list(self.proxy.connections):
                connection._close(abort=True)
            await asyncio.sleep(0)
        await self.proxy.close()


class RouterThread:
    """The router in a thread of its own with its own event loop (tests, benchmarks)."""

    def __init__(self, routes: RouteTable, config: ProxyConfig = ProxyConfig(), host: str = "127.0.0.1",
                 port: int = 0):
        self.router = Router(routes, config, host, port, shutdown_timeout=1.0)
        self._loop = new_event_loop()
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
