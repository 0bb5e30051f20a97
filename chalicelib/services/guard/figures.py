"""What the guard reads: two builds' figures and whether each change is significant.

The port is a function `(deployment_id, base_build_id, head_build_id, head_window) -> Comparison`:
the head's runs inside its observation window against the base's over its last day of serving. The
default adapter asks the releases service (chalicelib/services/releases, ClickHouse's per-build
rollup, exact at the window's edges) and maps its comparison to the metrics rules name. Data that
cannot be read (ClickHouse down, a query failing) raises `DataUnavailable`: the guard then waits, it
never acts on what it could not see.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

Window = tuple[datetime, datetime]  # [start, end) of the runs that count

METRICS = ("errorRate", "toolErrorRate", "p50LatencyMs", "p95LatencyMs", "p99LatencyMs", "costPerRunUsd",
           "tokensPerRun")


class DataUnavailable(Exception):
    """The figures could not be read now; try again at the next evaluation."""


@dataclass(frozen=True)
class BuildFigures:
    build_id: str
    runs: int
    values: dict[str, float | None] = field(default_factory=dict)  # metric -> value; None: not known (unpriced)


@dataclass(frozen=True)
class Comparison:
    base: BuildFigures
    head: BuildFigures
    significant: dict[str, bool | None] = field(default_factory=dict)  # metric -> the comparer's test; None: no test
    base_windows: tuple[Window, ...] = ()  # where the base's counted runs started


Comparer = Callable[[str, str, str, Window], Comparison]


def from_releases(result) -> Comparison:
    """The releases service's comparison (chalicelib/services/releases/compare.py) in the guard's terms.

    A metric compared without a test there (`test == "none"`: tokens and cost per run) has no
    significance here (None), so its rule is judged on its limit and the minimum of runs alone.
    """
    significant = {m.metric: (m.significant if m.test != "none" else None) for m in result.metrics}
    base_values = {m.metric: m.base for m in result.metrics}
    head_values = {m.metric: m.head for m in result.metrics}
    return Comparison(BuildFigures(result.base.build_id, int(result.base.runs), base_values),
                      BuildFigures(result.head.build_id, int(result.head.runs), head_values), significant,
                      tuple(i.pair() for i in result.base_windows or ()))


def releases_comparer(deployment_id: str, base_build_id: str, head_build_id: str, head_window: Window) -> Comparison:
    from chalicelib.analytics.errors import ClickHouseError
    from chalicelib.services.releases import compare as releases
    from chalicelib.services.releases.observed import Interval

    try:
        result = releases.compare(deployment_id, base_build_id, head_build_id, window=Interval(*head_window),
                                  now=head_window[1])
    except ClickHouseError as e:  # the analytics adapter's typed errors: unavailable, or a query refused
        raise DataUnavailable(e.message) from e
    return from_releases(result)
