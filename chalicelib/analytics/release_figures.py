"""Read-side SQL of the per-build rollup (release_rollup_hourly): the figures of a deployment's builds.

Scoped by team, project and deployment, which lead the rollup's sort key, so a read touches only the
deployment's granules. One statement, grouped by build and model: runs, tool calls and error spans
all sit in the model '' rows, so run latency is merged there only.

Figures within time intervals (a build's runs in an observation window) stay exact although the
rollup is hourly: the whole hours inside an interval come from the rollup, and its partial first
and last hours from the raw spans table with exact `start_time` bounds, aggregated by the rollup's
own SELECT (schema.release_rollup_select) so both halves merge as one. A run belongs to the
interval its root span started in. The raw part reads at most two partial hours per interval, and
the spans' sort key (team, project, hour) keeps it to those hours' granules.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping, Sequence

from chalicelib.analytics import schema
from chalicelib.analytics.writer import Writer


@dataclass(frozen=True)
class ModelRow:
    build_id: str
    model: str  # '' holds runs, tool calls and error spans
    runs: int
    run_errors: int
    error_spans: int
    tool_calls: int
    tool_errors: int
    generations: int
    input_tokens: int
    output_tokens: int
    total_tokens: int


@dataclass(frozen=True)
class LatencyRow:
    build_id: str
    quantiles: tuple[float, ...]  # p50, p95, p99 from the t-digest states
    sample: list[float]  # sorted reservoir of run durations (at most schema.RUN_SAMPLE_SIZE)
    last_end: datetime | None  # the latest span end seen for the build: how fresh its figures are


_SUMS = ("runs", "run_errors", "error_spans", "tool_calls", "tool_errors", "generations", "input_tokens",
         "output_tokens", "total_tokens")


Interval = tuple[datetime, datetime]  # [start, end), UTC
_HOUR = timedelta(hours=1)
_STATES = "run_ms, run_ms_sample"


def build_rows(writer: Writer, team: str, project: str, deployment: str, builds: list[str],
               within: Mapping[str, Sequence[Interval]] | None = None
               ) -> tuple[list[ModelRow], dict[str, LatencyRow]]:
    """Sums per build and model, and run latency per build (builds without data are absent).

    `within`: build -> the intervals whose runs count (a build absent from it counts nothing);
    None: every run each build served."""
    if not builds:
        return [], {}
    params: dict = {"team": team, "project": project, "deployment": deployment}
    scope = "team_id = {team:String} AND project_id = {project:String} AND deployment_id = {deployment:String}"
    if within is None:
        params["builds"] = builds
        source = f"release_rollup_hourly WHERE {scope} AND build_id IN {{builds:Array(String)}}"
    else:
        source = _windowed_source(scope, {b: within.get(b, ()) for b in builds}, params)
        if source is None:
            return [], {}
    rows = writer.query(
        f"SELECT build_id, model, {', '.join(f'sum({c})' for c in _SUMS)}, "
        f"if(model = '', {schema.combined(schema.RUN_QUANTILES, 'Merge')}(run_ms), []), "
        f"if(model = '', arraySort({schema.combined(schema.RUN_SAMPLE, 'Merge')}(run_ms_sample)), []), "
        f"max(last_end) FROM {source} GROUP BY build_id, model ORDER BY build_id, model", params)
    return _parsed(rows)


def _ceil_hour(t: datetime) -> datetime:
    floor = t.replace(minute=0, second=0, microsecond=0)
    return floor if floor == t else floor + _HOUR


def _windowed_source(scope: str, within: Mapping[str, Sequence[Interval]], params: dict) -> str | None:
    """A subquery of rollup rows: whole hours from the rollup, partial hours from the raw spans."""
    hours, spans = [], []
    for i, (build, intervals) in enumerate(within.items()):
        params[f"b{i}"] = build
        for j, (start, end) in enumerate(intervals):
            first_full, last_full = _ceil_hour(start), end.replace(minute=0, second=0, microsecond=0)
            edges = [(start, end)]
            if first_full < last_full:
                params[f"h{i}_{j}"], params[f"k{i}_{j}"] = first_full, last_full
                hours.append(f"(build_id = {{b{i}:String}} AND hour >= {{h{i}_{j}:DateTime('UTC')}} "
                             f"AND hour < {{k{i}_{j}:DateTime('UTC')}})")
                edges = [(start, first_full), (last_full, end)]
            for k, (a, b) in enumerate(edges):
                if a < b:
                    params[f"s{i}_{j}_{k}"], params[f"e{i}_{j}_{k}"] = a, b
                    spans.append(f"(build_id = {{b{i}:String}} AND start_time >= {{s{i}_{j}_{k}:DateTime64(3, 'UTC')}} "
                                 f"AND start_time < {{e{i}_{j}_{k}:DateTime64(3, 'UTC')}})")
    columns = f"build_id, model, {', '.join(_SUMS)}, {_STATES}, last_end"
    parts = []
    if hours:
        parts.append(f"SELECT {columns} FROM release_rollup_hourly WHERE {scope} AND ({' OR '.join(hours)})")
    if spans:
        raw = schema.release_rollup_select(f"{scope} AND ({' OR '.join(spans)})")
        parts.append(f"SELECT {columns} FROM ({raw})")
    return f"({' UNION ALL '.join(parts)})" if parts else None


def _parsed(rows: list[tuple]) -> tuple[list[ModelRow], dict[str, LatencyRow]]:
    sums = [ModelRow(r[0], r[1], *(int(v) for v in r[2:2 + len(_SUMS)])) for r in rows]
    last_end: dict[str, datetime] = {}
    for r in rows:
        if r[-1] is not None and (r[0] not in last_end or r[-1] > last_end[r[0]]):
            last_end[r[0]] = r[-1]
    runs = {r[0]: r for r in rows if r[1] == ""}
    latency = {b: LatencyRow(b, tuple(float(q) for q in runs[b][-3]) if b in runs else (),
                             [float(v) for v in runs[b][-2]] if b in runs else [], last_end.get(b))
               for b in dict.fromkeys(r[0] for r in rows)}
    return sums, latency
