"""Real spans through the real pipeline: the JSONL a built mastra-weather server wrote, shipped to
S3 under observability/{kind}/{teamId}/{projectId}/{deploymentId}/, delivered by the bucket's
notification to the ingest queue, ingested by the supervisor's pump into chDB, and read back
through the trace API. Called by tests/e2e/test_mastra_weather.py on the output it built (one
build, not two)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from chalicelib.analytics import prices
from tests.support.observability_records import Scope
from tests.support.observability_stack import BUCKET, upload_directory
from tests.support.waiting import wait_for

MODEL, PROVIDER = "gpt-4o-mini", "openai"
STEPS, STEP_TOKENS = 2, (20, 10)  # the scripted mock model: two steps of 20 in / 10 out


def listed_trace_ids(stack, session, project: str) -> set[str]:
    """The trace ids the project's trace listing shows now (its first 100, newest first)."""
    r = session.get(stack.url(f"/projects/{project}/traces"), params={"limit": 100})
    assert r.status_code == 200, r.text
    return {item["traceId"] for item in r.json()["items"]}


def _descendants(node: dict) -> list[dict]:
    out = []
    for child in node["children"]:
        assert child["parentSpanId"] == node["spanId"], "a child nested under its parent"
        out += [child, *_descendants(child)]
    return out


def assert_shipped_spans_reach_the_trace_api(stack, session, team: str, project: str, deployment: str,
                                            obs_dir: Path, spans: list[dict], timings: dict) -> None:
    root_trace = next(s["traceId"] for s in spans if s["spanType"] == "agent_run")
    assert session.get(stack.url(f"/projects/{project}/traces/{root_trace}")).status_code == 404, "not before shipping"
    started = time.monotonic()
    keys = upload_directory(stack, Scope(team, project, deployment), obs_dir, pattern="closed/*.jsonl")
    assert any(k.startswith("observability/spans/") for k in keys), keys

    listing = wait_for(lambda: session.get(stack.url(f"/projects/{project}/traces")),
                       until=lambda r: r.status_code == 200 and any(i["traceId"] == root_trace for i in r.json()["items"]),
                       timeout=120, what="the trace listed")
    timings["s3_to_trace_api"] = round(time.monotonic() - started, 1)

    input_tokens, output_tokens = STEPS * STEP_TOKENS[0], STEPS * STEP_TOKENS[1]
    in_price, out_price = prices.SEED[MODEL]  # the seed list must price the example's model
    cost = (input_tokens * in_price + output_tokens * out_price) / 1e6

    item = next(i for i in listing.json()["items"] if i["traceId"] == root_trace)
    assert item["spanType"] == "agent_run" and item["status"] == "ok" and item["durationMs"] > 0
    assert item["deploymentId"] == deployment and item["environment"] == "production"
    assert item["spanCount"] == sum(1 for s in spans if s["traceId"] == root_trace)
    assert (item["inputTokens"], item["outputTokens"], item["totalTokens"]) == (
        input_tokens, output_tokens, input_tokens + output_tokens)
    assert item["models"] == [MODEL] and item["unpricedModels"] == []
    assert item["costUsd"] == pytest.approx(cost, rel=1e-6)

    r = session.get(stack.url(f"/projects/{project}/traces/{root_trace}"))
    assert r.status_code == 200, r.text
    tree = r.json()
    assert [s["spanType"] for s in tree["spans"]] == ["agent_run"], "one root: the agent run"
    root = tree["spans"][0]
    below = _descendants(root)
    assert len(below) + 1 == tree["spanCount"] == item["spanCount"], "every span hangs off the agent run"
    kinds = {s["spanType"] for s in below}
    assert {"model_generation", "tool_call"} <= kinds, sorted(kinds)
    assert any(c["spanType"] == "model_generation" for c in root["children"]), "generation directly under the run"

    gen = next(s for s in below if s["spanType"] == "model_generation")
    assert gen["model"] == MODEL and gen["provider"] == PROVIDER
    assert (gen["inputTokens"], gen["outputTokens"], gen["totalTokens"]) == (
        input_tokens, output_tokens, input_tokens + output_tokens)
    assert gen["costUsd"] == pytest.approx(cost, rel=1e-6)
    tool = next(s for s in below if s["spanType"] == "tool_call")
    assert tool["input"]["apiKey"] == "[REDACTED]" and tool["output"] is not None
    assert tree["costUsd"] == pytest.approx(cost, rel=1e-6) and tree["unpricedModels"] == []
    assert (tree["inputTokens"], tree["outputTokens"]) == (input_tokens, output_tokens)

    # Every line the server wrote met the contract: nothing was quarantined.
    s3 = stack.aws("s3")
    for key in keys:
        assert s3.list_objects_v2(Bucket=BUCKET, Prefix="quarantine/" + key).get("KeyCount", 0) == 0, key
    # And the logs of the run are there too, by trace id.
    logs = wait_for(lambda: session.get(stack.url(f"/projects/{project}/logs?traceId={root_trace}")),
                    until=lambda r: r.status_code == 200 and any(i["message"] == "fetching weather" for i in r.json()["items"]))
    assert all(i["traceId"] == root_trace for i in logs.json()["items"])
