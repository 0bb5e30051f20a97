"""Read-side SQL of the per-build rollup (release_rollup_hourly): the figures of a deployment's builds.

Scoped by team, project and deployment, which lead the rollup's sort key, so a read touches only the
deployment's granules. One statement, grouped by build and model: runs, tool calls and error spans
all sit in the model '' rows, so run latency is merged there only.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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


def build_rows(writer: Writer, team: str, project: str, deployment: str,
               builds: list[str]) -> tuple[list[ModelRow], dict[str, LatencyRow]]:
    """Sums per build and model, and run latency per build (builds without data are absent)."""
    if not builds:
        return [], {}
    rows = writer.query(
        f"SELECT build_id, model, {', '.join(f'sum({c})' for c in _SUMS)}, "
        f"if(model = '', {schema.combined(schema.RUN_QUANTILES, 'Merge')}(run_ms), []), "
        f"if(model = '', arraySort({schema.combined(schema.RUN_SAMPLE, 'Merge')}(run_ms_sample)), []), "
        "max(last_end) FROM release_rollup_hourly "
        "WHERE team_id = {team:String} AND project_id = {project:String} AND deployment_id = {deployment:String} "
        "AND build_id IN {builds:Array(String)} GROUP BY build_id, model ORDER BY build_id, model",
        {"team": team, "project": project, "deployment": deployment, "builds": builds})
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
