"""The control plane's own logs, metrics and traces (powertools), wired once as middleware.

Logs never carry headers, bodies or query strings: those are where tokens and secrets travel.
Tracer (aws_xray_sdk) is imported only inside Lambda, where it does something.
"""
from __future__ import annotations

import os
import time
import uuid
from typing import Any, Callable

from aws_lambda_powertools import Logger

logger = Logger(service="mastra-admin")


def _metrics():
    from aws_lambda_powertools import Metrics

    return Metrics(namespace="MastraAdmin", service="mastra-admin")


def request_middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """One structured line per request, with a correlation id echoed to the caller."""
    headers = event.headers or {}
    context = event.context or {}
    correlation_id = headers.get("x-request-id") or context.get("requestId") or str(uuid.uuid4())
    correlation_id = correlation_id[:128]
    logger.set_correlation_id(correlation_id)
    start = time.perf_counter()
    response = get_response(event)
    elapsed_ms = round((time.perf_counter() - start) * 1000, 2)
    response.headers["X-Request-Id"] = correlation_id
    logger.info(
        "request",
        extra={"method": event.method, "route": context.get("resourcePath"), "status": response.status_code,
               "durationMs": elapsed_ms},
    )
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        _emit_request_metrics(context.get("resourcePath") or "?", response.status_code, elapsed_ms)
    return response


def _emit_request_metrics(route: str, status: int, elapsed_ms: float) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    metrics = _metrics()
    metrics.add_dimension(name="route", value=route)
    metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=elapsed_ms)
    if status >= 500:
        metrics.add_metric(name="ServerErrors", unit=MetricUnit.Count, value=1)
    metrics.flush_metrics()


def tracing_middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """An X-Ray subsegment per request, only where X-Ray exists (inside Lambda)."""
    if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return get_response(event)
    from aws_lambda_powertools import Tracer

    with Tracer(service="mastra-admin").provider.in_subsegment("## request"):
        return get_response(event)
