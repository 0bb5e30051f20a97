"""Compare two builds of a deployment: per metric, base and head, the change, and whether it is significant.

The tests are in stats.py: two-proportion z-test for errorRate and toolErrorRate (n: runs, tool
calls); disjoint order-statistic confidence intervals on the reservoir of run durations for
p50/p95/p99LatencyMs (n: the reservoir sizes, at most 1,000 per build). tokensPerRun and
costPerRunUsd are compared without a test (the rollup keeps no per-run spread of tokens):
`significant` is False and `test` is "none"; a guard judges them by ratio and a minimum of runs.
A cost with unpriced models on either side has no change (null), never a change against 0.

Default pair: the current build (head) against the build that served before it (base).

Which runs count: with no window, every run each build served (its figures on /releases); with a
window (the guard's observation window, or `from`/`to`), the head's runs inside it and the base's
over its last day of serving (observed.py). The comparison says which intervals it counted.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.analytics.writer import Writer, get_writer
from chalicelib.db import builds as build_store
from chalicelib.db.models import Deployment, utcnow
from chalicelib.errors import Conflict, NotFound
from chalicelib.services.releases import stats
from chalicelib.services.releases.observed import Interval, base_intervals
from chalicelib.services.releases.figures import Figures, Window, figures, load_deployment, windows

METRICS = ("errorRate", "toolErrorRate", "p50LatencyMs", "p95LatencyMs", "p99LatencyMs", "tokensPerRun",
           "costPerRunUsd")


@dataclass(frozen=True)
class MetricChange:
    metric: str
    base: float | None
    head: float | None
    absolute: float | None  # head - base
    relative: float | None  # (head - base) / base; None when base is 0 or missing
    significant: bool
    test: str  # two-proportion-z | quantile-ci | none
    base_n: int  # the sample the test used on each side
    head_n: int
    p_value: float | None = None


@dataclass(frozen=True)
class Comparison:
    deployment_id: str
    base: Figures
    head: Figures
    metrics: tuple[MetricChange, ...]
    base_windows: tuple[Interval, ...] | None = None  # the intervals whose runs counted; None: every run
    head_windows: tuple[Interval, ...] | None = None

    def metric(self, name: str) -> MetricChange:
        return next(m for m in self.metrics if m.metric == name)


def _change(metric: str, base: float | None, head: float | None, verdict: stats.Verdict, test: str,
            base_n: int, head_n: int) -> MetricChange:
    absolute = head - base if base is not None and head is not None else None
    relative = absolute / base if absolute is not None and base else None
    return MetricChange(metric, base, head, absolute, relative, verdict.significant, test, base_n, head_n,
                        verdict.p_value)


_QUANTILES = (("p50LatencyMs", "p50_ms", 0.5), ("p95LatencyMs", "p95_ms", 0.95), ("p99LatencyMs", "p99_ms", 0.99))


def comparison(deployment_id: str, base: Figures, head: Figures, base_windows: tuple[Interval, ...] | None = None,
               head_windows: tuple[Interval, ...] | None = None) -> Comparison:
    """The comparison of two builds' figures (pure: no I/O)."""
    changes = [
        _change("errorRate", base.error_rate, head.error_rate,
                stats.two_proportion(base.run_errors, base.runs, head.run_errors, head.runs),
                "two-proportion-z", base.runs, head.runs),
        _change("toolErrorRate", base.tool_error_rate, head.tool_error_rate,
                stats.two_proportion(base.tool_errors, base.tool_calls, head.tool_errors, head.tool_calls),
                "two-proportion-z", base.tool_calls, head.tool_calls),
    ]
    b_sample, h_sample = list(base.latency_sample), list(head.latency_sample)
    for metric, attr, q in _QUANTILES:
        changes.append(_change(metric, getattr(base, attr), getattr(head, attr),
                               stats.quantile_shift(b_sample, h_sample, q), "quantile-ci", len(b_sample),
                               len(h_sample)))
    none = stats.Verdict(False)
    changes.append(_change("tokensPerRun", base.tokens_per_run, head.tokens_per_run, none, "none", base.runs,
                           head.runs))
    changes.append(_change("costPerRunUsd", base.cost_per_run_usd, head.cost_per_run_usd, none, "none", base.runs,
                           head.runs))
    return Comparison(deployment_id, base, head, tuple(changes), base_windows, head_windows)


def default_pair(deployment: Deployment, head: str | None = None,
                 served: list[tuple[str, Window]] | None = None) -> tuple[str, str]:
    """(base, head): head (default: the current build) and the build that served before it."""
    served = windows(deployment.deployment_id) if served is None else served
    head = head or deployment.current_build_id
    if not head:
        raise Conflict("The deployment serves no build", code="no_current_build")
    latest = max((i for i, (b, _) in enumerate(served) if b == head), default=None)
    before = [b for b, _ in served[:latest]] if latest is not None else []
    base = next((b for b in reversed(before) if b != head), None)
    if base is None:
        raise Conflict(f"Build {head} replaced no earlier build; name the base", code="no_previous_build")
    return base, head


def compare(deployment_id: str, base_build_id: str | None = None, head_build_id: str | None = None,
            writer: Writer | None = None, window: Interval | None = None, now: datetime | None = None) -> Comparison:
    """Compare head with base (default: the current build with the build it replaced)."""
    return compare_of(load_deployment(deployment_id), base_build_id, head_build_id, writer, window, now)


def compare_of(deployment: Deployment, base_build_id: str | None, head_build_id: str | None,
               writer: Writer | None = None, window: Interval | None = None,
               now: datetime | None = None) -> Comparison:
    """`window`: count the head's runs inside it and the base's over its last day of serving
    (observed.py); None: every run of both."""
    served = windows(deployment.deployment_id)
    if base_build_id is None or head_build_id is None:
        default_base, default_head = default_pair(deployment, head_build_id, served)
        base_build_id, head_build_id = base_build_id or default_base, head_build_id or default_head
    for build_id in (base_build_id, head_build_id):
        build = build_store.find(build_id)
        if build is None or build.deployment_id != deployment.deployment_id:
            raise NotFound(f"No build {build_id} of this deployment")
    base_windows = head_windows = within = None
    if window is not None:
        base_windows, head_windows = base_intervals(served, base_build_id, now or utcnow()), (window,)
        within = {base_build_id: [i.pair() for i in base_windows], head_build_id: [window.pair()]}
    figs = figures(writer or get_writer(), deployment, [base_build_id, head_build_id], within)
    return comparison(deployment.deployment_id, figs[base_build_id], figs[head_build_id], base_windows, head_windows)
