"""Pydantic schemas of the observability API (camelCase out, query filters in)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.models.api import Response

Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Ident = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")]


class Filters(BaseModel):
    """Query-string filters; names as in the URL (camelCase). Unknown names are rejected."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    from_: datetime | None = Field(default=None, alias="from")
    to: datetime | None = None


class TraceFilters(Filters):
    deploymentId: Ident | None = None
    environment: Ident | None = None
    spanType: Ident | None = None
    status: Literal["ok", "error"] | None = None
    q: Text | None = None


class LogFilters(Filters):
    level: Annotated[str, StringConstraints(pattern=r"^(trace|debug|info|warn|error|fatal)(,(trace|debug|info|warn|error|fatal))*$")] | None = None
    q: Text | None = None
    deploymentId: Ident | None = None
    traceId: Ident | None = None
    buildId: Ident | None = None


class MetricFilters(Filters):
    interval: Literal["hour", "day"] = "hour"
    groupBy: Literal["deployment", "model", "environment", "none"] = "none"
    deploymentId: Ident | None = None
    environment: Ident | None = None


class ScoreFilters(Filters):
    scorerName: Text | None = None
    traceId: Ident | None = None
    deploymentId: Ident | None = None


class UsageFilters(Filters):
    pass


class Cost(Response):
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost_usd: float | None = Field(description="null when a model used has no price (see unpricedModels)")
    unpriced_models: list[str]


class TraceSummary(Cost):
    trace_id: str
    name: str
    span_type: str
    deployment_id: str
    environment: str
    start_time: datetime
    end_time: datetime
    duration_ms: float
    status: str
    span_count: int
    models: list[str]


class SpanNode(Response):
    span_id: str
    parent_span_id: str | None
    span_type: str
    name: str
    start_time: datetime
    end_time: datetime
    duration_ms: float
    status: str
    error_message: str | None
    model: str | None
    provider: str | None
    input_tokens: int | None
    output_tokens: int | None
    total_tokens: int | None
    cost_usd: float | None
    attributes: Any
    metadata: Any
    input: Any
    output: Any
    children: list["SpanNode"]


class TraceDetail(Cost):
    trace_id: str
    deployment_id: str
    environment: str
    start_time: datetime
    end_time: datetime
    duration_ms: float
    status: str
    span_count: int
    spans: list[SpanNode] = Field(description="Root spans, each with its children nested")


class LogOut(Response):
    id: str
    timestamp: datetime
    level: str
    message: str
    source: str
    deployment_id: str
    environment: str | None
    trace_id: str | None
    span_id: str | None
    build_id: str | None
    attributes: Any


class MetricPoint(Response):
    time: datetime
    requests: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost_usd: float | None


class MetricSeries(Response):
    group: str
    points: list[MetricPoint]


class Metrics(Response):
    interval: str
    group_by: str
    start: datetime
    end: datetime
    series: list[MetricSeries]
    unpriced_models: list[str]


class ScoreOut(Response):
    id: str
    timestamp: datetime
    trace_id: str
    span_id: str | None
    scorer_name: str
    score: float
    reason: str | None
    deployment_id: str


class UsageRow(Response):
    project_id: str
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost_usd: float | None


class Usage(Response):
    team_id: str
    start: datetime
    end: datetime
    items: list[UsageRow]
    total_cost_usd: float | None
    unpriced_models: list[str]
