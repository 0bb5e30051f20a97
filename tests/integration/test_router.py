"""The router as a proxy, over real sockets: a Node server behind it, clients that misbehave in front.

Each test starts the router (its own thread and event loop, fixed routes, short timeouts) and stops
it; the Node upstream is one `node -e` process for the module.
"""
from __future__ import annotations

import http.server
import json
import socket
import subprocess
import threading
import time

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect
from websockets.sync.server import serve as ws_serve

from chalicelib.router.proxy import ProxyConfig, RouterThread
from chalicelib.router.routes import Route, RouteTable, static_lookup
from tests.support.node_upstream import start_node_upstream

CONFIG = ProxyConfig(max_body_bytes=1024 * 1024, header_timeout=1.0, body_timeout=1.0, upstream_timeout=1.5)


@pytest.fixture(scope="module")
def node():
    upstream = start_node_upstream()
    yield upstream
    upstream.stop()


@pytest.fixture
def router(node):
    r = RouterThread(RouteTable(60, static_lookup({"app": node.address})), CONFIG).start()
    yield r
    r.stop()


def raw_request(router, data: bytes, timeout: float = 5) -> bytes:
    """Send bytes as they are (header case included) and read until the router closes or answers."""
    with socket.create_connection(("127.0.0.1", router.router.port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        return out


def echo_of(raw: bytes) -> dict:
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), raw[:300]
    if b"transfer-encoding: chunked" in head.lower():
        out, rest = b"", body
        while True:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size, 16)
            if n == 0:
                break
            out, rest = out + rest[:n], rest[n + 2:]
        body = out
    return json.loads(body)


def header_values(echo: dict, name: str) -> list[str]:
    raw = echo["rawHeaders"]
    return [raw[i + 1] for i in range(0, len(raw), 2) if raw[i].lower() == name]


def test_a_post_with_a_lowercase_content_length_reaches_node_with_one_content_length(router):
    raw = raw_request(router, b"POST /d/app/echo HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
                              b"content-length: 12\r\nconnection: close\r\n\r\n{\"a\": \"b c\"}")
    echo = echo_of(raw)
    assert raw.partition(b"\r\n\r\n")[0].lower().count(b"\r\ncontent-length:") == 1, "one length back too"
    assert b"\r\nserver: mastra-admin-router\r\n" in raw.partition(b"\r\n\r\n")[0].lower()
    assert echo["method"] == "POST" and echo["body"] == '{"a": "b c"}'
    assert header_values(echo, "content-length") == ["12"]
    assert header_values(echo, "transfer-encoding") == []


def test_a_post_from_nodes_fetch_answers_200(router):
    script = (f"fetch('{router.url}/d/app/echo', {{method: 'POST', headers: {{'content-type': 'application/json'}}, "
              "body: JSON.stringify({hello: 'world'})}).then(async r => console.log(r.status, await r.text()))")
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30)
    status, _, body = out.stdout.partition(" ")
    assert status == "200", out.stdout + out.stderr
    assert json.loads(body)["body"] == '{"hello":"world"}'


def test_a_chunked_body_is_streamed_chunked(router):
    raw = raw_request(router, b"POST /d/app/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                              b"Connection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    echo = echo_of(raw)
    assert echo["body"] == "hello world"
    assert header_values(echo, "transfer-encoding") == ["chunked"] and header_values(echo, "content-length") == []


def test_forwarded_headers_are_the_routers_own_and_hop_by_hop_headers_stop_at_the_router(router, node):
    raw = raw_request(router, b"GET /d/app/echo?q=1 HTTP/1.1\r\nHost: public.example:3100\r\n"
                              b"x-forwarded-for: 6.6.6.6\r\nx-forwarded-proto: https\r\nX-Forwarded-Host: evil\r\n"
                              b"Forwarded: for=6.6.6.6\r\nConnection: close, x-private\r\nx-private: 1\r\n"
                              b"Keep-Alive: timeout=5\r\nTE: trailers\r\nAuthorization: Bearer t\r\n\r\n")
    echo = echo_of(raw)
    assert echo["url"] == "/echo?q=1"
    assert header_values(echo, "x-forwarded-for") == ["127.0.0.1"]
    assert header_values(echo, "x-forwarded-proto") == ["http"]
    assert header_values(echo, "x-forwarded-host") == ["public.example:3100"]
    assert header_values(echo, "host") == [node.address]
    for dropped in ("forwarded", "x-private", "keep-alive", "te"):
        assert header_values(echo, dropped) == [], dropped
    assert header_values(echo, "authorization") == ["Bearer t"]


def test_behind_a_trusted_proxy_the_client_address_is_the_proxys_last_entry(node):
    config = ProxyConfig(trusted_hops=1)
    r = RouterThread(RouteTable(60, static_lookup({"app": node.address})), config).start()
    try:
        raw = raw_request(r, b"GET /d/app/echo HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6, 203.0.113.9\r\n"
                             b"X-Forwarded-Proto: https\r\nConnection: close\r\n\r\n")
        echo = echo_of(raw)
        assert header_values(echo, "x-forwarded-for") == ["203.0.113.9, 127.0.0.1"]
        assert header_values(echo, "x-forwarded-proto") == ["https"]
    finally:
        r.stop()


def test_a_body_over_the_cap_is_refused_with_413(router):
    too_big = CONFIG.max_body_bytes + 1
    r = requests.post(f"{router.url}/d/app/echo", data=b"x" * too_big, timeout=10)
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"

    def chunks():
        for _ in range(too_big // 65536 + 2):
            yield b"y" * 65536

    r = requests.post(f"{router.url}/d/app/echo", data=chunks(), timeout=10)  # chunked: no length announced
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"
    assert requests.post(f"{router.url}/d/app/echo", data=b"z" * 1000, timeout=10).json()["body"] == "z" * 1000


def test_a_slow_loris_client_is_cut_off_after_the_header_timeout(router):
    with socket.create_connection(("127.0.0.1", router.router.port), timeout=10) as s:
        s.sendall(b"GET /d/app/echo HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        closed_after = None
        for _ in range(40):  # one header byte every 0.1 s: never a complete request
            try:
                s.sendall(b"X")
                s.settimeout(0.1)
                if s.recv(1024) == b"":
                    closed_after = time.monotonic() - started
                    break
            except socket.timeout:
                continue
            except OSError:
                closed_after = time.monotonic() - started
                break
        assert closed_after is not None, "the router kept a never-ending request open"
        assert closed_after < CONFIG.header_timeout + 1.0


def test_a_stalled_body_gets_408(router):
    with socket.create_connection(("127.0.0.1", router.router.port), timeout=10) as s:
        s.sendall(b"POST /d/app/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")
        started = time.monotonic()
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        assert out.startswith(b"HTTP/1.1 408"), out
        assert b'"request_timeout"' in out
        assert time.monotonic() - started < CONFIG.body_timeout + 1.0


def test_an_upstream_that_does_not_answer_in_time_is_a_504(router):
    r = requests.get(f"{router.url}/d/app/slow", timeout=10)
    assert r.status_code == 504 and r.json()["error"]["code"] == "upstream_timeout"


def test_a_streamed_response_arrives_in_pieces_as_the_server_sends_them(router):
    started = time.monotonic()
    with requests.get(f"{router.url}/d/app/stream", stream=True, timeout=5) as r:
        assert r.status_code == 200 and r.headers["content-type"] == "text/event-stream"
        lines = r.iter_lines(chunk_size=1)
        assert next(lines) == b"data: 0 /stream" and time.monotonic() - started < 0.35, "not buffered"
        assert [line for line in lines if line] == [b"data: 1 /stream", b"data: 2 /stream"]


def test_head_sends_no_body_and_the_connection_stays_usable(router):
    with requests.Session() as session:
        r = session.head(f"{router.url}/d/app/anything", timeout=5)
        assert r.status_code == 200 and r.headers["content-type"] == "application/json" and r.content == b""
        assert session.get(f"{router.url}/d/app/anything", timeout=5).json() == {"ok": True}


def test_pipelined_requests_are_answered_in_order_on_one_connection(router):
    raw = raw_request(router, b"GET /d/app/echo?n=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                              b"POST /d/app/echo?n=2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                              b"GET /d/nope/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    first, _, rest = raw.partition(b"HTTP/1.1 200")[2].partition(b"HTTP/1.1 200")
    assert b'"url":"/echo?n=1"' in first and b'"url":"/echo?n=2"' in rest and b'"body":"abc"' in rest
    assert rest.partition(b"HTTP/1.1 404")[2].count(b"no_such_deployment") == 1


def test_an_upgrade_other_than_websocket_is_answered_as_a_plain_request(router):
    raw = raw_request(router, b"GET /d/app/echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
    echo = echo_of(raw)
    assert header_values(echo, "upgrade") == [] and header_values(echo, "connection") in ([], ["keep-alive"])


@pytest.fixture
def ws_echo():
    """A WebSocket echo server (the `websockets` library); it also echoes the path it was asked for."""
    def echo(connection):
        connection.send(f"path {connection.request.path} protocol {connection.subprotocol}")
        for message in connection:
            if message == "close please":
                connection.close(4001, "asked to")
                return
            connection.send(message)

    server = ws_serve(echo, "127.0.0.1", 0, subprotocols=["chat.v1"])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.socket.getsockname()[1]}"
    server.shutdown()
    thread.join(5)


def test_a_websocket_is_relayed_to_the_servers_websocket(ws_echo):
    r = RouterThread(RouteTable(60, static_lookup({"ws": ws_echo})), CONFIG).start()
    try:
        url = f"ws://127.0.0.1:{r.router.port}/d/ws/live?x=1"
        with ws_connect(url, subprotocols=["chat.v1"], open_timeout=5) as ws:
            assert ws.subprotocol == "chat.v1"
            assert ws.recv(timeout=5) == "path /live?x=1 protocol chat.v1"
            ws.send("hello")
            assert ws.recv(timeout=5) == "hello"
            ws.send(b"\x00\x01binary")
            assert ws.recv(timeout=5) == b"\x00\x01binary"
            ws.send("close please")
            with pytest.raises(Exception):
                ws.recv(timeout=5)
            assert ws.close_code == 4001 and ws.close_reason == "asked to"
        with pytest.raises(InvalidStatus) as refused:
            ws_connect(url.replace("/d/ws/", "/d/nope/"), open_timeout=5)
        assert refused.value.response.status_code == 404
    finally:
        r.stop()


class Streaming(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for i in range(3):
            data = f"data: {i} {self.path}\n\n".encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
            time.sleep(0.2)
        self.wfile.write(b"0\r\n\r\n")


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_responses_stream_and_a_refused_upstream_is_retried_on_a_fresh_route():
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Streaming)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    live = f"127.0.0.1:{upstream.server_address[1]}"
    lookups = []

    def lookup(slug):
        lookups.append(slug)
        if slug == "gone":
            return Route(False, None, None)
        if slug == "stopped":
            return Route(True, None, "stopped")
        # The first read (cached) points at a server that is gone; the fresh read at the live one.
        return Route(True, f"127.0.0.1:{_dead_port()}" if len(lookups) == 1 else live, "running")

    router = RouterThread(RouteTable(60, lookup)).start()
    base = router.url
    try:
        started = time.monotonic()
        with requests.get(f"{base}/d/app/events", stream=True, timeout=5) as r:
            assert r.status_code == 200
            lines = r.iter_lines(chunk_size=1)
            assert next(lines) == b"data: 0 /events" and time.monotonic() - started < 0.35, "not buffered"
            assert [line for line in lines if line] == [b"data: 1 /events", b"data: 2 /events"]
        r = requests.get(f"{base}/d/gone/", timeout=5)
        assert r.status_code == 404 and r.json()["error"]["code"] == "no_such_deployment"
        r = requests.get(f"{base}/d/stopped/", timeout=5)
        assert r.status_code == 503 and r.json()["error"]["code"] == "deployment_not_running"
        assert requests.get(f"{base}/", timeout=5).json()["error"]["code"] == "no_route"
        r = requests.get(base + "/x", headers={"Host": "app.localhost:3100"}, timeout=5)
        assert r.status_code == 200 and r.text.startswith("data: 0 /x")
    finally:
        router.stop()
        upstream.shutdown()
        upstream.server_close()
