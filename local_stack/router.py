"""The local stand-in for the ALB: a streaming reverse proxy to the deployments' servers.

    http://{slug}.localhost:{MA_ROUTER_PORT}/path   and   http://127.0.0.1:{MA_ROUTER_PORT}/d/{slug}/path

Routes are read from DynamoDB (the deployment's `upstream`, switched by the deploy worker in one
conditional write) and cached for MA_ROUTE_CACHE_SECONDS; the deploy worker waits longer than that
before it stops an old server, so a switch never drops a request. A connection refused by a cached
upstream is retried once against a fresh read of the route (nothing was sent yet, so any method
may be retried). Responses are streamed as they arrive (server-sent events, streamed agent output).
"""
from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "proxy-connection"}
UPSTREAM_TIMEOUT = 300.0
CHUNK = 64 * 1024


class Route:
    __slots__ = ("known", "upstream", "status")

    def __init__(self, known: bool, upstream: str | None, status: str | None):
        self.known, self.upstream, self.status = known, upstream, status


def _dynamodb_lookup(slug: str) -> Route:
    from chalicelib.db.servers import deployment_for_slug

    deployment = deployment_for_slug(slug)
    if deployment is None:
        return Route(False, None, None)
    return Route(True, deployment.upstream, deployment.status)


class RouteTable:
    """slug -> Route, each entry fresh for `ttl` seconds."""

    def __init__(self, ttl: float, lookup: Callable[[str], Route] = _dynamodb_lookup):
        self.ttl = ttl
        self.lookup = lookup
        self._cache: dict[str, tuple[float, Route]] = {}
        self._lock = threading.Lock()

    def get(self, slug: str, fresh: bool = False) -> Route:
        now = time.monotonic()
        if not fresh:
            with self._lock:
                hit = self._cache.get(slug)
            if hit is not None and hit[0] > now:
                return hit[1]
        route = self.lookup(slug)
        with self._lock:
            self._cache[slug] = (now + self.ttl, route)
        return route


def split_target(host: str, path: str) -> tuple[str | None, str]:
    """(slug, path for the server) from the Host header or a /d/{slug}/ prefix."""
    name = host.rsplit(":", 1)[0].lower() if host else ""
    if name.endswith(".localhost") and name.count(".") == 1:
        return name[: -len(".localhost")], path or "/"
    if path.startswith("/d/"):
        rest = path[3:]
        slug, sep, tail = rest.partition("/")
        if "?" in slug:
            slug, _, query = slug.partition("?")
            return slug or None, "/?" + query
        return slug or None, "/" + tail if sep else "/"
    return None, path


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mastra-admin-router"
    routes: RouteTable  # set on the subclass made by make_server

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle + delayed ACK add 40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _error(self, status: int, code: str, message: str) -> None:
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _body(self) -> bytes | None:
        if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(parts)
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length > 0 else None

    def _proxy(self) -> None:
        slug, path = split_target(self.headers.get("host", ""), self.path)
        body = self._body()
        if not slug:
            return self._error(404, "no_route", "Use http://{slug}.localhost:PORT/ or /d/{slug}/")
        try:
            route = self.routes.get(slug)
        except Exception:
            return self._error(503, "store_unavailable", "The route table cannot be read")
        if not route.known:
            return self._error(404, "no_such_deployment", f"No deployment is called {slug!r}")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP and k.lower() != "host"}
        headers["Host"] = self.headers.get("host", "")
        headers["X-Forwarded-Host"] = self.headers.get("host", "")
        headers["X-Forwarded-Proto"] = "http"
        headers["X-Forwarded-For"] = self.client_address[0]
        if body is not None:
            headers["Content-Length"] = str(len(body))
        upstream = None
        for attempt in range(3):
            if not route.upstream:
                return self._error(503, "deployment_not_running",
                                   f"Deployment {slug!r} has no running server ({route.status})")
            host, _, port = route.upstream.rpartition(":")
            upstream = http.client.HTTPConnection(host, int(port), timeout=UPSTREAM_TIMEOUT)
            try:
                upstream.connect()
                upstream.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                break
            except OSError:
                upstream.close()
                upstream = None
                if attempt:
                    time.sleep(0.05 * attempt)
                route = self.routes.get(slug, fresh=True)
        if upstream is None:
            return self._error(502, "upstream_unreachable", f"The server of {slug!r} does not accept connections")
        try:
            upstream.request(self.command, path, body=body, headers=headers)
            response = upstream.getresponse()
        except OSError as e:
            upstream.close()
            return self._error(502, "upstream_failed", f"The server of {slug!r} failed: {type(e).__name__}")
        try:
            self._relay(response)
        finally:
            upstream.close()

    def _relay(self, response: http.client.HTTPResponse) -> None:
        self.send_response_only(response.status, response.reason)
        self.send_header("date", self.date_time_string())
        length = response.getheader("content-length")
        no_body = self.command == "HEAD" or response.status in (204, 304) or 100 <= response.status < 200
        for key, value in response.getheaders():
            if key.lower() not in HOP_BY_HOP and key.lower() not in ("content-length", "date"):
                self.send_header(key, value)
        chunked = not no_body and length is None
        if length is not None:
            self.send_header("content-length", length)
        elif chunked:
            self.send_header("transfer-encoding", "chunked")
        if self.close_connection:
            self.send_header("connection", "close")
        self.end_headers()
        if no_body:
            return
        try:
            while True:
                data = response.read1(CHUNK)
                if not data:
                    break
                if chunked:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                else:
                    self.wfile.write(data)
                self.wfile.flush()
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
        except (OSError, http.client.HTTPException):
            self.close_connection = True  # upstream broke mid-body: the client must not reuse this

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _proxy


class RouterServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128


def make_server(host: str, port: int, routes: RouteTable) -> RouterServer:
    handler = type("Handler", (ProxyHandler,), {"routes": routes})
    return RouterServer((host, port), handler)


def serve_in_thread(host: str, port: int, ttl: float) -> RouterServer:
    server = make_server(host, port, RouteTable(ttl))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True,
                     name="router").start()
    return server


def _free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False
