"""The local stand-in for API Gateway in front of the Chalice app (`chalice.local`), answering as our
API Gateway is configured to (infra/chalice-merge.yaml's gateway responses).

Chalice's `LocalGateway` answers a path no route matches with 403 and, when the request carries an
Authorization header, a SigV4 message that echoes the whole header back: the caller's API key in
the body, and in any log that keeps bodies. Here such a path is a 404 `not_found` in our error
shape, echoing nothing. Methods `http.server` has no handler for go through Chalice like any other.
A GET of the web console's files (`local_stack/console_files.py`) is answered before Chalice.
"""
from __future__ import annotations

import functools
import json
import sys
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from chalice.local import ChaliceRequestHandler, LocalGateway, create_local_server

ROOT = Path(__file__).resolve().parents[1]
LISTEN_BACKLOG = 128


class _NoRoute(Exception):
    pass


class ApiGateway(LocalGateway):
    def _generate_lambda_event(self, method: str, path: str, headers: Any, body: bytes | None) -> Any:
        try:
            return super()._generate_lambda_event(method, path, headers, body)
        except ValueError as e:  # chalice's RouteMatcher: no route matches the path
            raise _NoRoute() from e

    def handle_request(self, method: str, path: str, headers: Any, body: bytes | None) -> Any:
        from chalicelib.api.responses import error_shape

        try:
            return super().handle_request(method, path, headers, body)
        except _NoRoute:
            return error_shape(404, "not_found", "No such path").to_dict()


class RequestHandler(ChaliceRequestHandler):
    def __init__(self, request: Any, client_address: Any, server: Any, app_object: Any, config: Any) -> None:
        # ChaliceRequestHandler's own __init__ makes a plain LocalGateway, then serves the request.
        self.local_gateway = ApiGateway(app_object, config)
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def do_GET(self) -> None:
        from local_stack import console_files

        found = console_files.find(self.path)
        if found is None:
            return self._generic_handle()
        body, headers = found
        self._send_http_response(200, headers, body)

    # http.server answers methods it has no do_X for (TRACE, QUERY, ...) with a 501 HTML page;
    # API Gateway answers them like any other unrouted method, so route them through Chalice.
    def __getattr__(self, name: str):
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)


def serve_api(host: str, port: int):
    """Chalice's local HTTP server for the app, behind `ApiGateway`."""
    from chalice.config import Config

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from app import app

    config = Config.create(
        chalice_stage="local", app_name="mastra-admin", project_dir=str(ROOT),
        config_from_disk=json.loads((ROOT / ".chalice" / "config.json").read_text()),
    )
    server = create_local_server(app, config, host, port)
    server.server.RequestHandlerClass = functools.partial(RequestHandler, app_object=server.app_object, config=config)
    # socketserver listens with a backlog of 5: 50 clients opening connections at once (a fan-out of
    # WebSocket clients minting tickets) overflow it, and each overflowed one waits a SYN retry (1 s).
    server.server.socket.listen(LISTEN_BACKLOG)
    return server
