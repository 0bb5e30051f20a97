"""The local router on loopback: responses stream, and a refused upstream is retried on a fresh route."""
from __future__ import annotations

import http.server
import threading
import time

import requests

from local_stack.router import Route, RouteTable, make_server
from tests.support.local_aws import free_port


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


def _serve(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_responses_stream_and_a_refused_upstream_is_retried_on_a_fresh_route():
    upstream = _serve(http.server.ThreadingHTTPServer(("127.0.0.1", 0), Streaming))
    live = f"127.0.0.1:{upstream.server_address[1]}"
    lookups = []

    def lookup(slug):
        lookups.append(slug)
        if slug == "gone":
            return Route(False, None, None)
        if slug == "stopped":
            return Route(True, None, "stopped")
        # The first read (cached) points at a server that is gone; the fresh read at the live one.
        return Route(True, f"127.0.0.1:{free_port()}" if len(lookups) == 1 else live, "running")

    router = _serve(make_server("127.0.0.1", 0, RouteTable(60, lookup)))
    base = f"http://127.0.0.1:{router.server_address[1]}"
    try:
        started = time.monotonic()
        with requests.get(f"{base}/d/app/events", stream=True, timeout=5) as r:
            assert r.status_code == 200
            lines = r.iter_lines(chunk_size=1)
            assert next(lines) == b"data: 0 /events" and time.monotonic() - started < 0.35, "not buffered"
            assert [line for line in lines if line] == [b"data: 1 /events", b"data: 2 /events"]
        assert requests.get(f"{base}/d/gone/", timeout=5).status_code == 404
        r = requests.get(f"{base}/d/stopped/", timeout=5)
        assert r.status_code == 503 and r.json()["error"]["code"] == "deployment_not_running"
        assert requests.get(f"{base}/", timeout=5).json()["error"]["code"] == "no_route"
    finally:
        router.shutdown()
        upstream.shutdown()
