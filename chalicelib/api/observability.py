"""Observability: traces, span trees, logs, metrics, scores and token usage."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import ValidationError

from chalicelib.api.routing import Call, route
from chalicelib.errors import BadRequest
from chalicelib.models import observability as m
from chalicelib.models.api import Page
from chalicelib.services.observability import queries as observability

bp = Blueprint(__name__)

PERMISSION = "observability:read"


def _q(name: str, description: str, **schema: Any) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": "string", **schema}}


RANGE = (_q("from", "Start (ISO-8601), inclusive", format="date-time"),
         _q("to", "End (ISO-8601), exclusive; default now", format="date-time"))
TRACE_QUERY = RANGE + (
    _q("deploymentId", "Only this deployment"), _q("environment", "production | staging | preview | …"),
    _q("spanType", "Traces with a span of this type (agent_run, model_generation, tool_call, …)"),
    _q("status", "ok | error (a trace with any failed span is an error)", enum=["ok", "error"]),
    _q("q", "Text in a span's name, input or output"),
)
LOG_QUERY = RANGE + (
    _q("level", "Comma-separated levels"), _q("q", "Text in the message"), _q("deploymentId", "Only this deployment"),
    _q("traceId", "Logs of one trace"), _q("buildId", "The build log of one build instead of runtime logs"),
)
METRIC_QUERY = RANGE + (
    _q("interval", "Bucket size", enum=["hour", "day"]),
    _q("groupBy", "Series per", enum=["deployment", "model", "environment", "none"]),
    _q("deploymentId", "Only this deployment"), _q("environment", "Only this environment"),
)
SCORE_QUERY = RANGE + (_q("scorerName", "Only this scorer"), _q("traceId", "Scores of one trace"),
                       _q("deploymentId", "Only this deployment"))


def _filters(call: Call, model: type[m.Filters]) -> Any:
    params = {k: v for k, v in (call.query or {}).items() if k not in ("limit", "cursor")}
    try:
        return model.model_validate(params)
    except ValidationError as e:
        details = [{"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]} for err in e.errors()]
        raise BadRequest("Invalid query parameters", code="invalid_query", details=details) from e


@route(bp, "GET", "/projects/{projectId}/traces", permission=PERMISSION, response=Page[m.TraceSummary],
       paginated=True, query=TRACE_QUERY)
def list_traces(call: Call, projectId: str):
    """List a project's traces, newest first, with duration, tokens and cost."""
    return observability.list_traces(call.access, projectId, _filters(call, m.TraceFilters), call.limit, call.cursor)


@route(bp, "GET", "/projects/{projectId}/traces/{traceId}", permission=PERMISSION, response=m.TraceDetail)
def get_trace(call: Call, projectId: str, traceId: str):
    """One trace as a span tree, with total tokens and cost."""
    return observability.get_trace(call.access, projectId, traceId)


@route(bp, "GET", "/projects/{projectId}/logs", permission=PERMISSION, response=Page[m.LogOut], paginated=True,
       query=LOG_QUERY)
def list_logs(call: Call, projectId: str):
    """Search a project's runtime logs (or one build's log), newest first."""
    return observability.list_logs(call.access, projectId, _filters(call, m.LogFilters), call.limit, call.cursor)


@route(bp, "GET", "/projects/{projectId}/metrics", permission=PERMISSION, response=m.Metrics, query=METRIC_QUERY)
def get_metrics(call: Call, projectId: str):
    """Time series of requests, errors, p50/p95 duration, tokens and cost, from hourly rollups."""
    return observability.metrics(call.access, projectId, _filters(call, m.MetricFilters))


@route(bp, "GET", "/projects/{projectId}/scores", permission=PERMISSION, response=Page[m.ScoreOut], paginated=True,
       query=SCORE_QUERY)
def list_scores(call: Call, projectId: str):
    """List a project's evaluation scores, newest first."""
    return observability.list_scores(call.access, projectId, _filters(call, m.ScoreFilters), call.limit, call.cursor)


@route(bp, "GET", "/teams/{teamId}/usage", permission=PERMISSION, response=m.Usage, query=RANGE)
def team_usage(call: Call, teamId: str):
    """Token usage and cost of a team by project and model."""
    return observability.team_usage(call.access, teamId, _filters(call, m.UsageFilters))
