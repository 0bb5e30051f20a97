"""Channels: where build, deploy and server events are published for live clients.

`publish(channel, message)` stamps the channel and hands the message to every registered sink.
The WebSocket broadcaster registers itself as a sink; until then, and in tests, in-process
subscribers receive what is published. A sink that fails never fails the publisher: live
delivery is best effort, and what matters (status, log lines) is stored before it is published.

Inside `held()` (a health shard), what is published goes at once to the sinks that publish one
message at a time, and is held for the sinks registered with a batch form (`add_sink(sink,
many=…)`: the broadcaster, which then reads the heads of all the batch's channels at once) until
the block ends, even by an exception. The block is a context variable: threads see it when they
run in a copy of the opener's context (`contextvars.copy_context().run`).
"""
from __future__ import annotations

import contextvars
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

Sink = Callable[[str, dict], None]
BatchSink = Callable[[list[tuple[str, dict]]], None]


@dataclass(frozen=True)
class LogSource:
    """A channel whose log lines are stored by offset: a subscriber can resume from any offset."""
    end: Callable[[], int]
    read: Callable[[int], Iterator[tuple[int, str]]]


@dataclass(frozen=True, eq=False)  # removed by identity: the same function may be registered twice
class _Registered:
    one: Sink
    many: BatchSink | None


@dataclass
class Held:
    """Messages published inside `held()`, in publish order, for the sinks with a batch form."""
    items: list[tuple[str, dict]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, channel: str, message: dict) -> None:
        with self.lock:
            self.items.append((channel, message))

    def take(self) -> list[tuple[str, dict]]:
        with self.lock:
            items, self.items = self.items, []
        return items


_sinks: list[_Registered] = []
_lock = threading.Lock()
_held: contextvars.ContextVar[Held | None] = contextvars.ContextVar("channels_held", default=None)


def add_sink(sink: Sink, many: BatchSink | None = None) -> Callable[[], None]:
    """Register `sink`; `many(items)`, if given, takes what a `held()` block published, at its end."""
    registered = _Registered(sink, many)
    with _lock:
        _sinks.append(registered)

    def remove() -> None:
        with _lock:
            if registered in _sinks:
                _sinks.remove(registered)

    return remove


def publish(channel: str, message: dict) -> None:
    message = {"channel": channel, **message}
    held_now = _held.get()
    with _lock:
        sinks = list(_sinks)
    for sink in sinks:
        if held_now is not None and sink.many is not None:
            continue
        _guarded({"channel": channel}, sink.one, channel, message)
    if held_now is not None and any(sink.many is not None for sink in sinks):
        held_now.add(channel, message)


@contextmanager
def held() -> Iterator[Held]:
    """Hold what is published inside for the batch sinks; hand it to each of them at the end.
    Threads that publish into the block must have finished when it ends."""
    buffer = Held()
    token = _held.set(buffer)
    try:
        yield buffer
    finally:
        _held.reset(token)
        flush(buffer)


def flush(buffer: Held) -> None:
    items = buffer.take()
    if not items:
        return
    with _lock:
        sinks = [sink.many for sink in _sinks if sink.many is not None]
    for many in sinks:
        _guarded({"messages": len(items)}, many, items)


def _guarded(extra: dict, fn, *args) -> None:
    try:
        fn(*args)
    except Exception:
        from chalicelib.control_plane_log import logger  # here: app.py imports this module at start

        logger.exception("channel sink failed", extra=extra)


def build_channel(build_id: str) -> str:
    return f"build:{build_id}"


def project_channel(project_id: str) -> str:
    return f"project:{project_id}"
