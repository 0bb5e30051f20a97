"""A build's log: timestamped, masked, stored in batches, published, and kept whole in S3 at the end.

Lines are stored (DynamoDB chunks keyed by offset) before they are published, so a client that
missed some can read them back from any offset, and a worker that dies loses at most the batch it
had not flushed yet.
"""
from __future__ import annotations

import tempfile
import threading
import time
from datetime import datetime, timezone

from chalicelib import aws, channels
from chalicelib.db import builds as store
from chalicelib.db.models import Build
from chalicelib.services.builds import steps
from chalicelib.secrets_mask import Masker  # noqa: F401 - imported from here by the build worker and codebuild_completion
from chalicelib.settings import get_settings

MAX_LINE_CHARS = 8000  # longer lines are split, never dropped
FLUSH_LINES = 100
FLUSH_BYTES = 64 * 1024
FLUSH_SECONDS = 0.5
SPOOL_BYTES = 8 << 20  # this attempt's lines in memory up to here, then in a temporary file


def log_key(build_id: str) -> str:
    return f"builds/{build_id}/build.log"


def timestamp(at: datetime | None = None) -> str:
    at = at or datetime.now(timezone.utc)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


class BuildLog:
    """Collects lines from any thread; flushes them in batches to the store and the build channel."""

    def __init__(self, build: Build, masker: Masker):
        self.build = build
        self.mask = masker
        self.channel = channels.build_channel(build.build_id)
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._pending_bytes = 0
        self._next_offset = self._first_offset = store.next_log_offset(build.build_id)
        # Every line this attempt stored, in order: the whole log goes to S3 without reading it back.
        self._written = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
        self._last_flush = time.monotonic()
        self._stop = threading.Event()
        self._flusher = threading.Thread(target=self._flush_periodically, daemon=True,
                                         name=f"build-log-flush-{build.build_id}")
        self._flusher.start()

    def line(self, text: str) -> None:
        text = self.mask(text.rstrip("\r\n"))
        parts = [text[i:i + MAX_LINE_CHARS] for i in range(0, len(text), MAX_LINE_CHARS)] or [""]
        stamp = timestamp()
        with self._lock:
            for part in parts:
                entry = f"{stamp} {part}"
                self._pending.append(entry)
                self._pending_bytes += len(entry)
            full = len(self._pending) >= FLUSH_LINES or self._pending_bytes >= FLUSH_BYTES
        if full:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            if not self._pending:
                return
            offset, lines = self._take()
            # Stored before published, under the lock so batches reach the channel in order.
            store.append_log(self.build.build_id, offset, lines)
            self._written_lines(lines)
            self.publish(offset, lines)

    def _take(self) -> tuple[int, list[str]]:
        lines, offset = self._pending, self._next_offset
        self._pending, self._pending_bytes = [], 0
        self._next_offset += len(lines)
        self._last_flush = time.monotonic()
        return offset, lines

    def _written_lines(self, lines: list[str]) -> None:
        if not self._written.closed:  # a phase's reader may still log after the whole log was stored
            self._written.write("".join(line + "\n" for line in lines).encode())

    def publish(self, offset: int, lines: list[str]) -> None:
        """Lines already stored reach the build's channel."""
        channels.publish(self.channel, {"type": "log", "offset": offset, "lines": lines})

    @property
    def line_count(self) -> int:
        with self._lock:
            return self._next_offset + len(self._pending)

    def _flush_periodically(self) -> None:
        started = time.time()
        try:
            self._flush_until_closed()
        finally:
            steps.thread_done(self.build.build_id, "log flushes (background)", started)

    def _flush_until_closed(self) -> None:
        while not self._stop.wait(FLUSH_SECONDS / 2):
            if time.monotonic() - self._last_flush >= FLUSH_SECONDS:
                try:
                    self.flush()
                except Exception:  # the next flush retries; the lines stay pending
                    pass

    def close(self) -> str:
        """Flush, stop, and write the whole log (every attempt) to S3. Returns its key."""
        self._stop_flusher()
        self.flush()
        return self._store_whole(b"")

    def close_keeping_last(self) -> tuple[str, int, list[str]]:
        """Stop, and write the whole log to S3, the lines not yet stored included: (its key, their
        offset, those lines). The caller stores them (with the build's result, in one transaction),
        then publishes them; until then they are only in S3."""
        self._stop_flusher()
        with self._lock:
            offset, lines = self._take()
        return self._store_whole("".join(line + "\n" for line in lines).encode()), offset, lines

    def _stop_flusher(self) -> None:
        self._stop.set()
        self._flusher.join(timeout=5)

    def _store_whole(self, tail: bytes) -> str:
        """Earlier attempts' lines (read back only if there were any), this attempt's, then `tail`."""
        earlier = "".join(line + "\n" for offset, line in store.read_log(self.build.build_id)
                          if offset < self._first_offset) if self._first_offset else ""
        with self._lock:
            self._written.seek(0)
            body = earlier.encode() + self._written.read() + tail
            self._written.close()
        return put_full_log(self.build, body)


def store_full_log(build: Build) -> str:
    """The whole stored log (every attempt's chunks) into S3; returns its key."""
    return put_full_log(build, "".join(line + "\n" for _, line in store.read_log(build.build_id)).encode())


def put_full_log(build: Build, body: bytes) -> str:
    key = log_key(build.build_id)
    aws.client("s3").put_object(
        Bucket=get_settings().bucket_name, Key=key, Body=body, ContentType="text/plain; charset=utf-8",
        Metadata={"team-id": build.team_id, "project-id": build.project_id,
                  "deployment-id": build.deployment_id, "build-id": build.build_id},
    )
    return key


def note(build: Build, text: str) -> None:
    """One line written outside a running attempt (the reaper's), stored and published at once."""
    offset = store.next_log_offset(build.build_id)
    lines = [f"{timestamp()} {text}"]
    store.append_log(build.build_id, offset, lines)
    channels.publish(channels.build_channel(build.build_id), {"type": "log", "offset": offset, "lines": lines})


def log_source(build_id: str) -> channels.LogSource:
    """The stored log of a build by line offset, for WebSocket subscribers that resume."""
    return channels.LogSource(end=lambda: store.next_log_offset(build_id),
                              read=lambda since: store.read_log(build_id, since))
