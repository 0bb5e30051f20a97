"""S3 -> SQS -> ingest -> ClickHouse -> query API, through the real local stack."""
from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.support.observability_records import Scope, log, score, trace
from tests.support.observability_stack import BUCKET, put_records
from tests.support.waiting import wait_for


@pytest.fixture(scope="module")
def world(stack):
    from tests.support.jwts import token_for

    as_user = lambda uid: stack.session(token_for(uid))  # noqa: E731 (module scope: as_user is per test)
    tag = uuid.uuid4().hex[:6]
    a, b = as_user(f"obs-a-{tag}"), as_user(f"obs-b-{tag}")
    team_a = a.post(stack.url("/teams"), json={"name": "obs-a"}).json()["id"]
    team_b = b.post(stack.url("/teams"), json={"name": "obs-b"}).json()["id"]
    project = a.post(stack.url(f"/teams/{team_a}/projects"),
                     json={"name": "weather", "source": {"type": "github", "repo": "acme/weather"}}).json()["id"]
    deployment = a.post(stack.url(f"/projects/{project}/deployments"), json={"type": "production"}).json()["id"]
    scope = Scope(team_a, project, deployment)
    now = datetime.now(timezone.utc) - timedelta(minutes=30)
    rng = random.Random(11)
    traces = [trace(scope, now + timedelta(minutes=i), rng, model="gpt-4o-mini") for i in range(3)]
    unpriced = trace(scope, now + timedelta(minutes=4), rng, model="acme-local-llama-7b", error=True)
    records = [r for t in traces for r in t] + unpriced
    key = put_records(stack, scope, "spans", records)
    s3 = stack.aws("s3")
    s3.put_object(Bucket=BUCKET, Key=key, Body=s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())  # again
    first = traces[0][0]["traceId"]
    put_records(stack, scope, "logs", [
        log(scope, now, "info", "calling weather tool for Berlin", trace_id=first),
        log(scope, now + timedelta(seconds=1), "error", "weather upstream timeout"),
        log(scope, now + timedelta(seconds=2), "debug", "cache miss"),
    ])
    put_records(stack, scope, "scores", [score(scope, now, first, "relevance", 0.9, "on topic")])
    build_key = "builds/bld_obs" + tag + "/build.log"
    s3.put_object(Bucket=BUCKET, Key=build_key, Body=b"2026-11-23T12:00:00.001Z $ npm ci\n"
                  b"2026-11-23T12:00:04.500Z added 412 packages\n",
                  Metadata={"team-id": team_a, "project-id": project, "deployment-id": deployment})
    wait_for(lambda: a.get(stack.url(f"/projects/{project}/traces")), until=lambda r: len(r.json().get("items", [])) == 4)
    wait_for(lambda: a.get(stack.url(f"/projects/{project}/logs")), until=lambda r: len(r.json().get("items", [])) == 3)
    wait_for(lambda: a.get(stack.url(f"/projects/{project}/logs?buildId=bld_obs{tag}")),
             until=lambda r: len(r.json().get("items", [])) == 2)
    return {"a": a, "b": b, "team_a": team_a, "team_b": team_b, "project": project, "deployment": deployment,
            "traces": traces, "unpriced": unpriced, "records": records, "stack": stack, "tag": tag}


def get(world, path):
    r = world["a"].get(world["stack"].url(path))
    assert r.status_code == 200, r.text
    return r.json()


def test_traces_list_each_trace_once_with_tokens_and_cost(world):
    page = get(world, f"/projects/{world['project']}/traces")
    assert len(page["items"]) == 4 and page["nextCursor"] is None  # the object was delivered twice
    by_id = {t["traceId"]: t for t in page["items"]}
    t0 = world["traces"][0]
    summary = by_id[t0[0]["traceId"]]
    gens = [s for s in t0 if s["spanType"] == "model_generation"]
    assert summary["inputTokens"] == sum(s["inputTokens"] for s in gens)
    assert summary["outputTokens"] == sum(s["outputTokens"] for s in gens)
    expected = sum(s["inputTokens"] * 0.15 + s["outputTokens"] * 0.60 for s in gens) / 1e6
    assert summary["costUsd"] == pytest.approx(expected, rel=1e-6)
    assert summary["spanCount"] == 6 and summary["spanType"] == "agent_run" and summary["durationMs"] > 0
    unknown = by_id[world["unpriced"][0]["traceId"]]
    assert unknown["costUsd"] is None and unknown["unpricedModels"] == ["acme-local-llama-7b"]
    assert unknown["inputTokens"] > 0 and unknown["status"] == "error"


def test_trace_list_filters_and_pagination(world):
    p = world["project"]
    assert len(get(world, f"/projects/{p}/traces?status=error")["items"]) == 1
    assert len(get(world, f"/projects/{p}/traces?status=ok")["items"]) == 3
    assert len(get(world, f"/projects/{p}/traces?spanType=tool_call")["items"]) == 4
    assert len(get(world, f"/projects/{p}/traces?environment=staging")["items"]) == 0
    assert len(get(world, f"/projects/{p}/traces?deploymentId={world['deployment']}")["items"]) == 4
    city_hits = get(world, f"/projects/{p}/traces?q=weather%20in")["items"]
    assert len(city_hits) == 4
    first = get(world, f"/projects/{p}/traces?limit=3")
    assert len(first["items"]) == 3 and first["nextCursor"]
    second = get(world, f"/projects/{p}/traces?limit=3&cursor={first['nextCursor']}")
    assert len(second["items"]) == 1 and second["nextCursor"] is None
    seen = {t["traceId"] for t in first["items"] + second["items"]}
    assert len(seen) == 4
    bad = world["a"].get(world["stack"].url(f"/projects/{p}/traces?status=maybe"))
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_query"


def test_trace_tree_nests_generations_steps_and_tool_calls(world):
    t0 = world["traces"][0]
    detail = get(world, f"/projects/{world['project']}/traces/{t0[0]['traceId']}")
    assert detail["spanCount"] == 6
    [root] = detail["spans"]
    assert root["spanType"] == "agent_run" and root["parentSpanId"] is None
    kinds = [c["spanType"] for c in root["children"]]
    assert kinds == ["model_generation", "tool_call", "model_generation"]
    gen = root["children"][0]
    assert gen["model"] == "gpt-4o-mini" and gen["inputTokens"] > 0 and gen["costUsd"] > 0
    assert [c["spanType"] for c in gen["children"]] == ["model_step"]
    assert gen["attributes"]["temperature"] == 0.2 and isinstance(root["input"], dict)
    assert detail["totalTokens"] == sum(s["totalTokens"] or 0 for s in t0 if s["spanType"] == "model_generation")
    assert detail["costUsd"] == pytest.approx(sum(c["costUsd"] for c in root["children"] if c["costUsd"]))
    missing = world["a"].get(world["stack"].url(f"/projects/{world['project']}/traces/{'0' * 32}"))
    assert missing.status_code == 404


def test_logs_filter_by_level_text_and_trace(world):
    p = world["project"]
    assert [x["message"] for x in get(world, f"/projects/{p}/logs?level=error")["items"]] == ["weather upstream timeout"]
    assert len(get(world, f"/projects/{p}/logs?level=error,info")["items"]) == 2
    assert len(get(world, f"/projects/{p}/logs?q=BERLIN")["items"]) == 1
    tid = world["traces"][0][0]["traceId"]
    assert len(get(world, f"/projects/{p}/logs?traceId={tid}")["items"]) == 1
    build = get(world, f"/projects/{p}/logs?buildId=bld_obs{world['tag']}")["items"]
    assert [x["message"] for x in build] == ["$ npm ci", "added 412 packages"] and build[0]["source"] == "build"


def test_metrics_from_rollups_grouped_by_model(world):
    p = world["project"]
    m = get(world, f"/projects/{p}/metrics?groupBy=model")
    groups = {s["group"]: s for s in m["series"]}
    assert set(groups) == {"gpt-4o-mini", "acme-local-llama-7b"}
    assert sum(pt["requests"] for pt in groups["gpt-4o-mini"]["points"]) == 6  # model calls
    assert all(pt["costUsd"] is None for pt in groups["acme-local-llama-7b"]["points"])
    assert m["unpricedModels"] == ["acme-local-llama-7b"]
    overall = get(world, f"/projects/{p}/metrics")
    [series] = overall["series"]
    assert sum(pt["requests"] for pt in series["points"]) == 4
    assert sum(pt["errors"] for pt in series["points"]) == 1
    assert all(pt["p95Ms"] >= pt["p50Ms"] > 0 for pt in series["points"])
    assert sum(pt["totalTokens"] for pt in series["points"]) == sum(
        r["totalTokens"] for r in world["records"] if r["spanType"] == "model_generation")


def test_scores_and_team_usage(world):
    scores = get(world, f"/projects/{world['project']}/scores")["items"]
    assert [(s["scorerName"], s["score"]) for s in scores] == [("relevance", 0.9)]
    usage = get(world, f"/teams/{world['team_a']}/usage")
    rows = {(u["projectId"], u["model"]): u for u in usage["items"]}
    assert rows[(world["project"], "gpt-4o-mini")]["calls"] == 6
    assert rows[(world["project"], "acme-local-llama-7b")]["costUsd"] is None
    assert usage["totalCostUsd"] is None and usage["unpricedModels"] == ["acme-local-llama-7b"]


def test_team_b_cannot_read_team_a_observability(world):
    b, stack, p = world["b"], world["stack"], world["project"]
    tid = world["traces"][0][0]["traceId"]
    for path in (f"/projects/{p}/traces", f"/projects/{p}/traces/{tid}", f"/projects/{p}/logs",
                 f"/projects/{p}/metrics", f"/projects/{p}/scores", f"/teams/{world['team_a']}/usage"):
        r = b.get(stack.url(path))
        assert r.status_code == 404, (path, r.status_code, r.text)
        assert tid not in r.text
    assert stack.session().get(stack.url(f"/projects/{p}/traces")).status_code == 401
