"""Observability: traces, span trees, logs, metrics, scores and token usage."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.routing import Call, route
from chalicelib.models import observability as m
from chalicelib.models.api import Page
from chalicelib.services.observability import queries as observability

bp = Blueprint(__name__)

PERMISSION = "observability:read"


@route(bp, "GET", "/projects/{projectId}/traces", permission=PERMISSION, response=Page[m.TraceSummary],
       paginated=True, query=m.TraceFilters)
def list_traces(call: Call, projectId: str):
    """List a project's traces, newest first, with duration, tokens and cost."""
    return observability.list_traces(call.access, projectId, call.query, call.limit, call.cursor)


@route(bp, "GET", "/projects/{projectId}/traces/{traceId}", permission=PERMISSION, response=m.TraceDetail)
def get_trace(call: Call, projectId: str, traceId: str):
    """One trace as a span tree, with total tokens and cost."""
    return observability.get_trace(call.access, projectId, traceId)


@route(bp, "GET", "/projects/{projectId}/logs", permission=PERMISSION, response=Page[m.LogOut], paginated=True,
       query=m.LogFilters)
def list_logs(call: Call, projectId: str):
    """Search a project's runtime logs (or one build's log), newest first."""
    return observability.list_logs(call.access, projectId, call.query, call.limit, call.cursor)


@route(bp, "GET", "/projects/{projectId}/metrics", permission=PERMISSION, response=m.Metrics, query=m.MetricFilters)
def get_metrics(call: Call, projectId: str):
    """Time series of requests, errors, p50/p95 duration, tokens and cost, from hourly rollups."""
    return observability.metrics(call.access, projectId, call.query)


@route(bp, "GET", "/projects/{projectId}/scores", permission=PERMISSION, response=Page[m.ScoreOut], paginated=True,
       query=m.ScoreFilters)
def list_scores(call: Call, projectId: str):
    """List a project's evaluation scores, newest first."""
    return observability.list_scores(call.access, projectId, call.query, call.limit, call.cursor)


@route(bp, "GET", "/teams/{teamId}/usage", permission=PERMISSION, response=m.Usage, query=m.UsageFilters)
def team_usage(call: Call, teamId: str):
    """Token usage and cost of a team by project and model."""
    return observability.team_usage(call.access, teamId, call.query)
