"""What the guard reads: two builds' figures and whether each change is significant.

The port is a function `(deployment_id, base_build_id, head_build_id) -> Comparison`; the default
adapter asks the releases service (chalicelib/services/releases, ClickHouse's per-build rollup) and
maps its comparison to the metrics rules name. Data that cannot be read (ClickHouse down, a query
failing) raises `DataUnavailable`: the guard then waits, it never acts on what it could not see.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

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


Comparer = Callable[[str, str, str], Comparison]


def _field(obj: Any, *names: str) -> Any:
    """The first of `names` on an object or a mapping (the releases service's models are pydantic)."""
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        if not isinstance(obj, dict) and hasattr(obj, name):
            return getattr(obj, name)
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def from_releases(result: Any, base_build_id: str, head_build_id: str) -> Comparison:
    """The releases service's comparison (per metric: base, head, change, significant; per build: runs)."""
    metrics = _field(result, "metrics") or {}
    if isinstance(metrics, list):  # a list of {metric|name, base, head, significant}
        metrics = {str(_field(m, "metric", "name")): m for m in metrics}
    base_values, head_values, significant = {}, {}, {}
    for name in METRICS:
        entry = metrics.get(name)
        if entry is None:
            continue
        base_values[name], head_values[name] = _number(_field(entry, "base")), _number(_field(entry, "head"))
        flag = _field(entry, "significant")
        significant[name] = flag if isinstance(flag, bool) else None
    runs = _field(result, "runs") or {}
    base_runs = _field(runs, "base") if runs else _field(_field(result, "base") or {}, "runs")
    head_runs = _field(runs, "head") if runs else _field(_field(result, "head") or {}, "runs")
    return Comparison(BuildFigures(base_build_id, int(base_runs or 0), base_values),
                      BuildFigures(head_build_id, int(head_runs or 0), head_values), significant)


def releases_comparer(deployment_id: str, base_build_id: str, head_build_id: str) -> Comparison:
    from chalicelib.errors import AppError

    try:
        from chalicelib.services.releases import compare as releases
    except ImportError as e:  # the per-build rollup is not installed in this build of the code
        raise DataUnavailable("per-build figures are not available") from e
    try:
        result = releases.compare(deployment_id, base_build_id, head_build_id)
    except AppError as e:  # the analytics adapter's typed errors (ClickHouse unavailable, a failed query)
        raise DataUnavailable(e.message) from e
    return from_releases(result, base_build_id, head_build_id)
