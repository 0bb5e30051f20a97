"""Channels: where build, deploy and server events are published for live clients.

`publish(channel, message)` stamps the channel and hands the message to every registered sink.
The WebSocket broadcaster registers itself as a sink; until then, and in tests, in-process
subscribers receive what is published. A sink that fails never fails the publisher: live
delivery is best effort, and what matters (status, log lines) is stored before it is published.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Iterator

Sink = Callable[[str, dict], None]


@dataclass(frozen=True)
class LogSource:
    """A channel whose log lines are stored by offset: a subscriber can resume from any offset."""
    end: Callable[[], int]
    read: Callable[[int], Iterator[tuple[int, str]]]

_sinks: list[Sink] = []
_lock = threading.Lock()


def add_sink(sink: Sink) -> Callable[[], None]:
    with _lock:
        _sinks.append(sink)

    def remove() -> None:
        with _lock:
            if sink in _sinks:
                _sinks.remove(sink)

    return remove


def publish(channel: str, message: dict) -> None:
    message = {"channel": channel, **message}
    with _lock:
        sinks = list(_sinks)
    for sink in sinks:
        try:
            sink(channel, message)
        except Exception:
            from chalicelib.control_plane_log import logger  # here: app.py imports this module at start

            logger.exception("channel sink failed", extra={"channel": channel})


def build_channel(build_id: str) -> str:
    return f"build:{build_id}"


def project_channel(project_id: str) -> str:
    return f"project:{project_id}"
