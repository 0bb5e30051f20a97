"""Pydantic schemas of the releases API (camelCase out)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, ClassVar, Literal

from pydantic import BeforeValidator, ConfigDict, Field, StringConstraints

from chalicelib.ids import id_pattern
from chalicelib.models.api import Response
from chalicelib.models.query import Query

BuildId = Annotated[str, StringConstraints(pattern=id_pattern("build"))]


def _iso_time(raw: object) -> object:
    """ISO-8601 only (pydantic alone would take '1700000000' as a Unix time); no offset means UTC."""
    if not isinstance(raw, str):
        return raw
    try:
        t = datetime.fromisoformat(raw)
    except ValueError as e:
        raise ValueError("must be an ISO-8601 time, e.g. 2026-11-27T10:00:00Z") from e
    return t.astimezone(timezone.utc) if t.tzinfo else t.replace(tzinfo=timezone.utc)


IsoTime = Annotated[datetime, BeforeValidator(_iso_time)]


class CompareQuery(Query):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)
    field_codes: ClassVar[bool] = True
    base: BuildId | None = Field(None, description="The build compared against (default: the one head replaced)")
    head: BuildId | None = Field(None, description="The build judged (default: the current build)")
    from_: IsoTime | None = Field(None, alias="from", description=(
        "Count only head's runs that started from then (ISO-8601), and base's over its last 24 hours of "
        "serving; without it every run of both counts"))
    to: IsoTime | None = Field(None, description="End of head's window (ISO-8601, exclusive; default now, "
                                                  "needs `from`, at most 31 days after it)")


class WindowOut(Response):
    start: datetime = Field(description="When the route switched to the build")
    end: datetime | None = Field(description="When the next switch happened; null while it serves")
    trigger: str


class ModelShareOut(Response):
    model: str
    calls: int
    share: float = Field(description="Share of the build's model calls")
    total_tokens: int
    cost_usd: float | None = Field(description="Null when the model has no price")


class FiguresOut(Response):
    build_id: str
    runs: int = Field(description="Root agent_run / workflow_run spans")
    run_errors: int
    error_rate: float | None = Field(description="Runs whose root span failed / runs; null without runs")
    error_spans: int = Field(description="Failed spans other than tool calls")
    tool_calls: int
    tool_errors: int
    tool_error_rate: float | None
    p50_latency_ms: float | None
    p95_latency_ms: float | None
    p99_latency_ms: float | None
    generations: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    tokens_per_run: float | None
    cost_usd: float | None = Field(description="Null when any tokens are of a model without a price")
    cost_per_run_usd: float | None
    unpriced_models: list[str]
    models: list[ModelShareOut]
    last_span_at: datetime | None = Field(description="The newest span end ingested for the build")


class ReleaseOut(Response):
    build_id: str
    commit: str | None
    current: bool
    windows: list[WindowOut] = Field(description="Serving windows, newest first")
    figures: FiguresOut


class ReleasesOut(Response):
    deployment_id: str
    items: list[ReleaseOut] = Field(description="Builds that served the deployment, newest first")


class MetricChangeOut(Response):
    metric: Literal["errorRate", "toolErrorRate", "p50LatencyMs", "p95LatencyMs", "p99LatencyMs", "tokensPerRun",
                    "costPerRunUsd"]
    base: float | None
    head: float | None
    absolute: float | None = Field(description="head - base")
    relative: float | None = Field(description="(head - base) / base; null when base is 0 or missing")
    significant: bool
    test: Literal["two-proportion-z", "quantile-ci", "none"]
    base_n: int = Field(description="Sample size the test used on the base side")
    head_n: int
    p_value: float | None


class IntervalOut(Response):
    start: datetime
    end: datetime = Field(description="Exclusive")


class ComparisonOut(Response):
    deployment_id: str
    base: FiguresOut
    head: FiguresOut
    metrics: list[MetricChangeOut]
    base_windows: list[IntervalOut] | None = Field(
        description="Where base's counted runs started; null: every run it served")
    head_windows: list[IntervalOut] | None = Field(
        description="Where head's counted runs started; null: every run it served")
