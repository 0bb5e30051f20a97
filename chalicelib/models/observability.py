"""Pydantic schemas of the observability API (camelCase out, query filters in)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.models.api import Response
from chalicelib.models.query import Query

Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Ident = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")]


class Filters(Query):
    """Query-string filters; names as in the URL (camelCase). Unknown names are rejected."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    from_: datetime | None = Field(default=None, alias="from", description="Start (ISO-8601), inclusive")
    to: datetime | None = Field(default=None, description="End (ISO-8601), exclusive; default now")


DEPLOYMENT = "Only this deployment"


class TraceFilters(Filters):
    deploymentId: Ident | None = Field(None, description=DEPLOYMENT)
    environment: Ident | None = Field(None, description="production | staging | preview | …")
    spanType: Ident | None = Field(
        None, description="Traces with a span of this type (agent_run, model_generation, tool_call, …)")
    status: Literal["ok", "error"] | None = Field(
        None, description="ok | error (a trace with any failed span is an error)")
    q: Text | None = Field(None, description="Text in a span's name, input or output")


class LogFilters(Filters):
    level: Annotated[str, StringConstraints(pattern=r"^(trace|debug|info|warn|error|fatal)(,(trace|debug|info|warn|error|fatal))*$")] | None = Field(
        None, description="Comma-separated levels")
    q: Text | None = Field(None, description="Text in the message")
    deploymentId: Ident | None = Field(None, description=DEPLOYMENT)
    traceId: Ident | None = Field(None, description="Logs of one trace")
    buildId: Ident | None = Field(None, description="The build log of one build instead of runtime logs")


class MetricFilters(Filters):
    interval: Literal["hour", "day"] = Field("hour", description="Bucket size")
    groupBy: Literal["deployment", "model", "environment", "none"] = Field("none", description="Series per")
    deploymentId: Ident | None = Field(None, description=DEPLOYMENT)
    environment: Ident | None = Field(None, description="Only this environment")


class ScoreFilters(Filters):
    scorerName: Text | None = Field(None, description="Only this scorer")
    traceId: Ident | None = Field(None, description="Scores of one trace")
    deploymentId: Ident | None = Field(None, description=DEPLOYMENT)


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
