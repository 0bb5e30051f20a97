"""The local moto's HTTP server: moto's werkzeug server, with HTTP/1.1 keep-alive.

werkzeug's development server answers every request with `Connection: close`, so each AWS call
paid a new TCP connection on both sides and a new server thread, and after each response the
thread waited for the client to hang up (werkzeug drains the socket until it reads EOF). Here a
connection serves request after request, as botocore's connection pools expect:
* the request body is read whole (Content-Length) before moto sees it, so the stream always
  stops at the next request line; chunked requests keep werkzeug's close-after-response;
* werkzeug's `Connection: close` is not sent when the body was read, and its drain then has
  nothing to wait for;
* headers and body go out in one write (a buffered socket file, flushed per response by
  http.server), with Nagle off, so a small response is one segment.
"""
from __future__ import annotations

import io
import selectors
import threading
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug import serving

_kept_alive = threading.local()  # the request on this thread had its body read whole: nothing to drain


class _Selectors:
    """`selectors` as werkzeug.serving sees it: its only use is the drain after each response."""

    EVENT_READ = selectors.EVENT_READ

    class _Nothing:
        def register(self, *_: Any) -> None:
            pass

        def select(self, timeout: float | None = None) -> list:
            return []

        def close(self) -> None:
            pass

    @classmethod
    def DefaultSelector(cls) -> Any:  # noqa: N802 (the name werkzeug calls)
        return cls._Nothing() if getattr(_kept_alive, "active", False) else selectors.DefaultSelector()


class KeepAliveHandler(MotoRequestHandler):
    wbufsize = 64 * 1024  # buffered: the status line, headers and a small body leave in one send
    disable_nagle_algorithm = True

    def handle_one_request(self) -> None:
        _kept_alive.active = False  # until this request's body is read (an unparsable one never is)
        super().handle_one_request()

    def make_environ(self) -> dict[str, Any]:
        self.wfile.flush()  # a `100 Continue` werkzeug just wrote must leave now, before the body comes
        environ = super().make_environ()
        _kept_alive.active = "wsgi.input_terminated" not in environ  # chunked: werkzeug's way
        if _kept_alive.active:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            environ["wsgi.input"] = io.BytesIO(self.rfile.read(length) if length > 0 else b"")
        return environ

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "connection" and value == "close" and getattr(_kept_alive, "active", False):
            return  # http.server keeps the connection unless the client asked to close it
        super().send_header(keyword, value)


class KeepAliveMotoServer:
    """ThreadedMotoServer's start / get_host_and_port / stop, serving with KeepAliveHandler."""

    def __init__(self, ip_address: str, port: int):
        serving.selectors = _Selectors  # type: ignore[assignment]  # only werkzeug.serving's drain
        self._server = serving.make_server(ip_address, port, DomainDispatcherApplication(create_backend_app),
                                           threaded=True, request_handler=KeepAliveHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-http", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def get_host_and_port(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), port

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()
