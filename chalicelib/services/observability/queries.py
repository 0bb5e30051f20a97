"""The observability query API: traces, span trees, logs, metrics, scores and usage.

Every call resolves the project (or team) first and checks `observability:read` there; a caller
outside the owning team gets 404. Reads go through the analytics Writer port (ClickHouse).
"""
from __future__ import annotations

import base64
import json
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib.analytics import queries
from chalicelib.analytics.writer import Writer, get_writer
from chalicelib.auth.access import Access
from chalicelib.errors import BadRequest, NotFound
from chalicelib.ids import check_id
from chalicelib.models import observability as m
from chalicelib.models.api import Page
from chalicelib.services.accounts.projects import require_project

PERMISSION = "observability:read"
MAX_RANGE = timedelta(days=400)
# Times in filters and cursors lie here, inside ClickHouse's DateTime and DateTime64(3) ranges.
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2106, 1, 1, tzinfo=timezone.utc)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _range(f: m.Filters, default: timedelta) -> tuple[datetime, datetime]:
    end = f.to or _now()
    start = f.from_ or end - default
    start, end = (t if t.tzinfo else t.replace(tzinfo=timezone.utc) for t in (start, end))
    if not (EARLIEST <= start < LATEST and EARLIEST <= end <= LATEST):
        raise BadRequest(f"`from` and `to` must lie between {EARLIEST.year} and {LATEST.year}", code="invalid_range")
    if start >= end:
        raise BadRequest("`from` must be before `to`", code="invalid_range")
    if end - start > MAX_RANGE:
        raise BadRequest("The time range is limited to 400 days", code="invalid_range")
    return start, end


def _encode(*parts: Any) -> str:
    raw = json.dumps([p.isoformat() if isinstance(p, datetime) else p for p in parts])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


# A cursor is ours only if every field has the type and range we wrote: nothing else reaches ClickHouse.
CURSOR_MAX_ID = 1024
CURSOR_MAX_LINE = 2**32 - 1  # line_no is a UInt32


def _malformed() -> BadRequest:
    return BadRequest("The cursor is malformed", code="invalid_cursor")


def _decode_parts(cursor: str, count: int) -> list:
    try:
        parts = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, RecursionError) as e:  # binascii.Error and bad UTF-8 are ValueErrors
        raise _malformed() from e
    if not isinstance(parts, list) or len(parts) != count:
        raise _malformed()
    return parts


def _decode_time_id(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    ts, ident = _decode_parts(cursor, 2)
    if not isinstance(ts, str) or not isinstance(ident, str) or not 0 < len(ident) <= CURSOR_MAX_ID:
        raise _malformed()
    if not ident.isprintable():
        raise _malformed()
    try:
        when = _utc(datetime.fromisoformat(ts))
    except ValueError as e:
        raise _malformed() from e
    if not EARLIEST <= when < LATEST:
        raise _malformed()
    return when, ident


def _decode_line(cursor: str | None) -> int | None:
    if not cursor:
        return None
    (line,) = _decode_parts(cursor, 1)
    if type(line) is not int or not 0 <= line <= CURSOR_MAX_LINE:  # bool is an int: not a line number
        raise _malformed()
    return line


def _utc(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _json(text: str | None) -> Any:
    if text is None or text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


class Costs:
    """Token sums by model and their price; unknown models make the total unpriced."""

    def __init__(self, prices: queries.Prices):
        self.prices = prices
        self.input = self.output = self.total = 0
        self.cost: float | None = 0.0
        self.unpriced: set[str] = set()

    def add(self, model: str, input_tokens: int, output_tokens: int, total_tokens: int) -> None:
        self.input += int(input_tokens)
        self.output += int(output_tokens)
        self.total += int(total_tokens)
        if not (input_tokens or output_tokens):
            return
        cost = self.prices.cost(model, int(input_tokens), int(output_tokens))
        if cost is None:
            self.unpriced.add(model or "(unknown)")
            self.cost = None
        elif self.cost is not None:
            self.cost += cost

    def fields(self) -> dict[str, Any]:
        return {"input_tokens": self.input, "output_tokens": self.output, "total_tokens": self.total,
                "cost_usd": None if self.cost is None else round(self.cost, 8),
                "unpriced_models": sorted(self.unpriced)}


# --- traces -------------------------------------------------------------------------------------


def list_traces(access: Access, project_id: str, f: m.TraceFilters, limit: int, cursor: str | None,
                writer: Writer | None = None) -> Page[m.TraceSummary]:
    project = require_project(access, project_id, PERMISSION)
    writer = writer or get_writer()
    start, end = _range(f, timedelta(days=7))
    rows = queries.list_traces(
        writer, project.team_id, project.project_id, start, end, deployment=f.deploymentId,
        environment=f.environment, span_type=f.spanType, status=f.status, text=f.q,
        after=_decode_time_id(cursor), limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    prices = queries.prices_for(writer, project.team_id)
    costs: dict[str, Costs] = defaultdict(lambda: Costs(prices))
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    models: dict[str, set[str]] = defaultdict(set)
    for trace_id, model, spans, errors, i, o, t in queries.trace_aggregates(
            writer, project.team_id, project.project_id, [r[0] for r in page]):
        costs[trace_id].add(model, i, o, t)
        counts[trace_id][0] += spans
        counts[trace_id][1] += errors
        if model:
            models[trace_id].add(model)
    items = []
    for trace_id, name, span_type, deployment, environment, st, et, duration, status in page:
        spans, errors = counts[trace_id]
        items.append(m.TraceSummary(
            trace_id=trace_id, name=name, span_type=span_type, deployment_id=deployment, environment=environment,
            start_time=_utc(st), end_time=_utc(et), duration_ms=duration,
            status="error" if errors or status == "error" else "ok", span_count=spans,
            models=sorted(models[trace_id]), **costs[trace_id].fields()))
    next_cursor = _encode(_utc(page[-1][5]), page[-1][0]) if more and page else None
    return Page[m.TraceSummary](items=items, next_cursor=next_cursor)


def get_trace(access: Access, project_id: str, trace_id: str, writer: Writer | None = None) -> m.TraceDetail:
    project = require_project(access, project_id, PERMISSION)
    if not trace_id or len(trace_id) > 128:
        raise NotFound("No such trace")
    writer = writer or get_writer()
    spans = queries.trace_spans(writer, project.team_id, project.project_id, trace_id)
    if not spans:
        raise NotFound("No such trace")
    prices = queries.prices_for(writer, project.team_id)
    total = Costs(prices)
    nodes: dict[str, m.SpanNode] = {}
    for s in spans:
        generation = s["span_type"] == "model_generation"
        if generation:
            total.add(s["model"], s["input_tokens"], s["output_tokens"], s["total_tokens"])
        has_tokens = bool(s["input_tokens"] or s["output_tokens"] or s["total_tokens"])
        nodes[s["span_id"]] = m.SpanNode(
            span_id=s["span_id"], parent_span_id=s["parent_span_id"] or None, span_type=s["span_type"],
            name=s["name"], start_time=_utc(s["start_time"]), end_time=_utc(s["end_time"]),
            duration_ms=s["duration_ms"], status=s["status"], error_message=s["error_message"] or None,
            model=s["model"] or None, provider=s["provider"] or None,
            input_tokens=s["input_tokens"] if has_tokens else None,
            output_tokens=s["output_tokens"] if has_tokens else None,
            total_tokens=s["total_tokens"] if has_tokens else None,
            cost_usd=prices.cost(s["model"], s["input_tokens"], s["output_tokens"]) if generation else None,
            attributes=_json(s["attributes"]) or {}, metadata=_json(s["metadata"]) or {},
            input=_json(s["input"]), output=_json(s["output"]), children=[])
    roots = []
    for node in nodes.values():  # spans arrive ordered by start time, so children are too
        parent = nodes.get(node.parent_span_id or "")
        (parent.children if parent is not None and parent is not node else roots).append(node)
    first = min(spans, key=lambda s: s["start_time"])
    last_end = max(s["end_time"] for s in spans)
    root_row = next((s for s in spans if s["is_root"]), first)
    return m.TraceDetail(
        trace_id=trace_id, deployment_id=root_row["deployment_id"], environment=root_row["environment"],
        start_time=_utc(first["start_time"]), end_time=_utc(last_end),
        duration_ms=root_row["duration_ms"] if root_row["is_root"] else
        (last_end - first["start_time"]).total_seconds() * 1000,
        status="error" if any(s["status"] == "error" for s in spans) else "ok", span_count=len(spans),
        spans=roots, **total.fields())


# --- logs ---------------------------------------------------------------------------------------


def list_logs(access: Access, project_id: str, f: m.LogFilters, limit: int, cursor: str | None,
              writer: Writer | None = None) -> Page[m.LogOut]:
    project = require_project(access, project_id, PERMISSION)
    writer = writer or get_writer()
    if f.buildId:
        return _build_logs(writer, project, f, limit, cursor)
    start, end = _range(f, timedelta(days=7))
    rows = queries.list_logs(
        writer, project.team_id, project.project_id, start, end, levels=f.level.split(",") if f.level else None,
        text=f.q, deployment=f.deploymentId, trace=f.traceId, after=_decode_time_id(cursor), limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    items = [m.LogOut(
        id=r["record_id"], timestamp=_utc(r["timestamp"]), level=r["level"], message=r["message"], source=r["source"],
        deployment_id=r["deployment_id"], environment=r["environment"], trace_id=r["trace_id"] or None,
        span_id=r["span_id"] or None, build_id=None, attributes=_json(r["attributes"]) or {}) for r in page]
    next_cursor = _encode(_utc(page[-1]["timestamp"]), page[-1]["record_id"]) if more and page else None
    return Page[m.LogOut](items=items, next_cursor=next_cursor)


def _build_logs(writer: Writer, project: Any, f: m.LogFilters, limit: int, cursor: str | None) -> Page[m.LogOut]:
    after = _decode_line(cursor)
    rows = queries.list_build_logs(writer, project.team_id, project.project_id, f.buildId, text=f.q,
                                   after_line=after, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    items = [m.LogOut(id=f"{f.buildId}:{line}", timestamp=_utc(ts), level="info", message=message, source="build",
                      deployment_id=deployment, environment=None, trace_id=None, span_id=None, build_id=f.buildId,
                      attributes={"line": line}) for line, ts, message, deployment in page]
    return Page[m.LogOut](items=items, next_cursor=_encode(page[-1][0]) if more and page else None)


# --- metrics ------------------------------------------------------------------------------------


def metrics(access: Access, project_id: str, f: m.MetricFilters, writer: Writer | None = None) -> m.Metrics:
    project = require_project(access, project_id, PERMISSION)
    writer = writer or get_writer()
    start, end = _range(f, timedelta(days=1))
    prices = queries.prices_for(writer, project.team_id)
    kw: dict[str, Any] = dict(interval=f.interval, group_by=f.groupBy, deployment=f.deploymentId,
                              environment=f.environment)
    points: dict[tuple[str, datetime], dict[str, Any]] = {}

    def point(group: str, t: datetime) -> dict[str, Any]:
        return points.setdefault((group, _utc(t)), {"requests": 0, "errors": 0, "p50_ms": None, "p95_ms": None,
                                                    "costs": Costs(prices)})

    # Requests, errors and latency: traces (root spans), or model calls when grouped by model.
    family = "model" if f.groupBy == "model" else "trace"
    for g, t, _m, calls, errors, q, *_ in queries.rollup(writer, project.team_id, project.project_id, family,
                                                         start, end, by_model=False, **kw):
        p = point(g, t)
        p.update(requests=int(calls), errors=int(errors), p50_ms=_q(q, 0), p95_ms=_q(q, 1))
    # Tokens and cost: model_generation spans, priced per model.
    for g, t, model, _c, _e, _q2, i, o, tot in queries.rollup(writer, project.team_id, project.project_id, "model",
                                                              start, end, by_model=True, **kw):
        point(g, t)["costs"].add(model, i, o, tot)
    series: dict[str, list[m.MetricPoint]] = defaultdict(list)
    unpriced: set[str] = set()
    for (g, t), p in sorted(points.items()):
        c: Costs = p.pop("costs")
        unpriced |= c.unpriced
        fields = c.fields()
        fields.pop("unpriced_models")
        series[g].append(m.MetricPoint(time=t, **p, **fields))
    return m.Metrics(interval=f.interval, group_by=f.groupBy, start=start, end=end,
                     series=[m.MetricSeries(group=g, points=pts) for g, pts in series.items()],
                     unpriced_models=sorted(unpriced))


def _q(values: Any, i: int) -> float | None:
    try:
        v = float(values[i])
    except (TypeError, IndexError, ValueError):
        return None
    return None if v != v else round(v, 3)  # NaN: no samples


# --- scores and usage ---------------------------------------------------------------------------


def list_scores(access: Access, project_id: str, f: m.ScoreFilters, limit: int, cursor: str | None,
                writer: Writer | None = None) -> Page[m.ScoreOut]:
    project = require_project(access, project_id, PERMISSION)
    writer = writer or get_writer()
    start, end = _range(f, timedelta(days=30))
    rows = queries.list_scores(writer, project.team_id, project.project_id, start, end, scorer=f.scorerName,
                               trace=f.traceId, deployment=f.deploymentId, after=_decode_time_id(cursor),
                               limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    items = [m.ScoreOut(id=r["record_id"], timestamp=_utc(r["timestamp"]), trace_id=r["trace_id"],
                        span_id=r["span_id"] or None, scorer_name=r["scorer_name"], score=r["score"],
                        reason=r["reason"] or None, deployment_id=r["deployment_id"]) for r in page]
    next_cursor = _encode(_utc(page[-1]["timestamp"]), page[-1]["record_id"]) if more and page else None
    return Page[m.ScoreOut](items=items, next_cursor=next_cursor)


def team_usage(access: Access, team_id: str, f: m.UsageFilters, writer: Writer | None = None) -> m.Usage:
    check_id("team", team_id)
    access.require(team_id, PERMISSION, resource="team")
    writer = writer or get_writer()
    start, end = _range(f, timedelta(days=30))
    prices = queries.prices_for(writer, team_id)
    total = Costs(prices)
    items = []
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for project, _t, model, calls, _e, _q, i, o, tot in queries.rollup(
            writer, team_id, None, "model", start, end, interval="day", group_by="project", by_model=True):
        s = sums[(project, model)]
        s[0] += int(calls); s[1] += int(i); s[2] += int(o); s[3] += int(tot)  # noqa: E702
    for (project, model), (calls, i, o, tot) in sorted(sums.items()):
        total.add(model, i, o, tot)
        items.append(m.UsageRow(project_id=project, model=model, calls=calls, input_tokens=i, output_tokens=o,
                                total_tokens=tot, cost_usd=prices.cost(model, i, o)))
    fields = total.fields()
    return m.Usage(team_id=team_id, start=start, end=end, items=items, total_cost_usd=fields["cost_usd"],
                   unpriced_models=fields["unpriced_models"])

