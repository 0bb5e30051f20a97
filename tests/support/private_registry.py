"""A private npm registry for one package, on loopback, that checks the bearer token.

Why not verdaccio: the test needs only "a package behind a token", and verdaccio's token comes from
a login flow (htpasswd user, `npm adduser`) plus ~200 packages to install. This answers the two
requests npm makes (the packument, the tarball), refuses any other token with 401, and records
what it served, so a test knows the token was really checked.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

from tests.support.local_aws import free_port


def _tarball(name: str, version: str) -> bytes:
    files = {
        "package/package.json": json.dumps({"name": name, "version": version, "main": "index.js"}),
        "package/index.js": "module.exports = 'private greeting';\n",
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class PrivateRegistry:
    def __init__(self, token: str, package: str = "@acme/greeting", version: str = "1.0.0"):
        self.token, self.package, self.version = token, package, version
        self.tarball = _tarball(package, version)
        self.served: list[str] = []  # paths answered 200
        self.refused: list[str] = []  # paths answered 401
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: ThreadingHTTPServer | None = None

    def _packument(self) -> dict:
        integrity = "sha512-" + base64.b64encode(hashlib.sha512(self.tarball).digest()).decode()
        tarball_url = f"{self.url}/{self.package}/-/greeting-{self.version}.tgz"
        return {"name": self.package, "dist-tags": {"latest": self.version}, "versions": {self.version: {
            "name": self.package, "version": self.version, "main": "index.js",
            "dist": {"tarball": tarball_url, "integrity": integrity,
                     "shasum": hashlib.sha1(self.tarball).hexdigest()}}}}

    def start(self) -> "PrivateRegistry":
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                path = unquote(self.path.split("?", 1)[0])
                if self.headers.get("Authorization") != f"Bearer {registry.token}":
                    registry.refused.append(path)
                    return self._send(401, b'{"error":"unauthorized"}', "application/json")
                if path.rstrip("/") == f"/{registry.package}":
                    registry.served.append(path)
                    return self._send(200, json.dumps(registry._packument()).encode(), "application/json")
                if path.endswith(".tgz") and path.startswith(f"/{registry.package}/-/"):
                    registry.served.append(path)
                    return self._send(200, registry.tarball, "application/octet-stream")
                self._send(404, b'{"error":"not found"}', "application/json")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@contextmanager
def reachable_from_sandbox(port: int, user: str = "mastra-tenant"):
    """The sandbox refuses the tenant user's loopback connections (README, Security model); an
    operator whose registry runs on the same host allows its port. This does that for the test's
    registry: one ACCEPT rule for that port and user, ahead of the stack's REJECT, removed after."""
    import pwd

    tool = shutil.which("iptables")
    try:
        uid = pwd.getpwnam(user).pw_uid
    except KeyError:
        uid = None
    if os.geteuid() != 0 or not tool or uid is None:
        yield  # no sandbox here: nothing to open
        return
    rule = ["OUTPUT", "-o", "lo", "-p", "tcp", "--dport", str(port), "-m", "owner", "--uid-owner", str(uid),
            "-m", "comment", "--comment", f"mastra-admin-test-registry:{os.getpid()}", "-j", "ACCEPT"]
    subprocess.run([tool, "-w", "5", "-I", *rule[:1], "1", *rule[1:]], check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run([tool, "-w", "5", "-D", *rule], capture_output=True)
