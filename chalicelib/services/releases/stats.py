"""The significance tests of release comparisons: pure functions, no I/O.

  * Rates (error rate, tool error rate): the two-proportion z-test with a pooled proportion,
    two-sided, at ALPHA. It needs both samples non-empty and some (but not all) failures overall.
  * Latency quantiles: distribution-free confidence intervals from order statistics of each build's
    bounded reservoir of raw run durations (release_rollup_hourly.run_ms_sample, a uniform sample of
    up to 1,000 runs). The rank of the q-quantile in a sample of n is Binomial(n, q); its normal
    approximation gives ranks n·q ± z·sqrt(n·q·(1-q)). A change is significant when the two builds'
    intervals do not overlap: conservative (two disjoint 95% intervals is a stricter test than 5%), so
    a guard acts only on clear shifts. Too small a sample for a quantile (the interval runs off the
    sample's end) is never significant. The t-digest states give the quantile values themselves; they
    cannot be resampled, hence the reservoir.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

ALPHA = 0.05
_Z = NormalDist().inv_cdf(1 - ALPHA / 2)


@dataclass(frozen=True)
class Verdict:
    significant: bool
    p_value: float | None = None  # two-proportion test only
    base_interval: tuple[float, float] | None = None  # quantile test only
    head_interval: tuple[float, float] | None = None


def two_proportion(base_hits: float, base_n: int, head_hits: float, head_n: int) -> Verdict:
    """Is head's rate (hits / n) different from base's? Two-sided pooled z-test."""
    if base_n <= 0 or head_n <= 0:
        return Verdict(False)
    pooled = (base_hits + head_hits) / (base_n + head_n)
    se = math.sqrt(pooled * (1 - pooled) * (1 / base_n + 1 / head_n))
    if se == 0:  # no failure (or only failures) on either side: nothing to tell apart
        return Verdict(False, 1.0)
    z = (head_hits / head_n - base_hits / base_n) / se
    p = 2 * (1 - NormalDist().cdf(abs(z)))
    return Verdict(p < ALPHA, p)


def quantile_interval(sample: list[float], q: float) -> tuple[float, float] | None:
    """95% interval of the q-quantile from a sorted sample; None when the sample is too small for it."""
    n = len(sample)
    if n == 0:
        return None
    spread = _Z * math.sqrt(n * q * (1 - q))
    lo, hi = math.floor(n * q - spread), math.ceil(n * q + spread)
    if lo < 0 or hi > n - 1:
        return None
    return sample[lo], sample[hi]


def quantile_shift(base_sample: list[float], head_sample: list[float], q: float) -> Verdict:
    """Did the q-quantile move? Significant when the two intervals are disjoint. Samples sorted."""
    base, head = quantile_interval(base_sample, q), quantile_interval(head_sample, q)
    if base is None or head is None:
        return Verdict(False, base_interval=base, head_interval=head)
    disjoint = head[0] > base[1] or head[1] < base[0]
    return Verdict(disjoint, base_interval=base, head_interval=head)
