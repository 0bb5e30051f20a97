"""Read-side SQL over the analytics tables. Every statement is scoped by team and project.

Raw tables are ReplacingMergeTree: a row may exist twice until a merge, so reads take one row per
identity with `LIMIT 1 BY`. Metrics and usage read the hourly rollup (sums, counts, t-digests).
"""
from __future__ import annotations

import re
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.analytics.writer import Writer
from chalicelib.ttl_cache import TTLCache

SPAN_COLUMNS = ("trace_id", "span_id", "parent_span_id", "is_root", "name", "span_type", "start_time", "end_time",
                "duration_ms", "status", "error_message", "model", "provider", "input_tokens", "output_tokens",
                "total_tokens", "attributes", "metadata", "input", "output", "deployment_id", "environment")


# --- prices -------------------------------------------------------------------------------------

_DATE_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|latest)$")


@dataclass(frozen=True)
class Prices:
    table: dict[str, tuple[float, float]]  # model -> (input, output) USD per million tokens

    def lookup(self, model: str) -> tuple[float, float] | None:
        candidates = [model, model.split("/", 1)[-1]]
        candidates += [_DATE_SUFFIX.sub("", c) for c in candidates]
        for c in candidates:
            if c in self.table:
                return self.table[c]
        return None

    def cost(self, model: str, input_tokens: int, output_tokens: int) -> float | None:
        """USD; None when the model has no price (never 0 for an unknown model)."""
        if not model:
            return None if (input_tokens or output_tokens) else 0.0
        price = self.lookup(model)
        if price is None:
            return None
        return (input_tokens * price[0] + output_tokens * price[1]) / 1_000_000


PRICES_TTL_S = 60.0  # prices change by migrate or an operator's SQL: a minute's staleness is fine
_PRICES_MAX = 1024  # teams per writer
_prices: "weakref.WeakKeyDictionary[Writer, TTLCache]" = weakref.WeakKeyDictionary()  # team -> Prices
_prices_lock = threading.Lock()


def prices_for(writer: Writer, team_id: str) -> Prices:
    """The team's price table, kept per process for PRICES_TTL_S: it is read on every trace and
    usage request and was a fifth of a trace lookup's time at 1M spans (bench/query.py)."""
    with _prices_lock:
        cache = _prices.get(writer)
        if cache is None:
            cache = _prices[writer] = TTLCache(PRICES_TTL_S, clock=lambda: time.monotonic(), max_entries=_PRICES_MAX)
    return cache.get(team_id, lambda: read_prices(writer, team_id))


def read_prices(writer: Writer, team_id: str) -> Prices:
    rows = writer.query(
        "SELECT team_id, model, input_per_mtok, output_per_mtok FROM model_prices FINAL "
        "WHERE team_id IN ('', {team:String}) ORDER BY team_id", {"team": team_id})
    table: dict[str, tuple[float, float]] = {}
    for team, model, i, o in rows:  # '' sorts first, so a team's override replaces the seed
        table[model] = (float(i), float(o))
    return Prices(table)


# --- filters ------------------------------------------------------------------------------------


class Where:
    """Conditions and their server-side parameters; a filter that was not given adds nothing."""

    def __init__(self, params: dict[str, Any], *conditions: str):
        self.params = params
        self.conditions = list(conditions)

    def add(self, condition: str, **values: Any) -> None:
        if all(v is not None and v != "" and v != [] for v in values.values()):
            self.conditions.append(condition)
            self.params.update(values)

    def equals(self, column: str, name: str, value: str | None) -> None:
        self.add(f"{column} = {{{name}:String}}", **{name: value})

    def contains(self, columns: tuple[str, ...], text: str | None) -> None:
        tests = [f"positionCaseInsensitiveUTF8({c}, {{text:String}}) > 0" for c in columns]
        self.add(tests[0] if len(tests) == 1 else f"({' OR '.join(tests)})", text=text)

    def before(self, time_column: str, id_column: str, after: tuple[datetime, str] | None) -> None:
        """Keyset pagination: rows after the last one of the previous page (newest first)."""
        if after is not None:
            self.add(f"({time_column}, {id_column}) < ({{after_time:DateTime64(3, 'UTC')}}, {{after_id:String}})",
                     after_time=after[0], after_id=after[1])

    def sql(self) -> str:
        return " AND ".join(self.conditions)


def _window(team: str, project: str, start: datetime, end: datetime, column: str, limit: int) -> Where:
    params: dict[str, Any] = {"team": team, "project": project, "start": start, "end": end, "limit": limit}
    return Where(params, "team_id = {team:String}", "project_id = {project:String}",
                 f"{column} >= {{start:DateTime64(3, 'UTC')}}", f"{column} < {{end:DateTime64(3, 'UTC')}}")


# --- traces -------------------------------------------------------------------------------------


def list_traces(writer: Writer, team: str, project: str, start: datetime, end: datetime, *, deployment: str | None,
                environment: str | None, span_type: str | None, status: str | None, text: str | None,
                after: tuple[datetime, str] | None, limit: int) -> list[tuple]:
    scope = _window(team, project, start, end, "start_time", limit)
    params = scope.params
    root = Where(params, *scope.conditions, "is_root")
    root.equals("deployment_id", "deployment", deployment)
    root.equals("environment", "environment", environment)
    inner = Where(params)
    inner.equals("span_type", "span_type", span_type)
    if status == "error":
        inner.add("status = 'error'")
    inner.contains(("name", "input", "output"), text)
    if inner.conditions:  # traces with at least one span that matches
        root.add(f"trace_id IN (SELECT trace_id FROM spans WHERE {scope.sql()} AND {inner.sql()})")
    if status == "ok":
        root.add(f"trace_id NOT IN (SELECT trace_id FROM spans WHERE {scope.sql()} AND status = 'error')")
    root.before("start_time", "trace_id", after)
    return writer.query(
        "SELECT trace_id, name, span_type, deployment_id, environment, start_time, end_time, duration_ms, status "
        f"FROM spans WHERE {root.sql()} ORDER BY start_time DESC, trace_id DESC "
        "LIMIT 1 BY trace_id LIMIT {limit:UInt32}", params)


def trace_aggregates(writer: Writer, team: str, project: str, trace_ids: list[str]) -> list[tuple]:
    """(trace_id, model, spans, errors, input, output, total) per trace and generation model."""
    if not trace_ids:
        return []
    return writer.query(
        "SELECT trace_id, if(span_type = 'model_generation', model, '') AS m, count(), countIf(status = 'error'), "
        "sumIf(input_tokens, span_type = 'model_generation'), sumIf(output_tokens, span_type = 'model_generation'), "
        "sumIf(total_tokens, span_type = 'model_generation') "
        "FROM (SELECT trace_id, span_id, span_type, model, status, input_tokens, output_tokens, total_tokens "
        "      FROM spans WHERE team_id = {team:String} AND project_id = {project:String} "
        "      AND trace_id IN {ids:Array(String)} LIMIT 1 BY trace_id, span_id) "
        "GROUP BY trace_id, m", {"team": team, "project": project, "ids": trace_ids})


def trace_spans(writer: Writer, team: str, project: str, trace_id: str) -> list[dict]:
    rows = writer.query(
        f"SELECT {', '.join(SPAN_COLUMNS)} FROM spans WHERE team_id = {{team:String}} AND project_id = {{project:String}} "
        "AND trace_id = {trace:String} ORDER BY start_time, span_id LIMIT 1 BY span_id LIMIT 10000",
        {"team": team, "project": project, "trace": trace_id})
    return [dict(zip(SPAN_COLUMNS, r)) for r in rows]


# --- logs ---------------------------------------------------------------------------------------

LOG_COLUMNS = ("record_id", "timestamp", "level", "message", "source", "deployment_id", "environment", "trace_id",
               "span_id", "attributes")


def list_logs(writer: Writer, team: str, project: str, start: datetime, end: datetime, *, levels: list[str] | None,
              text: str | None, deployment: str | None, trace: str | None, after: tuple[datetime, str] | None,
              limit: int) -> list[dict]:
    where = _window(team, project, start, end, "timestamp", limit)
    where.add("level IN {levels:Array(String)}", levels=levels)
    where.contains(("message",), text)
    where.equals("deployment_id", "deployment", deployment)
    where.equals("trace_id", "trace", trace)
    where.before("timestamp", "record_id", after)
    rows = writer.query(
        f"SELECT {', '.join(LOG_COLUMNS)} FROM logs WHERE {where.sql()} "
        "ORDER BY timestamp DESC, record_id DESC LIMIT 1 BY record_id LIMIT {limit:UInt32}", where.params)
    return [dict(zip(LOG_COLUMNS, r)) for r in rows]


def list_build_logs(writer: Writer, team: str, project: str, build: str, *, text: str | None,
                    after_line: int | None, limit: int) -> list[tuple]:
    where = Where({"team": team, "project": project, "build": build, "limit": limit},
                  "team_id = {team:String}", "project_id = {project:String}", "build_id = {build:String}")
    where.contains(("message",), text)
    where.add("line_no > {after:UInt32}", after=after_line)
    return writer.query(
        f"SELECT line_no, timestamp, message, deployment_id FROM build_logs WHERE {where.sql()} "
        "ORDER BY line_no LIMIT 1 BY line_no LIMIT {limit:UInt32}", where.params)


# --- rollups ------------------------------------------------------------------------------------

_GROUPS = {"deployment": "deployment_id", "environment": "environment", "model": "model", "none": "''"}


def rollup(writer: Writer, team: str, project: str | None, family: str, start: datetime, end: datetime, *,
           interval: str, group_by: str, by_model: bool, deployment: str | None = None,
           environment: str | None = None) -> list[tuple]:
    """(group, bucket, model, calls, errors, [p50, p95], input, output, total) from the hourly rollup."""
    where = Where({"team": team, "family": family, "start": start, "end": end},
                  "team_id = {team:String}", "family = {family:String}",
                  "hour >= toStartOfHour({start:DateTime('UTC')})", "hour < {end:DateTime('UTC')}")
    where.equals("project_id", "project", project)
    where.equals("deployment_id", "deployment", deployment)
    where.equals("environment", "environment", environment)
    group = "project_id" if group_by == "project" else _GROUPS[group_by]
    bucket = "toStartOfDay(hour)" if interval == "day" else "hour"
    model = "model" if by_model else "''"
    return writer.query(
        f"SELECT {group} AS g, {bucket} AS t, {model} AS m, countMerge(calls), sumMerge(errors), "
        "quantilesTDigestMerge(0.5, 0.95)(duration_q), sumMerge(input_tokens), sumMerge(output_tokens), "
        f"sumMerge(total_tokens) FROM span_rollup_hourly WHERE {where.sql()} "
        "GROUP BY g, t, m ORDER BY g, t, m", where.params)


# --- scores -------------------------------------------------------------------------------------

SCORE_COLUMNS = ("record_id", "timestamp", "trace_id", "span_id", "scorer_name", "score", "reason", "deployment_id")


def list_scores(writer: Writer, team: str, project: str, start: datetime, end: datetime, *, scorer: str | None,
                trace: str | None, deployment: str | None, after: tuple[datetime, str] | None,
                limit: int) -> list[dict]:
    where = _window(team, project, start, end, "timestamp", limit)
    where.equals("scorer_name", "scorer", scorer)
    where.equals("trace_id", "trace", trace)
    where.equals("deployment_id", "deployment", deployment)
    where.before("timestamp", "record_id", after)
    rows = writer.query(
        f"SELECT {', '.join(SCORE_COLUMNS)} FROM scores WHERE {where.sql()} "
        "ORDER BY timestamp DESC, record_id DESC LIMIT 1 BY record_id LIMIT {limit:UInt32}", where.params)
    return [dict(zip(SCORE_COLUMNS, r)) for r in rows]
