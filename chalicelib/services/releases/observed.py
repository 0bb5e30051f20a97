"""Which runs a windowed comparison counts (what the release guard judges; `from`/`to` on compare).

  head  its runs that started inside the window asked for: the guard's observation window, from the
        switch to the build until `windowMinutes` later, or until now while the window is open.
  base  its runs of the last BASE_LOOKBACK (24 hours) it served, ending where its newest serving
        window ends (the switch away from it; now while it still serves), and only inside its
        serving windows. A day covers a daily cycle of traffic, and a build that served for months
        is judged by how it behaved lately, not by its whole history.

Both sides are exact to the millisecond (chalicelib/analytics/release_figures.py: whole hours from the
hourly rollup, the partial first and last hours from the raw spans).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.errors import BadRequest
from chalicelib.services.observability.queries import EARLIEST, LATEST
from chalicelib.services.releases.figures import Window

BASE_LOOKBACK = timedelta(hours=24)
MAX_WINDOW = timedelta(days=31)  # a window asked for over the API; the guard's is at most 7 days


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime  # exclusive

    def pair(self) -> tuple[datetime, datetime]:
        return self.start, self.end


def head_interval(start: datetime, end: datetime, now: datetime) -> Interval:
    """The window asked for, up to now while it is still open."""
    return Interval(start, min(end, now))


def base_intervals(served: list[tuple[str, Window]], build_id: str, now: datetime) -> tuple[Interval, ...]:
    """The build's serving windows within the last BASE_LOOKBACK it served, newest first."""
    mine = [w for b, w in served if b == build_id]
    if not mine:
        return ()
    last_end = min(mine[-1].end or now, now)
    since = last_end - BASE_LOOKBACK
    out = []
    for w in reversed(mine):
        start, end = max(w.start, since), min(w.end or now, last_end)
        if start < end:
            out.append(Interval(start, end))
    return tuple(out)


def requested(start: datetime | None, end: datetime | None, now: datetime) -> Interval | None:
    """`from`/`to` of GET .../releases/compare: None without them; `to` defaults to now."""
    if start is None and end is None:
        return None
    if start is None:
        raise BadRequest("`to` needs `from`", code="invalid_range")
    end = end or now
    if not (EARLIEST <= start < LATEST and EARLIEST <= end <= LATEST):
        raise BadRequest(f"`from` and `to` must lie between {EARLIEST.year} and {LATEST.year}", code="invalid_range")
    if start >= end:
        raise BadRequest("`from` must be before `to`", code="invalid_range")
    if end - start > MAX_WINDOW:
        raise BadRequest(f"A window is at most {MAX_WINDOW.days} days", code="range_too_long")
    return Interval(start, end)
