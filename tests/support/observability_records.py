"""Realistic observability records (contract v1) for tests and benchmarks.

The build-side writer produces the real thing; until it is wired, these follow
chalicelib/contracts/observability-record.v1.schema.json the way a Mastra agent server would:
an `agent_run` root with `model_generation` children (each with `model_step` children and token
usage) and a `tool_call` between them.
"""
from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

MODELS = ("gpt-4o-mini", "gpt-4o", "claude-3-5-haiku-20241022", "gemini-1.5-flash")
TOOLS = ("get-weather", "search-docs", "lookup-order")
CITIES = ("Berlin", "Lisbon", "Osaka", "Austin", "Nairobi", "Lima")


@dataclass(frozen=True)
class Scope:
    team_id: str
    project_id: str
    deployment_id: str
    build_id: str = "bld_01"
    environment: str = "production"
    commit: str | None = "0f3c2a9d1b7e"
    service_name: str = "weather-agent"

    def s3_key(self, kind: str, name: str | None = None) -> str:
        name = name or f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S%fZ}_{uuid.uuid4().hex}.jsonl"
        return f"observability/{kind}/{self.team_id}/{self.project_id}/{self.deployment_id}/{name}"


def iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _base(scope: Scope, kind: str, record_id: str, ts: datetime) -> dict:
    return {
        "schemaVersion": 1, "kind": kind, "recordId": record_id, "timestamp": iso(ts),
        "teamId": scope.team_id, "projectId": scope.project_id, "deploymentId": scope.deployment_id,
        "buildId": scope.build_id, "commit": scope.commit, "environment": scope.environment,
        "serviceName": scope.service_name,
    }


def span(scope: Scope, trace_id: str, span_id: str, parent: str | None, span_type: str, name: str,
         start: datetime, duration_ms: float, *, status: str = "ok", model: str | None = None,
         tokens: tuple[int, int] | None = None, attributes: dict | None = None,
         input: object = None, output: object = None) -> dict:
    rec = _base(scope, "span", f"{trace_id}:{span_id}", start)
    end = start + timedelta(milliseconds=duration_ms)
    rec.update({
        "traceId": trace_id, "spanId": span_id, "parentSpanId": parent, "isRoot": parent is None,
        "name": name, "spanType": span_type, "startTime": iso(start), "endTime": iso(end),
        "durationMs": round(duration_ms, 3), "status": status,
        "errorMessage": "tool failed: upstream timeout" if status == "error" else None,
        "model": model, "provider": ("openai" if model and model.startswith("gpt") else "other") if model else None,
        "inputTokens": tokens[0] if tokens else None, "outputTokens": tokens[1] if tokens else None,
        "totalTokens": sum(tokens) if tokens else None,
        "attributes": attributes or {}, "metadata": {"runtime": "node", "sdk": "@mastra/core"},
        "input": json.dumps(input) if input is not None else None,
        "output": json.dumps(output) if output is not None else None,
    })
    return rec


def trace(scope: Scope, start: datetime, rng: random.Random, *, model: str | None = None,
          error: bool = False, trace_id: str | None = None) -> list[dict]:
    """One agent call: agent_run > model_generation (> model_step) , tool_call, model_generation."""
    trace_id = trace_id or uuid.UUID(int=rng.getrandbits(128)).hex
    sid = lambda: f"{rng.getrandbits(64):016x}"  # noqa: E731
    model = model or rng.choice(MODELS)
    city, tool = rng.choice(CITIES), rng.choice(TOOLS)
    question = {"messages": [{"role": "user", "content": f"What is the weather in {city} today?"}]}
    root = sid()
    t = start
    gen1_ms, tool_ms, gen2_ms = rng.uniform(300, 1500), rng.uniform(20, 400), rng.uniform(200, 1200)
    total = gen1_ms + tool_ms + gen2_ms + 5
    out = [span(scope, trace_id, root, None, "agent_run", "weather-agent", t, total,
                status="error" if error else "ok", attributes={"agentId": "weatherAgent", "maxSteps": 5},
                input=question, output={"text": f"It is sunny in {city}, 21°C."})]
    g1, s1 = sid(), sid()
    tin1, tout1 = rng.randint(200, 900), rng.randint(20, 120)
    out.append(span(scope, trace_id, g1, root, "model_generation", f"llm: {model}", t + timedelta(milliseconds=1),
                    gen1_ms, model=model, tokens=(tin1, tout1),
                    attributes={"temperature": 0.2, "usage": {"promptTokens": tin1, "completionTokens": tout1}},
                    input=question, output={"toolCalls": [{"toolName": tool, "args": {"city": city}}]}))
    out.append(span(scope, trace_id, s1, g1, "model_step", "step: 0", t + timedelta(milliseconds=2), gen1_ms - 2,
                    attributes={"finishReason": "tool-calls"}))
    tc = sid()
    out.append(span(scope, trace_id, tc, root, "tool_call", f"tool: {tool}", t + timedelta(milliseconds=gen1_ms + 2),
                    tool_ms, status="error" if error else "ok", attributes={"toolId": tool},
                    input={"city": city}, output={"temperature": 21, "conditions": "sunny"}))
    g2, s2 = sid(), sid()
    tin2, tout2 = rng.randint(300, 1200), rng.randint(30, 200)
    t2 = t + timedelta(milliseconds=gen1_ms + tool_ms + 3)
    out.append(span(scope, trace_id, g2, root, "model_generation", f"llm: {model}", t2, gen2_ms, model=model,
                    tokens=(tin2, tout2), attributes={"temperature": 0.2}, input={"toolResult": "21C sunny"},
                    output={"text": f"It is sunny in {city}, 21°C."}))
    out.append(span(scope, trace_id, s2, g2, "model_step", "step: 1", t2 + timedelta(milliseconds=1), gen2_ms - 1,
                    attributes={"finishReason": "stop"}))
    return out


def log(scope: Scope, ts: datetime, level: str, message: str, *, trace_id: str | None = None,
        span_id: str | None = None, record_id: str | None = None) -> dict:
    rec = _base(scope, "log", record_id or str(uuid.uuid4()), ts)
    rec.update({"level": level, "message": message, "traceId": trace_id, "spanId": span_id, "source": "logger",
                "attributes": {"component": "AGENT"}})
    return rec


def metric(scope: Scope, ts: datetime, name: str, value: float, metric_type: str = "counter") -> dict:
    rec = _base(scope, "metric", str(uuid.uuid4()), ts)
    rec.update({"name": name, "value": value, "unit": None, "metricType": metric_type, "attributes": {}})
    return rec


def score(scope: Scope, ts: datetime, trace_id: str, scorer: str, value: float, reason: str | None = None) -> dict:
    rec = _base(scope, "score", str(uuid.uuid4()), ts)
    rec.update({"traceId": trace_id, "spanId": None, "scorerName": scorer, "score": value, "reason": reason,
                "attributes": {}})
    return rec


def spans_stream(scope: Scope, n_lines: int, *, start: datetime, days: float = 7, seed: int = 7) -> Iterator[str]:
    """n_lines span lines: whole traces spread over `days` from `start`."""
    rng = random.Random(seed)
    written = 0
    span_secs = days * 86400
    while written < n_lines:
        t = start + timedelta(seconds=rng.uniform(0, span_secs))
        for rec in trace(scope, t, rng, error=rng.random() < 0.03):
            if written >= n_lines:
                return
            yield json.dumps(rec, separators=(",", ":"))
            written += 1


def jsonl(records: list[dict]) -> bytes:
    return ("\n".join(json.dumps(r) for r in records) + "\n").encode()


def write_jsonl(path: Path, lines: Iterator[str]) -> int:
    n = 0
    with open(path, "w") as f:
        for line in lines:
            f.write(line)
            f.write("\n")
            n += 1
    return n
