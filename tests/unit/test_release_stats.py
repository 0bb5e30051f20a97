"""Known answers of the release comparison's significance tests (chalicelib/services/releases/stats.py)."""
from __future__ import annotations

import random

from chalicelib.services.releases import stats


def test_two_percent_against_six_percent_over_1000_runs_each_is_significant():
    verdict = stats.two_proportion(20, 1000, 60, 1000)
    assert verdict.significant
    assert verdict.p_value < 0.001  # z is about 4.6


def test_the_same_rates_over_20_runs_each_are_not_significant():
    verdict = stats.two_proportion(0.02 * 20, 20, 0.06 * 20, 20)
    assert not verdict.significant
    assert verdict.p_value > 0.3  # z is about 0.65


def test_a_side_with_no_runs_is_never_significant():
    assert not stats.two_proportion(0, 0, 60, 1000).significant
    assert not stats.two_proportion(0, 1000, 0, 1000).significant  # no failure anywhere


def _durations(n: int, scale: float, seed: int) -> list[float]:
    rng = random.Random(seed)
    return sorted(rng.lognormvariate(0, 0.5) * scale for _ in range(n))


def test_a_p95_that_doubled_over_1000_runs_is_significant_and_an_unchanged_one_is_not():
    base = _durations(1000, 800, 1)
    assert stats.quantile_shift(base, _durations(1000, 1600, 2), 0.95).significant
    assert not stats.quantile_shift(base, _durations(1000, 800, 3), 0.95).significant


def test_too_few_runs_for_a_p99_is_not_significant_however_far_apart():
    verdict = stats.quantile_shift(_durations(20, 800, 1), _durations(20, 8000, 2), 0.99)
    assert not verdict.significant and verdict.head_interval is None
