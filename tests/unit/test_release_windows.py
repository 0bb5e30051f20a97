"""Which runs a windowed comparison counts (chalicelib/services/releases/observed.py): known answers."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.errors import BadRequest
from chalicelib.services.releases.figures import Window
from chalicelib.services.releases.observed import Interval, base_intervals, head_interval, requested

T = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)


def test_an_open_window_ends_now_and_a_closed_one_at_its_end():
    assert head_interval(T, T + H, now=T + H / 4) == Interval(T, T + H / 4)
    assert head_interval(T, T + H, now=T + 5 * H) == Interval(T, T + H)


def test_the_base_counts_its_last_day_of_serving_across_its_windows_and_nothing_older():
    served = [("good", Window(T - 40 * H, T - 10 * H, "build")),  # months would be the same: cut at 24 h
              ("bad", Window(T - 10 * H, T - 9 * H, "build")),
              ("good", Window(T - 9 * H, T, "rollback")),
              ("next", Window(T, None, "build"))]
    assert base_intervals(served, "good", now=T + H) == (Interval(T - 9 * H, T), Interval(T - 24 * H, T - 10 * H))
    assert base_intervals(served, "bad", now=T + H) == (Interval(T - 10 * H, T - 9 * H),)
    assert base_intervals(served, "next", now=T + H) == (Interval(T, T + H),)  # still serving: up to now
    assert base_intervals(served, "never", now=T) == ()


@pytest.mark.parametrize(("start", "end", "code"), [
    (None, T, "invalid_range"),  # `to` needs `from`
    (T, T, "invalid_range"),
    (T + H, T, "invalid_range"),
    (T - 32 * 24 * H, T, "range_too_long"),
])
def test_a_window_asked_for_is_checked(start, end, code):
    with pytest.raises(BadRequest) as e:
        requested(start, end, now=T)
    assert e.value.code == code


def test_no_window_asked_for_counts_everything_and_from_alone_runs_to_now():
    assert requested(None, None, now=T) is None
    assert requested(T - H, None, now=T) == Interval(T - H, T)
