"""API Gateway's WebSocket management API (`@connections`), spoken over kept-alive connections.

boto3's `apigatewaymanagementapi` client costs a pool thread and about a millisecond of CPU per
message, so a batch to 500 connections spent most of its time in the client. Here each request is
SigV4-signed (`SigV4`, its key derived once a day) and written over at most `concurrency` persistent
HTTP/1.1 connections driven by one event loop (a daemon thread of this object's own): a batch is one
hand-off to that loop, not one per message. Each connection is an asyncio protocol (`_Link`) that
reads its answer's status straight from the bytes received and hands it to its request's callback:
an answer posts the next frame from there (`_Lane`), with no future or task per request. One
watchdog per loop, not a timer per request, aborts a request left unanswered for `timeout` seconds.
The endpoint is API Gateway in AWS and the local gateway locally.

It posts (PostToConnection) batches and single replies alike; DeleteConnection, rare, stays with
boto3's client, whose calls botocore's events see. A connection's messages go out one after another, in
order; different connections concurrently.
The answers are translated here: 410 is `GONE`; throttling, 5xx and a reused connection that the
peer had closed are retried (a fresh connection, a short backoff); anything else is an error.
"""
from __future__ import annotations

import asyncio
import datetime
import enum
import functools
import hashlib
import hmac
import re
import ssl
import threading
import time
from typing import Iterable
from urllib.parse import quote, urlsplit

from chalicelib.control_plane_log import logger

RETRIES = 2
TIMEOUT_S = 10.0
RETRYABLE = {429, 500, 502, 503, 504}
MAX_HEAD_BYTES = 64 * 1024  # an answer's head longer than this is not API Gateway's: drop the connection
_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
_CLOSE = re.compile(rb"\r\nconnection:[ \t]*close\b", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:", re.IGNORECASE)  # never sent by API Gateway here


class Outcome(str, enum.Enum):
    SENT = "sent"
    GONE = "gone"  # the connection no longer exists (410): forget it
    FAILED = "failed"  # logged; the message is lost for this connection (delivery is best effort)


class _Link(asyncio.Protocol):
    """One kept-alive HTTP/1.1 connection: one request at a time; its answer, parsed as it arrives,
    goes straight to the request's callback (no future, no task wake-up per request)."""

    def __init__(self):
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.on_answer = None  # callback(status, close, error) of the request in flight
        self.sent_at = 0.0
        self.lost = False
        self.timed_out = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.on_answer is None:
            self.transport.abort()  # bytes nobody asked for: the framing is lost
            return
        try:
            answer = _answer(self.buffer)
        except ValueError as e:
            self.transport.abort()
            self._answered(None, True, ConnectionError(f"unreadable answer: {e}"))
            return
        if answer is not None:
            status, close, used = answer
            del self.buffer[:used]
            self._answered(status, close, None)

    def connection_lost(self, exc) -> None:
        self.lost = True
        if self.on_answer is not None:
            self._answered(None, True, asyncio.TimeoutError() if self.timed_out else ConnectionError("closed by the peer"))

    def request(self, data: bytes, on_answer, now: float) -> None:
        self.on_answer, self.sent_at = on_answer, now
        self.transport.write(data)

    def _answered(self, status: int | None, close: bool, error: Exception | None) -> None:
        callback, self.on_answer = self.on_answer, None
        callback(self, status, close, error)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _answer(buffer: bytearray) -> tuple[int, bool, int] | None:
    """(status, close after it, bytes used) of the answer at the start of `buffer`; None while incomplete."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        if len(buffer) > MAX_HEAD_BYTES:
            raise ValueError("head too long")
        return None
    head = bytes(buffer[:end])
    if not head.startswith(b"HTTP/1.") or len(head) < 12 or not head[9:12].isdigit():
        raise ValueError("not an HTTP/1.x answer")
    length = _LENGTH.search(head)
    size = int(length.group(1)) if length else 0
    chunked = _CHUNKED.search(head) is not None
    if chunked:  # cannot frame it: take what came and close the connection after this answer
        return int(head[9:12]), True, len(buffer)
    if len(buffer) < end + 4 + size:
        return None
    return int(head[9:12]), _CLOSE.search(head) is not None, end + 4 + size


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
        self._idle: list[_Link] = []
        self._busy: set[_Link] = set()
        self._watchdog: asyncio.TimerHandle | None = None
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
        batch = _Batch(self, frames, asyncio.get_running_loop())
        return await batch.run(min(self.concurrency, len(frames)))

    def _link(self) -> _Link | None:
        """An idle kept-alive connection (None: open one)."""
        while self._idle:
            link = self._idle.pop()
            if not link.lost:
                return link
        return None

    def _done_with(self, link: _Link, close: bool) -> None:
        self._busy.discard(link)
        if close or link.lost or len(self._idle) >= self.concurrency:
            link.close()
        else:
            self._idle.append(link)

    async def _open(self) -> _Link:
        loop = asyncio.get_running_loop()
        context = ssl.create_default_context() if self.tls else None
        async with asyncio.timeout(self.timeout):
            _, link = await loop.create_connection(_Link, self.host, self.port, ssl=context)
        return link

    def _watch(self) -> None:
        """Keep one timer while requests are in flight; it aborts those unanswered after `timeout`."""
        if self._watchdog is None and self._busy:
            self._watchdog = asyncio.get_running_loop().call_later(min(1.0, self.timeout / 4), self._patrol)

    def _patrol(self) -> None:
        self._watchdog = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        for link in list(self._busy):
            if link.on_answer is not None and now - link.sent_at > self.timeout:
                link.timed_out = True
                link.transport.abort()  # connection_lost answers its request with a timeout
        if self._busy:
            self._watchdog = loop.call_later(min(1.0, self.timeout / 4), self._patrol)

    def request(self, method: str, connection_id: str, body: bytes) -> bytes:
        """The signed HTTP/1.1 request for one management call on `connection_id`."""
        path, canonical_path = _paths(self.base_path, connection_id)
        digest = self._digests.get(body)
        if digest is None:
            if len(self._digests) > 64:
                self._digests.clear()
            digest = self._digests[body] = hashlib.sha256(body).hexdigest()
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.netloc}\r\nX-Amz-Content-SHA256: {digest}\r\n"
        if self._signer is not False:
            signed = self._signer.headers(method, path, self.netloc, digest, canonical_path=canonical_path)
            head += "".join(f"{name}: {value}\r\n" for name, value in signed.items())
        return (head + f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body

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


class _Batch:
    """One `post_many`: up to `lanes` connections at a time, each connection's frames in order.

    A lane is driven by its link's answers: an answer posts the lane's next frame (or the next
    connection's first) from the link's own callback. Only opening a connection, and the backoff
    before a retry, leave that path."""

    def __init__(self, api: "ConnectionsApi", frames: dict[str, list[bytes]], loop: asyncio.AbstractEventLoop):
        self.api, self.loop = api, loop
        self.jobs = iter(frames.items())
        self.outcomes: dict[str, Outcome] = {}
        self.done = loop.create_future()
        self.lanes = 0

    async def run(self, lanes: int) -> dict[str, Outcome]:
        self.lanes = lanes
        for _ in range(lanes):
            _Lane(self).next_job()
        return await self.done

    def lane_finished(self) -> None:
        self.lanes -= 1
        if self.lanes == 0 and not self.done.done():
            self.done.set_result(self.outcomes)


class _Lane:
    """Posts one connection's frames after one another, then takes the batch's next connection."""

    def __init__(self, batch: _Batch):
        self.batch, self.api = batch, batch.api

    def next_job(self) -> None:
        job = next(self.batch.jobs, None)
        if job is None:
            self.batch.lane_finished()
            return
        self.connection_id, self.frames = job
        self.index = 0
        self.start_frame()

    def start_frame(self) -> None:
        if self.index >= len(self.frames):
            self.finish(Outcome.SENT)
            return
        self.attempt, self.delay = 0, 0.05
        self.send()

    def finish(self, outcome: Outcome) -> None:
        self.batch.outcomes[self.connection_id] = outcome
        self.next_job()

    def send(self) -> None:
        try:
            data = self.api.request("POST", self.connection_id, self.frames[self.index])
        except Exception as e:  # signing failed: nothing went out (from the loop: no recursion job to job)
            self.batch.loop.call_soon(self.failed, None, e)
            return
        link = self.api._link()
        if link is None:
            self.batch.loop.create_task(self.open_and_send(data))
            return
        self.put(link, data)

    async def open_and_send(self, data: bytes) -> None:
        try:
            link = await self.api._open()
        except (OSError, asyncio.TimeoutError) as e:
            self.failed(None, e)
            return
        self.put(link, data)

    def put(self, link: _Link, data: bytes) -> None:
        self.api._busy.add(link)
        self.api._watch()
        link.request(data, self.answered, self.batch.loop.time())

    def answered(self, link: _Link, status: int | None, close: bool, error: Exception | None) -> None:
        # A failed link is closed: a retry goes out on another (a reused one the peer had closed
        # while idle, as when a Lambda froze or keep-alive ran out, fails as a ConnectionError).
        self.api._done_with(link, close or error is not None)
        if status is not None and status < 300:
            self.index += 1
            self.start_frame()
        elif status == 410:
            self.finish(Outcome.GONE)
        elif status is not None and status not in RETRYABLE:
            logger.warning("websocket management call refused", extra={"status": status, "method": "POST"})
            self.finish(Outcome.FAILED)
        else:
            self.failed(status, error)

    def failed(self, status: int | None, error: Exception | None) -> None:
        """A transient failure (a retryable status, a connection error or timeout) is retried after a
        backoff, up to RETRIES times; any other error is not."""
        transient = error is None or isinstance(error, (OSError, asyncio.TimeoutError))
        if transient and self.attempt < RETRIES:
            self.attempt += 1
            self.batch.loop.call_later(self.delay, self.send)
            self.delay *= 4
            return
        logger.warning("websocket management call failed",
                       extra={"status": status, "method": "POST", "error": None if status else repr(error)})
        self.finish(Outcome.FAILED)


@functools.lru_cache(maxsize=16384)
def _paths(base_path: str, connection_id: str) -> tuple[str, str]:
    """(the request path, its SigV4 canonical form) for a connection: a batch's subscribers recur."""
    path = f"{base_path}/@connections/{quote(connection_id, safe='')}"
    return path, _canonical_path(path)


def _canonical_path(path: str) -> str:
    from botocore.utils import normalize_url_path

    return quote(normalize_url_path(path), safe="/~")


class SigV4:
    """SigV4 for one kind of request (no query string; Host, X-Amz-Content-SHA256, X-Amz-Date and a
    session token signed), with the signing key derived once per day. botocore's `SigV4Auth` does
    the same per request through its generic request model, about 0.3 ms each: most of a batch to
    500 connections. The unit test checks its signatures against botocore's."""

    def __init__(self, credentials, service: str, region: str):
        self.credentials, self.service, self.region = credentials, service, region
        self._key: tuple[str, bytes] | None = None  # (date, signing key)
        self._clock: tuple[int, str] | None = None  # (epoch second, its X-Amz-Date)

    def headers(self, method: str, path: str, host: str, payload_sha256: str,
                now: datetime.datetime | None = None, canonical_path: str | None = None) -> dict[str, str]:
        """X-Amz-Date, the session token if any, and Authorization for this request."""
        amz_date = now.strftime("%Y%m%dT%H%M%SZ") if now is not None else self._amz_date()
        day = amz_date[:8]
        token = self.credentials.token
        if token:
            names = "host;x-amz-content-sha256;x-amz-date;x-amz-security-token"
            values = (f"host:{host}\nx-amz-content-sha256:{payload_sha256}\nx-amz-date:{amz_date}\n"
                      f"x-amz-security-token:{token}\n")
        else:
            names = "host;x-amz-content-sha256;x-amz-date"
            values = f"host:{host}\nx-amz-content-sha256:{payload_sha256}\nx-amz-date:{amz_date}\n"
        canonical = (f"{method}\n{canonical_path or _canonical_path(path)}\n\n{values}\n{names}\n"
                     f"{payload_sha256}")
        scope = f"{day}/{self.region}/{self.service}/aws4_request"
        to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        signature = hmac.digest(self._signing_key(day), to_sign.encode(), "sha256").hex()
        out = {"X-Amz-Date": amz_date,
               "Authorization": f"AWS4-HMAC-SHA256 Credential={self.credentials.access_key}/{scope}, "
                                f"SignedHeaders={names}, Signature={signature}"}
        if token:
            out["X-Amz-Security-Token"] = token
        return out

    def _amz_date(self) -> str:
        second = int(time.time())
        if self._clock is None or self._clock[0] != second:
            stamp = datetime.datetime.fromtimestamp(second, datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            self._clock = (second, stamp)
        return self._clock[1]

    def _signing_key(self, day: str) -> bytes:
        if self._key is None or self._key[0] != day:
            key = f"AWS4{self.credentials.secret_key}".encode()
            for part in (day, self.region, self.service, "aws4_request"):
                key = hmac.digest(key, part.encode(), "sha256")
            self._key = (day, key)
        return self._key[1]
