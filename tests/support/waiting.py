"""Waiting for a condition instead of sleeping for a guess: the one polling helper of the suite."""
from __future__ import annotations

import time
from typing import Any, Callable


def wait_for(fetch: Callable[[], Any], timeout: float = 60, until: Callable[[Any], Any] = bool,
             interval: float = 0.2, what: str = "condition") -> Any:
    """Call `fetch` until `until(value)` holds (by default: until the value is truthy); return the value.

    Raises AssertionError with the last value when `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if until(value):
            return value
        if time.monotonic() > deadline:
            shown = getattr(value, "text", value)
            raise AssertionError(f"{what} not reached in {timeout} s (last: {shown!r:.500})")
        time.sleep(interval)
