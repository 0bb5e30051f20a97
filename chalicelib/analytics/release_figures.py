"""Read-side SQL of the per-build rollup (release_rollup_hourly): the figures of a deployment's builds.

Scoped by team, project and deployment, which lead the rollup's sort key, so a read touches only the
deployment's granules. Two statements: sums per build and model, and run latency per build (the
run rows all have model '', so the second reads only those).
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
    quantiles: tuple[float, float, float]  # p50, p95, p99 from the t-digest states
    sample: list[float]  # sorted reservoir of run durations (at most schema.RUN_SAMPLE_SIZE)
    last_end: datetime | None  # the latest span end seen for the build: how fresh its figures are


def _where(builds: list[str]) -> tuple[str, dict]:
    return ("team_id = {team:String} AND project_id = {project:String} AND deployment_id = {deployment:String} "
            "AND build_id IN {builds:Array(String)}"), {"builds": builds}


def by_model(writer: Writer, team: str, project: str, deployment: str, builds: list[str]) -> list[ModelRow]:
    if not builds:
        return []
    where, params = _where(builds)
    rows = writer.query(
        "SELECT build_id, model, sum(runs), sum(run_errors), sum(error_spans), sum(tool_calls), sum(tool_errors), "
        "sum(generations), sum(input_tokens), sum(output_tokens), sum(total_tokens) "
        f"FROM release_rollup_hourly WHERE {where} GROUP BY build_id, model ORDER BY build_id, model",
        {**params, "team": team, "project": project, "deployment": deployment})
    return [ModelRow(r[0], r[1], *(int(v) for v in r[2:])) for r in rows]


def latency(writer: Writer, team: str, project: str, deployment: str, builds: list[str]) -> list[LatencyRow]:
    if not builds:
        return []
    where, params = _where(builds)
    rows = writer.query(
        f"SELECT build_id, {schema.combined(schema.RUN_QUANTILES, 'Merge')}(run_ms), "
        f"arraySort({schema.combined(schema.RUN_SAMPLE, 'Merge')}(run_ms_sample)), "
        f"max(last_end) FROM release_rollup_hourly WHERE {where} AND model = '' GROUP BY build_id",
        {**params, "team": team, "project": project, "deployment": deployment})
    return [LatencyRow(r[0], tuple(float(q) for q in r[1]), [float(v) for v in r[2]], r[3]) for r in rows]
