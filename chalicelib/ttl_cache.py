"""A small per-process cache whose entries live a few seconds at most, loading each key once at a time.

`get(key, load)` returns the cached value, or calls `load()` and keeps its result (None too). Callers
that miss the same key together wait for the one `load()` in flight instead of each calling it: 50
WebSocket subscribes arriving at once after an entry expired cost one read, not 50. A `load()` that
raises caches nothing (its waiters load for themselves), so a failure is never served from here.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Hashable


class _Flight:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.ok = False
        self.value: Any = None


class TTLCache:
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic, max_entries: int = 10_000):
        self.seconds, self.clock, self.max_entries = seconds, clock, max_entries
        self._items: dict[Hashable, tuple[float, Any]] = {}
        self._flights: dict[Hashable, _Flight] = {}
        self._discards = 0  # a load that began before a discard is not kept: it may have read what was dropped
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], Any]) -> Any:
        hit = self._items.get(key)
        if hit is not None and hit[0] > self.clock():
            return hit[1]
        if self.seconds <= 0:
            return load()
        with self._lock:
            hit = self._items.get(key)  # loaded by another caller since we looked
            if hit is not None and hit[0] > self.clock():
                return hit[1]
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = self._flights[key] = _Flight()
                discards = self._discards
        if not leader:
            flight.done.wait()
            return flight.value if flight.ok else load()
        try:
            value = load()
        except BaseException:
            with self._lock:
                self._flights.pop(key, None)
            flight.done.set()
            raise
        with self._lock:
            self._flights.pop(key, None)
            keep = discards == self._discards
        if keep:
            self.put(key, value)
        flight.value, flight.ok = value, True
        flight.done.set()
        return value

    def put(self, key: Hashable, value: Any) -> None:
        if self.seconds <= 0:
            return
        now = self.clock()
        with self._lock:
            if len(self._items) >= self.max_entries:
                self._items = {k: v for k, v in self._items.items() if v[0] > now}
                if len(self._items) >= self.max_entries:
                    self._items.clear()
            self._items[key] = (now + self.seconds, value)

    def discard(self, matches: Callable[[Hashable, Any], bool]) -> None:
        """Drop the entries for which `matches(key, value)` holds (a revoked key's, say)."""
        with self._lock:
            self._items = {k: v for k, v in self._items.items() if not matches(k, v[1])}
            self._discards += 1
