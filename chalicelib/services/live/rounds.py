"""Work shared by the callers that arrived before it started (a per-key rendezvous).

`Rounds().run(key, fn)` runs `fn` once for every caller that joined the key's waiting round; callers
arriving while a round of that key runs join the next one, which starts when it ends. So `fn` always
starts after each of its callers called `run`, which is what a caller needs when `fn` must follow
something it did (a subscribe's announcement must follow its subscription's write). One caller at a
time (a Lambda instance) runs `fn` once per call, as without it; the local gateway's concurrent
subscribes to one channel share one.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Hashable


class _Round:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class Rounds:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[Hashable, _Round] = {}
        self._running: dict[Hashable, threading.Lock] = {}

    def run(self, key: Hashable, fn: Callable[[], Any]) -> Any:
        with self._lock:
            joined = self._waiting.get(key)
            if joined is None:
                mine = self._waiting[key] = _Round()
                running = self._running.setdefault(key, threading.Lock())
        if joined is not None:
            joined.done.wait()
            if joined.error is not None:
                raise joined.error
            return joined.value
        with running:  # the round before this key's ends first; its late arrivals joined this one
            with self._lock:
                del self._waiting[key]  # started: whoever comes now waits for the next round
            try:
                mine.value = fn()
            except BaseException as e:
                mine.error = e
                raise
            finally:
                mine.done.set()
                with self._lock:
                    if key not in self._waiting:
                        self._running.pop(key, None)
        return mine.value
