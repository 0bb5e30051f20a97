"""Pydantic schemas of the release guard's API: its rules (PUT body), its state and the timeline."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, model_validator

from chalicelib.models.api import Request, Response
from chalicelib.models.releases import IntervalOut

# The per-build figures a rule may read (chalicelib/services/guard/figures.py maps the comparison to them).
Metric = Literal["errorRate", "toolErrorRate", "p50LatencyMs", "p95LatencyMs", "p99LatencyMs",
                 "costPerRunUsd", "tokensPerRun"]
RATES = ("errorRate", "toolErrorRate")
Verdict = Literal["passed", "breached", "waiting", "overridden"]


class GuardRule(Request):
    """One limit on how much worse the current build may be than the one it replaced.

    `maxIncrease`: head - base may not exceed it (rates as fractions: 0.05 is 5 points; others in
    their unit); `maxRatio`: head / base may not exceed it. Exactly one of the two.
    """

    metric: Metric
    max_increase: float | None = Field(default=None, ge=0, le=1_000_000)
    max_ratio: float | None = Field(default=None, ge=1.0, le=1000)

    @model_validator(mode="after")
    def _one_limit(self) -> "GuardRule":
        if (self.max_increase is None) == (self.max_ratio is None):
            raise ValueError("a rule has exactly one of maxIncrease or maxRatio")
        if self.metric in RATES and self.max_increase is not None and self.max_increase > 1:
            raise ValueError("a rate's maxIncrease is a fraction from 0 to 1")
        return self


class GuardSettings(Request):
    enabled: bool = True
    rules: list[GuardRule] = Field(default_factory=list, max_length=10)
    min_runs: int = Field(default=50, ge=1, le=1_000_000, description="Runs each build needs before a judgement")
    window_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60,
                                description="How long after a deploy the guard watches the new build")

    @model_validator(mode="after")
    def _rules_when_enabled(self) -> "GuardSettings":
        if self.enabled and not self.rules:
            raise ValueError("an enabled guard needs at least one rule")
        metrics = [r.metric for r in self.rules]
        if len(set(metrics)) != len(metrics):
            raise ValueError("one rule per metric")
        return self


class RuleResult(Response):
    metric: str
    limit: str
    base: float | None
    head: float | None
    change: float | None
    significant: bool | None
    breached: bool
    judged: bool
    why: str | None = None


class Evaluation(Response):
    verdict: Verdict
    why: str | None = None
    at: datetime
    base_build_id: str | None = None
    head_build_id: str | None = None
    base_runs: int | None = None
    head_runs: int | None = None
    rules: list[RuleResult] = Field(default_factory=list)
    rollback_deploy_id: str | None = None
    window_ends_at: datetime | None = None
    window_closed: bool = False
    head_window: IntervalOut | None = Field(default=None, description=(
        "Where the current build's counted runs started: from the switch to it until the window's end, "
        "or until the evaluation while the window was open"))
    base_windows: list[IntervalOut] = Field(default_factory=list, description=(
        "Where the previous build's counted runs started: its serving windows within its last 24 hours "
        "of serving"))


class GuardOut(Response):
    deployment_id: str
    enabled: bool
    rules: list[dict[str, Any]]
    min_runs: int
    window_minutes: int
    rejected_build_ids: list[str]
    evaluations: int
    last_evaluation: Evaluation | None
    updated_at: datetime | None


class EventOut(Response):
    """One entry of a deployment's timeline: a deploy (by build, a person or the guard) or a guard
    evaluation that acted."""

    id: str
    type: Literal["deploy", "redeploy", "rollback", "restart", "stop", "guard"]
    at: datetime
    build_id: str | None
    status: str | None = None
    by: str | None = None
    reason: str | None = None
    deploy_id: str | None = None
    evaluation: Evaluation | None = None
