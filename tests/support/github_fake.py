"""A local fake of the two GitHub API calls builds make: resolve a ref, download a tarball."""
from __future__ import annotations

import hashlib
import io
import json
import tarfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class FakeGitHub:
    token: str
    repos: dict[str, dict[str, bytes]] = field(default_factory=dict)  # repo -> sha -> tarball
    refs: dict[str, dict[str, str]] = field(default_factory=dict)  # repo -> ref -> sha
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, authorization)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def publish(self, repo: str, ref: str, directory: Path) -> str:
        """Serve `directory` as `repo` at a new commit that `ref` points to; returns the sha."""
        buf = io.BytesIO()
        sha = hashlib.sha1(f"{repo}{ref}{len(self.repos.get(repo, {}))}".encode()).hexdigest()
        top = f"{repo.replace('/', '-')}-{sha[:7]}"
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            tar.add(directory, arcname=top)
        self.repos.setdefault(repo, {})[sha] = buf.getvalue()
        self.refs.setdefault(repo, {})[ref] = sha
        self.refs[repo][sha] = sha
        return sha

    def start(self) -> "FakeGitHub":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                auth = self.headers.get("Authorization")
                fake.requests.append((self.path, auth))
                if auth != f"Bearer {fake.token}":
                    return self._send(401, b'{"message":"Bad credentials"}')
                parts = self.path.strip("/").split("/")
                if len(parts) != 5 or parts[0] != "repos":
                    return self._send(404, b'{"message":"Not Found"}')
                repo, what, ref = f"{parts[1]}/{parts[2]}", parts[3], parts[4]
                sha = fake.refs.get(repo, {}).get(ref)
                if sha is None:
                    return self._send(404, b'{"message":"Not Found"}')
                if what == "commits":
                    return self._send(200, json.dumps({"sha": sha}).encode())
                if what == "tarball":
                    return self._send(200, fake.repos[repo][sha], "application/x-gzip")
                return self._send(404, b'{"message":"Not Found"}')

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
