"""Releases of a deployment over the API: two builds deployed one after the other, their spans shipped
to S3 and ingested by the real ingest consumer, then `GET /deployments/{id}/releases` and `/compare`."""
from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

import pytest

from tests.fast.test_builds import _deployment as tiny_deployment, team  # noqa: F401 (a fixture)
from tests.support.observability_records import Scope, trace


def _deployment(api, owner, team, tmp_path) -> dict:
    deployment_id = tiny_deployment(api, owner, team, tmp_path)
    return owner.get(api.url(f"/deployments/{deployment_id}")).json()


def _build_and_deploy(api, owner, deployment_id: str) -> str:
    r = owner.post(api.url(f"/deployments/{deployment_id}/builds"), json={})
    assert r.status_code == 202, r.text
    api.run_queues()
    current = owner.get(api.url(f"/deployments/{deployment_id}")).json()["currentBuildId"]
    assert current == r.json()["id"]
    return current


def _ship(api, deployment: dict, build_id: str, runs: int, errors: int, *, model: str = "gpt-4o-mini",
          slow: float = 1.0) -> None:
    """`runs` agent calls of `build_id` (the first `errors` failing) as one JSONL object, then ingest."""
    scope = Scope(deployment["teamId"], deployment["projectId"], deployment["id"], build_id=build_id)
    rng = random.Random(build_id)
    start = datetime.now(timezone.utc) - timedelta(minutes=30)
    lines = []
    for i in range(runs):
        spans = trace(scope, start + timedelta(seconds=i), rng, model=model, error=i < errors)
        spans[0]["durationMs"] = round(spans[0]["durationMs"] * slow, 3)
        lines += [json.dumps(s) for s in spans]
    s3 = api.aws("s3")
    s3.put_object(Bucket=api.settings.bucket_name, Key=scope.s3_key("spans"), Body="\n".join(lines).encode())
    api.run_ingest()


def _metric(comparison: dict, name: str) -> dict:
    return next(m for m in comparison["metrics"] if m["metric"] == name)


def test_a_worse_build_is_significantly_worse_and_listed_newest_first(api, owner, team, tmp_path):
    deployment = _deployment(api, owner, team, tmp_path)
    good = _build_and_deploy(api, owner, deployment["id"])
    _ship(api, deployment, good, 1000, 20)
    bad = _build_and_deploy(api, owner, deployment["id"])
    _ship(api, deployment, bad, 1000, 60, slow=3.0)

    releases = owner.get(api.url(f"/deployments/{deployment['id']}/releases"))
    assert releases.status_code == 200, releases.text
    items = releases.json()["items"]
    assert [r["buildId"] for r in items] == [bad, good]
    assert items[0]["current"] and not items[1]["current"]
    assert items[0]["windows"][0]["end"] is None
    assert items[1]["windows"][0]["end"] == items[0]["windows"][0]["start"]
    figures = items[1]["figures"]
    assert (figures["runs"], figures["runErrors"], figures["errorRate"]) == (1000, 20, 0.02)
    assert figures["toolCalls"] == 1000 and figures["toolErrors"] == 20
    assert figures["models"][0]["model"] == "gpt-4o-mini" and figures["models"][0]["share"] == 1.0
    assert figures["costPerRunUsd"] > 0 and figures["unpricedModels"] == []

    r = owner.get(api.url(f"/deployments/{deployment['id']}/releases/compare"))  # default: current vs replaced
    assert r.status_code == 200, r.text
    comparison = r.json()
    assert (comparison["base"]["buildId"], comparison["head"]["buildId"]) == (good, bad)
    errors = _metric(comparison, "errorRate")
    assert errors["significant"] and errors["test"] == "two-proportion-z"
    assert (errors["baseN"], errors["headN"]) == (1000, 1000)
    assert errors["absolute"] == pytest.approx(0.04) and errors["relative"] == pytest.approx(2.0)
    p95 = _metric(comparison, "p95LatencyMs")
    assert p95["significant"] and p95["head"] > 2 * p95["base"]
    assert not _metric(comparison, "tokensPerRun")["significant"]


def test_few_runs_unpriced_models_and_a_build_without_runs(api, owner, team, tmp_path):
    deployment = _deployment(api, owner, team, tmp_path)
    first = _build_and_deploy(api, owner, deployment["id"])
    _ship(api, deployment, first, 20, 0)
    second = _build_and_deploy(api, owner, deployment["id"])
    _ship(api, deployment, second, 20, 1, model="house-model-7b")  # a model with no price
    third = _build_and_deploy(api, owner, deployment["id"])  # served, but no run yet

    base = f"/deployments/{deployment['id']}/releases/compare"
    comparison = owner.get(api.url(base), params={"base": first, "head": second}).json()
    assert not _metric(comparison, "errorRate")["significant"]  # 0 of 20 vs 1 of 20
    cost = _metric(comparison, "costPerRunUsd")
    assert cost["base"] > 0 and cost["head"] is None and cost["absolute"] is None  # never counted as 0
    assert comparison["head"]["unpricedModels"] == ["house-model-7b"]
    assert comparison["head"]["totalTokens"] > 0

    empty = owner.get(api.url(base)).json()  # default: third (no runs) against second
    assert (empty["base"]["buildId"], empty["head"]["buildId"]) == (second, third)
    assert empty["head"]["runs"] == 0 and empty["head"]["errorRate"] is None
    assert empty["head"]["p95LatencyMs"] is None and empty["head"]["costPerRunUsd"] is None
    assert not any(m["significant"] for m in empty["metrics"])


def test_bad_parameters_get_codes_and_a_viewer_may_read(api, owner, team, tmp_path, as_user):
    deployment = _deployment(api, owner, team, tmp_path)
    path = f"/deployments/{deployment['id']}/releases/compare"
    r = owner.get(api.url(path), params={"base": "nope"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_base", r.text
    r = owner.get(api.url(path), params={"head": "bld_x", "other": "1"})
    assert r.status_code == 400
    for window, code in (({"from": "yesterday"}, "invalid_from"), ({"from": "1700000000"}, "invalid_from"),
                         ({"from": "2026-11-27T10:00:00Z", "to": "2026-11-27T09:00:00Z"}, "invalid_range"),
                         ({"from": "2026-11-27T10:00:00Z", "to": "2026-11-27T10:00:00Z"}, "invalid_range"),
                         ({"to": "2026-11-27T10:00:00Z"}, "invalid_range"),
                         ({"from": "2026-10-01T00:00:00Z", "to": "2026-11-27T00:00:00Z"}, "range_too_long")):
        r = owner.get(api.url(path), params=window)
        assert r.status_code == 400 and r.json()["error"]["code"] == code, (window, r.text)
    r = owner.get(api.url(path))
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_current_build"
    first = _build_and_deploy(api, owner, deployment["id"])
    r = owner.get(api.url(path))
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_previous_build"
    r = owner.get(api.url(path), params={"base": "bld_" + "0" * 26, "head": first})
    assert r.status_code == 404
    owner.post(api.url(f"/teams/{team}/members"), json={"userId": "viewer-1", "role": "viewer"})
    viewer = as_user("viewer-1")
    assert viewer.get(api.url(f"/deployments/{deployment['id']}/releases")).status_code == 200
    assert as_user("stranger").get(api.url(f"/deployments/{deployment['id']}/releases")).status_code == 404
