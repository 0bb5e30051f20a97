"""API Gateway's WebSocket management API (`@connections`), spoken over kept-alive connections.

boto3's `apigatewaymanagementapi` client costs a pool thread and about a millisecond of CPU per
message, so a batch to 500 connections spent most of its time in the client. Here each request is
SigV4-signed (`SigV4`, its key derived once a day) and written over at most `concurrency` persistent HTTP/1.1
connections driven by one event loop (a daemon thread of this object's own): a batch is one hand-off
to that loop, not one per message. The endpoint is API Gateway in AWS and the local gateway locally.

It posts a batch (PostToConnection); single calls (a reply, DeleteConnection) stay with boto3's
client, whose calls botocore's events see. A connection's messages go out one after another, in
order; different connections concurrently.
The answers are translated here: 410 is `GONE`; throttling, 5xx and a reused connection that the
peer had closed are retried (a fresh connection, a short backoff); anything else is an error.
"""
from __future__ import annotations

import asyncio
import datetime
import enum
import hashlib
import hmac
import ssl
import threading
from typing import Iterable
from urllib.parse import quote, urlsplit

from chalicelib.control_plane_log import logger

RETRIES = 2
TIMEOUT_S = 10.0
RETRYABLE = {429, 500, 502, 503, 504}


class Outcome(str, enum.Enum):
    SENT = "sent"
    GONE = "gone"  # the connection no longer exists (410): forget it
    FAILED = "failed"  # logged; the message is lost for this connection (delivery is best effort)


class _Retry(Exception):
    """A transient failure: try again, on a fresh connection."""


class ConnectionsApi:
    def __init__(self, endpoint_url: str, region: str, concurrency: int = 32, timeout: float = TIMEOUT_S):
        parts = urlsplit(endpoint_url)
        self.tls = parts.scheme == "https"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if self.tls else 80)
        self.netloc = parts.netloc
        self.base_path = parts.path.rstrip("/")
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.region, self.concurrency, self.timeout = region, concurrency, timeout
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._session = None  # botocore's, built at first use: credentials resolved by its own chain
        self._signer = None
        self._digests: dict[bytes, str] = {}  # payload -> its SHA-256: a batch posts one payload many times

    # --- the caller's side (any thread) ----------------------------------------------------

    def post_many(self, frames: dict[str, list[bytes]]) -> dict[str, Outcome]:
        """Post each connection's frames in order; connections concurrently. One outcome each."""
        if not frames:
            return {}
        return self._run(self._post_many(frames))

    def post(self, connection_id: str, frames: Iterable[bytes]) -> Outcome:
        return self.post_many({connection_id: list(frames)})[connection_id]

    def _run(self, coro):
        self._signer = self._new_signer()  # credentials resolved once per call, which may be a batch
        return asyncio.run_coroutine_threadsafe(coro, self._event_loop()).result()

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, daemon=True, name="ws-connections-api").start()
                self._loop = loop
            return self._loop

    # --- the loop's side -------------------------------------------------------------------

    async def _post_many(self, frames: dict[str, list[bytes]]) -> dict[str, Outcome]:
        outcomes: dict[str, Outcome] = {}
        pending = iter(frames.items())

        async def worker() -> None:
            for connection_id, messages in pending:
                outcome = Outcome.SENT
                for data in messages:
                    outcome = await self._one(connection_id, "POST", data)
                    if outcome is not Outcome.SENT:
                        break
                outcomes[connection_id] = outcome

        await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(frames)))))
        return outcomes

    async def _one(self, connection_id: str, method: str, body: bytes) -> Outcome:
        path = f"{self.base_path}/@connections/{quote(connection_id, safe='')}"
        delay = 0.05
        for attempt in range(RETRIES + 1):
            try:
                async with asyncio.timeout(self.timeout):  # not wait_for: no task per message
                    status = await self._exchange(method, path, body)
            except (_Retry, OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
                status = None
                error = e
            if status is not None and status < 300:
                return Outcome.SENT
            if status == 410:
                return Outcome.GONE
            if status is not None and status not in RETRYABLE:
                logger.warning("websocket management call refused", extra={"status": status, "method": method})
                return Outcome.FAILED
            if attempt < RETRIES:
                await asyncio.sleep(delay)
                delay *= 4
        logger.warning("websocket management call failed",
                       extra={"status": status, "method": method, "error": None if status else repr(error)})
        return Outcome.FAILED

    async def _exchange(self, method: str, path: str, body: bytes) -> int:
        """One request and its answer's status on a kept-alive connection (opened if none is idle)."""
        reused = bool(self._idle)
        reader, writer = self._idle.pop() if reused else await self._open()
        try:
            writer.write(self._request(method, path, body))
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError) as e:
                if reused:  # the peer closed it while idle (Lambda froze, keep-alive ran out)
                    raise _Retry() from e
                raise
            status, length, close = _parse_head(head)
            if length:
                await reader.readexactly(length)
        except BaseException:
            writer.close()
            raise
        if close or len(self._idle) >= self.concurrency:
            writer.close()
        else:
            self._idle.append((reader, writer))
        return status

    async def _open(self):
        context = ssl.create_default_context() if self.tls else None
        return await asyncio.open_connection(self.host, self.port, ssl=context, limit=256 * 1024)

    def _request(self, method: str, path: str, body: bytes) -> bytes:
        headers = self._signed_headers(method, path, body)
        lines = [f"{method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + f"\r\nContent-Length: {len(body)}\r\n\r\n").encode("latin-1") + body

    def _signed_headers(self, method: str, path: str, body: bytes) -> dict[str, str]:
        digest = self._digests.get(body)
        if digest is None:
            if len(self._digests) > 64:
                self._digests.clear()
            digest = self._digests[body] = hashlib.sha256(body).hexdigest()
        headers = {"Host": self.netloc, "X-Amz-Content-SHA256": digest}
        if self._signer is not False:
            headers.update(self._signer.headers(method, path, self.netloc, digest))
        return headers

    def _new_signer(self) -> "SigV4 | bool":
        """A SigV4 signer over the current credentials (False: none, send unsigned)."""
        if self._session is None:
            import botocore.session

            # A session of its own: another caller's credentials must never leak into this one.
            self._session = botocore.session.Session()
        credentials = self._session.get_credentials()
        if credentials is None:
            return False
        return SigV4(credentials.get_frozen_credentials(), "execute-api", self.region)


class SigV4:
    """SigV4 for one kind of request (no query string; Host, X-Amz-Content-SHA256, X-Amz-Date and a
    session token signed), with the signing key derived once per day. botocore's `SigV4Auth` does
    the same per request through its generic request model, about 0.3 ms each: most of a batch to
    500 connections. The unit test checks its signatures against botocore's."""

    def __init__(self, credentials, service: str, region: str):
        from botocore.utils import normalize_url_path

        self.credentials, self.service, self.region = credentials, service, region
        self._canonical_path = lambda path: quote(normalize_url_path(path), safe="/~")
        self._key: tuple[str, bytes] | None = None  # (date, signing key)

    def headers(self, method: str, path: str, host: str, payload_sha256: str,
                now: datetime.datetime | None = None) -> dict[str, str]:
        """X-Amz-Date, the session token if any, and Authorization for this request."""
        now = now or datetime.datetime.now(datetime.timezone.utc)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        day = amz_date[:8]
        token = self.credentials.token
        signed = {"host": host, "x-amz-content-sha256": payload_sha256, "x-amz-date": amz_date}
        if token:
            signed["x-amz-security-token"] = token
        names = ";".join(sorted(signed))
        canonical = "\n".join([
            method, self._canonical_path(path), "",
            "".join(f"{name}:{signed[name]}\n" for name in sorted(signed)), names, payload_sha256])
        scope = f"{day}/{self.region}/{self.service}/aws4_request"
        to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        signature = hmac.new(self._signing_key(day), to_sign.encode(), hashlib.sha256).hexdigest()
        out = {"X-Amz-Date": amz_date,
               "Authorization": f"AWS4-HMAC-SHA256 Credential={self.credentials.access_key}/{scope}, "
                                f"SignedHeaders={names}, Signature={signature}"}
        if token:
            out["X-Amz-Security-Token"] = token
        return out

    def _signing_key(self, day: str) -> bytes:
        if self._key is None or self._key[0] != day:
            key = f"AWS4{self.credentials.secret_key}".encode()
            for part in (day, self.region, self.service, "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._key = (day, key)
        return self._key[1]


def _parse_head(head: bytes) -> tuple[int, int, bool]:
    """(status, Content-Length, whether the server closes the connection) of a response head."""
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, close = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection":
            close = value.strip().lower() == "close"
        elif name == "transfer-encoding":
            close = True  # not sent by API Gateway here; do not reuse a connection we cannot frame
    return status, length, close
