"""A local fake of the GitHub API: what builds read (a ref, a tarball) and what the GitHub App does
(installation token exchange, commit statuses, pull request comments). It records what it was sent
and can answer 500 to status writes a number of times (GitHub being down)."""
from __future__ import annotations

import hashlib
import io
import itertools
import json
import secrets
import tarfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def rsa_key_pem() -> tuple[str, str]:
    """(private PEM, public PEM) of a fresh App key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@dataclass
class FakeGitHub:
    token: str = ""  # a personal token accepted for reads
    repos: dict[str, dict[str, bytes]] = field(default_factory=dict)  # repo -> sha -> tarball
    refs: dict[str, dict[str, str]] = field(default_factory=dict)  # repo -> ref -> sha
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, authorization)
    server: ThreadingHTTPServer | None = None
    # The App: its id and public key, installation id -> repositories, tokens it issued.
    app_id: str = ""
    app_public_key: str = ""
    installations: dict[int, set[str]] = field(default_factory=dict)
    issued: dict[str, int] = field(default_factory=dict)  # installation token -> installation id
    statuses: list[dict] = field(default_factory=list)  # every status written: repo, sha, body
    comments: dict[int, dict] = field(default_factory=dict)  # id -> {repo, number, body, edits}
    writes: list[tuple[str, str, dict]] = field(default_factory=list)  # (method, path, body) of every write
    fail_statuses: int = 0  # answer 500 to this many status writes first
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1000))
    _lock: threading.Lock = field(default_factory=threading.Lock)

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

    def install(self, installation_id: int, *repositories: str) -> None:
        self.installations.setdefault(installation_id, set()).update(repositories)

    def statuses_for(self, sha: str) -> list[dict]:
        return [s["body"] for s in self.statuses if s["sha"] == sha]

    def comments_on(self, repo: str, number: int) -> list[dict]:
        return [c for c in self.comments.values() if c["repo"] == repo and c["number"] == number]

    # --- authorization ---------------------------------------------------------------------------

    def _app_jwt_ok(self, auth: str | None) -> bool:
        import jwt

        if not auth or not auth.startswith("Bearer ") or not self.app_public_key:
            return False
        try:
            claims = jwt.decode(auth[7:], self.app_public_key, algorithms=["RS256"])
        except jwt.PyJWTError:
            return False
        return str(claims.get("iss")) == self.app_id and claims["exp"] - claims["iat"] <= 660

    def _installation_of(self, auth: str | None) -> int | None:
        if not auth or not auth.startswith("Bearer "):
            return None
        return self.issued.get(auth[7:])

    def _may_read(self, auth: str | None, repo: str) -> bool:
        if self.token and auth == f"Bearer {self.token}":
            return True
        installation = self._installation_of(auth)
        return installation is not None and repo in self.installations.get(installation, set())

    # --- server ------------------------------------------------------------------------------------

    def start(self) -> "FakeGitHub":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, body: bytes | dict, ctype: str = "application/json") -> None:
                if isinstance(body, dict):
                    body = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"{}") if length else {}

            def do_GET(self):
                auth = self.headers.get("Authorization")
                fake.requests.append((self.path, auth))
                parts = self.path.strip("/").split("/")
                if len(parts) == 4 and parts[0] == "repos" and parts[3] == "installation":
                    if not fake._app_jwt_ok(auth):
                        return self._send(401, {"message": "A JSON web token could not be decoded"})
                    repo = f"{parts[1]}/{parts[2]}"
                    for installation, repos in fake.installations.items():
                        if repo in repos:
                            return self._send(200, {"id": installation})
                    return self._send(404, {"message": "Not Found"})
                if len(parts) != 5 or parts[0] != "repos":
                    return self._send(404, {"message": "Not Found"})
                repo, what, ref = f"{parts[1]}/{parts[2]}", parts[3], parts[4]
                if not fake._may_read(auth, repo):
                    return self._send(401, {"message": "Bad credentials"})
                sha = fake.refs.get(repo, {}).get(ref)
                if sha is None:
                    return self._send(404, {"message": "Not Found"})
                if what == "commits":
                    return self._send(200, {"sha": sha})
                if what == "tarball":
                    return self._send(200, fake.repos[repo][sha], "application/x-gzip")
                return self._send(404, {"message": "Not Found"})

            def _write(self, method: str):
                auth = self.headers.get("Authorization")
                fake.requests.append((self.path, auth))
                body = self._body()
                parts = self.path.strip("/").split("/")
                if parts[:2] == ["app", "installations"] and len(parts) == 4 and method == "POST":
                    installation = int(parts[2])
                    if not fake._app_jwt_ok(auth):
                        return self._send(401, {"message": "A JSON web token could not be decoded"})
                    if installation not in fake.installations:
                        return self._send(404, {"message": "Not Found"})
                    token = "ghs_" + secrets.token_hex(16)
                    fake.issued[token] = installation
                    return self._send(201, {"token": token, "expires_at": "2099-01-01T00:00:00Z"})
                if len(parts) < 4 or parts[0] != "repos":
                    return self._send(404, {"message": "Not Found"})
                repo = f"{parts[1]}/{parts[2]}"
                if not fake._may_read(auth, repo) or fake._installation_of(auth) is None:
                    return self._send(403, {"message": "Resource not accessible by integration"})
                with fake._lock:
                    fake.writes.append((method, self.path, body))
                    if parts[3] == "statuses" and method == "POST":
                        if fake.fail_statuses > 0:
                            fake.fail_statuses -= 1
                            return self._send(500, {"message": "Server Error"})
                        fake.statuses.append({"repo": repo, "sha": parts[4], "body": body})
                        return self._send(201, {"id": next(fake._ids), **body})
                    if parts[3:5] == ["issues", "comments"] and len(parts) == 6:
                        comment = fake.comments.get(int(parts[5]))
                        if comment is None or comment["repo"] != repo:
                            return self._send(404, {"message": "Not Found"})
                        if method == "DELETE":
                            del fake.comments[int(parts[5])]
                            return self._send(204, b"")
                        comment["body"], comment["edits"] = body["body"], comment["edits"] + 1
                        return self._send(200, {"id": int(parts[5]), "body": body["body"]})
                    if parts[3] == "issues" and len(parts) == 6 and parts[5] == "comments" and method == "POST":
                        comment_id = next(fake._ids)
                        fake.comments[comment_id] = {"repo": repo, "number": int(parts[4]), "body": body["body"],
                                                     "edits": 0}
                        return self._send(201, {"id": comment_id, "body": body["body"]})
                return self._send(404, {"message": "Not Found"})

            def do_POST(self):
                self._write("POST")

            def do_PATCH(self):
                self._write("PATCH")

            def do_DELETE(self):
                self._write("DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
