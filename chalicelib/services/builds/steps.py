"""Where a build attempt's time and AWS calls go, step by step (bench/build_queue.py prints it).

Off (every function a no-op) unless MA_BUILD_STEPS names a file (bench/build_queue.py sets it for
the local stack's API and worker processes), read at the first step, or `enable(path)` ran.
Enabled, every botocore client counts its calls, per thread, and each step appends one JSON line:
{"build", "step", "start", "end", "calls": {"dynamodb.GetItem": 2, ...}}, times in epoch seconds.
Calls made by a build's background threads (heartbeat, log flusher) are recorded by those threads
as steps of their own when they stop.
"""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

_path: Path | None = None
_configured = False
_write_lock = threading.Lock()
_local = threading.local()


def enable(path: str | Path) -> None:
    """Count the AWS calls of every botocore client of this process (boto3's and PynamoDB's, made
    before or after), and record steps into `path`."""
    global _path
    from botocore.client import BaseClient

    if _path is None:
        original = BaseClient._make_api_call

        def counted(self, operation_name, api_params):
            calls = getattr(_local, "calls", None)
            if calls is None:
                calls = _local.calls = Counter()
            calls[f"{self.meta.service_model.endpoint_prefix}.{operation_name}"] += 1
            return original(self, operation_name, api_params)

        BaseClient._make_api_call = counted
    _path = Path(path)


def _on() -> bool:
    global _configured
    if not _configured:
        _configured = True
        from chalicelib.settings import get_settings

        if get_settings().build_steps_file:
            enable(get_settings().build_steps_file)
    return _path is not None


def _calls() -> Counter:
    return Counter(getattr(_local, "calls", None) or {})


def record(build_id: str, step: str, start: float, end: float | None = None, calls: Counter | None = None) -> None:
    if not _on():
        return
    line = json.dumps({"build": build_id, "step": step, "start": start, "end": end or time.time(),
                       "calls": dict(calls or {})})
    with _write_lock, open(_path, "a") as f:
        f.write(line + "\n")


Mark = tuple[float, Counter]


def mark() -> Mark:
    """Now and this thread's calls so far: where a step that `since` records starts."""
    return time.time(), (_calls() if _on() else Counter())


def since(build_id: str, name: str, start: Mark) -> None:
    """Records the step from `start` to now, with the AWS calls this thread made meanwhile."""
    if _on():
        record(build_id, name, start[0], time.time(), _calls() - start[1])


@contextmanager
def step(build_id: str, name: str) -> Iterator[None]:
    """Times the block and counts the AWS calls this thread made in it."""
    start = mark()
    try:
        yield
    finally:
        since(build_id, name, start)


def thread_done(build_id: str, name: str, start: float) -> None:
    """A background thread of the build stops: its AWS calls since it started, as one step."""
    record(build_id, name, start, time.time(), _calls())


def read(path: Path) -> list[dict]:
    """The recorded steps, oldest first (an absent file: none)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
