"""The release guard in-process: its settings over the API, and its evaluator against a deployment
that really switched builds (fake runners, moto's DynamoDB and SQS), with the figures given by a
stand-in comparer so each verdict is known in advance. The figures themselves are the releases
service's (tested with it); the end-to-end test drives both through the local stack."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.services.guard.figures import BuildFigures, Comparison, DataUnavailable

SCHEDULED = {"version": "0", "id": "e1", "detail-type": "Scheduled Event", "source": "aws.events",
             "account": "123456789012", "time": "2026-11-27T00:00:00Z", "region": "us-east-1", "resources": [],
             "detail": {}}
RULES = [{"metric": "errorRate", "maxIncrease": 0.05}, {"metric": "p95LatencyMs", "maxRatio": 1.5},
         {"metric": "costPerRunUsd", "maxRatio": 1.3}]


@pytest.fixture
def team(owner, api):
    return owner.get(api.url("/teams")).json()["items"][0]["id"]


@pytest.fixture
def served(api, owner, team, tmp_path):
    """A deployment that served build 1, then build 2 (current): (deploymentId, build1, build2)."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "package.json").write_text('{"name": "tiny"}')
    project = owner.post(api.url(f"/teams/{team}/projects"),
                         json={"name": "guarded", "source": {"type": "local", "path": str(tmp_path / "src")}}).json()
    deployment = owner.post(api.url(f"/projects/{project['id']}/deployments"), json={"type": "production"}).json()["id"]
    builds = []
    for _ in range(2):
        builds.append(owner.post(api.url(f"/deployments/{deployment}/builds"), json={}).json()["id"])
        api.run_queues()
    assert owner.get(api.url(f"/deployments/{deployment}")).json()["currentBuildId"] == builds[1]
    return deployment, builds[0], builds[1]


def _figures(base_errors: float, head_errors: float, runs: int = 200, significant: bool | None = True):
    def comparer(deployment_id, base, head, head_window):
        values = lambda e: {"errorRate": e, "p95LatencyMs": 800.0, "costPerRunUsd": None}  # noqa: E731 (unpriced)
        return Comparison(BuildFigures(base, runs, values(base_errors)), BuildFigures(head, runs, values(head_errors)),
                          {"errorRate": significant, "p95LatencyMs": False})
    return comparer


def _guard_on(api, owner, deployment, **extra):
    r = owner.put(api.url(f"/deployments/{deployment}/guard"), json={"rules": RULES, "minRuns": 50, **extra})
    assert r.status_code == 200, r.text
    return r.json()


def test_a_guard_is_off_until_set_and_bad_rules_get_422_with_nothing_stored(api, owner, served):
    deployment = served[0]
    guard = owner.get(api.url(f"/deployments/{deployment}/guard")).json()
    assert guard["enabled"] is False and guard["rules"] == [] and guard["lastEvaluation"] is None
    for bad in ({"rules": [{"metric": "vibes", "maxRatio": 2}]},
                {"rules": [{"metric": "errorRate", "maxIncrease": 0.05, "maxRatio": 2}]},
                {"rules": [{"metric": "errorRate"}]},
                {"rules": [{"metric": "errorRate", "maxIncrease": 5}]},
                {"rules": [{"metric": "p95LatencyMs", "maxRatio": 0.5}]},
                {"rules": []},
                {"rules": RULES, "minRuns": 0},
                {"rules": RULES, "windowMinutes": 10**6},
                {"rules": RULES + [{"metric": "errorRate", "maxRatio": 2}]},
                {"rules": RULES, "surprise": 1}):
        r = owner.put(api.url(f"/deployments/{deployment}/guard"), json=bad)
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", (bad, r.text)
    assert owner.get(api.url(f"/deployments/{deployment}/guard")).json()["enabled"] is False
    guard = _guard_on(api, owner, deployment, windowMinutes=30)
    assert guard["enabled"] is True and guard["rules"] == RULES and guard["minRuns"] == 50
    assert guard["windowMinutes"] == 30
    off = owner.put(api.url(f"/deployments/{deployment}/guard"), json={"enabled": False}).json()
    assert off["enabled"] is False and off["rules"] == []


def test_a_breach_rolls_back_to_the_previous_build_once_however_often_it_is_judged(api, owner, served, published,
                                                                                   monkeypatch):
    from chalicelib.db import guards
    from chalicelib.services.guard import evaluator

    deployment, good, bad = served
    _guard_on(api, owner, deployment)
    worse = _figures(0.02, 0.09)
    stale = guards.find(deployment)  # what a second evaluator read before the first one acted
    acted = evaluator.evaluate(deployment, comparer=worse)
    assert acted["verdict"] == "breached" and acted["headBuildId"] == bad and acted["baseBuildId"] == good
    with monkeypatch.context() as m:  # that evaluator judges the same window: its conditional claim loses
        m.setattr(guards, "find", lambda _id: stale)
        assert evaluator.evaluate(deployment, comparer=worse) is None
    assert evaluator.evaluate(deployment, comparer=worse) is None  # before the rollback switched, too
    api.run_queues()
    assert owner.get(api.url(f"/deployments/{deployment}")).json()["currentBuildId"] == good
    assert evaluator.evaluate(deployment, comparer=worse) is None  # after it: the guard's own rollback is not judged
    api.run_queues()

    deploys = owner.get(api.url(f"/deployments/{deployment}/deploys")).json()["items"]
    rollbacks = [d for d in deploys if d["trigger"] == "rollback"]
    assert len(rollbacks) == 1 and rollbacks[0]["buildId"] == good and rollbacks[0]["status"] == "succeeded"
    assert rollbacks[0]["requestedBy"] == "release-guard" and "errorRate" in rollbacks[0]["reason"]

    guard = owner.get(api.url(f"/deployments/{deployment}/guard")).json()
    last = guard["lastEvaluation"]
    assert last["verdict"] == "breached" and last["baseRuns"] == 200 and last["headRuns"] == 200
    assert last["rollbackDeployId"] == rollbacks[0]["id"] and guard["rejectedBuildIds"] == [bad]
    [error_rule] = [r for r in last["rules"] if r["metric"] == "errorRate"]
    assert error_rule["breached"] and error_rule["base"] == 0.02 and error_rule["head"] == 0.09
    [cost_rule] = [r for r in last["rules"] if r["metric"] == "costPerRunUsd"]
    assert not cost_rule["judged"] and not cost_rule["breached"]  # unpriced: not judged, never read as 0

    events = owner.get(api.url(f"/deployments/{deployment}/events")).json()["items"]
    assert [e["type"] for e in events[:2]] == ["guard", "rollback"]  # the event is written once the rollback is queued
    assert events[0]["evaluation"]["verdict"] == "breached" and events[0]["deployId"] == rollbacks[0]["id"]
    assert events[1]["by"] == "release-guard" and "errorRate" in events[1]["reason"]
    assert [e["type"] for e in events[2:]] == ["deploy", "deploy"]
    page = owner.get(api.url(f"/deployments/{deployment}/events"), params={"limit": "2"}).json()
    rest = owner.get(api.url(f"/deployments/{deployment}/events"), params={"cursor": page["nextCursor"]}).json()
    assert [e["id"] for e in page["items"] + rest["items"]] == [e["id"] for e in events]

    project = owner.get(api.url(f"/deployments/{deployment}")).json()["projectId"]
    guard_messages = [(c, m) for c, m in published if m.get("type") == "guard"]
    assert sorted(c for c, _ in guard_messages) == sorted([f"deployment:{deployment}", f"project:{project}"])
    assert all(m["verdict"] == "breached" for _, m in guard_messages)


def test_while_its_rollback_drains_the_old_server_the_breach_stays_the_last_verdict(api, owner, served):
    """The rollback switched the route but is still running (the bad build's server draining): the
    guard reads its own rollback as the head, not the good build's earlier deploy."""
    from chalicelib.db.models import Deploy
    from chalicelib.services.guard import evaluator

    deployment, good, bad = served
    _guard_on(api, owner, deployment)
    assert evaluator.evaluate(deployment, comparer=_figures(0.02, 0.09))["verdict"] == "breached"
    api.run_queues()
    [rollback] = [d for d in owner.get(api.url(f"/deployments/{deployment}/deploys")).json()["items"]
                  if d["trigger"] == "rollback"]
    Deploy.get(f"DEPLOY#{rollback['id']}", "#META").update(actions=[Deploy.status.set("running")])
    seen = owner.get(api.url(f"/deployments/{deployment}/guard")).json()["evaluations"]
    assert evaluator.evaluate(deployment, comparer=_figures(0.02, 0.09)) is None
    guard = owner.get(api.url(f"/deployments/{deployment}/guard")).json()
    assert guard["lastEvaluation"]["verdict"] == "breached" and guard["lastEvaluation"]["headBuildId"] == bad
    assert guard["evaluations"] == seen + 1  # it looked, and its verdict stands


def test_missing_figures_or_too_few_runs_make_the_guard_wait_and_never_act(api, owner, served):
    from chalicelib.services.guard import evaluator

    deployment, _good, bad = served
    _guard_on(api, owner, deployment)

    def down(*_):
        raise DataUnavailable("ClickHouse is unavailable")

    waited = evaluator.evaluate(deployment, comparer=down)
    assert waited["verdict"] == "waiting" and "ClickHouse is unavailable" in waited["why"]
    few = evaluator.evaluate(deployment, comparer=_figures(0.0, 0.5, runs=10))
    assert few["verdict"] == "waiting" and "10 of 50 runs" in few["why"]
    api.run_queues()
    assert owner.get(api.url(f"/deployments/{deployment}")).json()["currentBuildId"] == bad
    assert not [d for d in owner.get(api.url(f"/deployments/{deployment}/deploys")).json()["items"]
                if d["trigger"] == "rollback"]
    assert owner.get(api.url(f"/deployments/{deployment}/guard")).json()["lastEvaluation"]["verdict"] == "waiting"


def test_a_build_that_is_not_worse_passes_with_its_sample_sizes(api, owner, served):
    from chalicelib.services.guard import evaluator

    deployment, good, bad = served
    _guard_on(api, owner, deployment)
    # 9 points more errors but not significant for these samples: no breach.
    assert evaluator.evaluate(deployment, comparer=_figures(0.02, 0.11, significant=False))["verdict"] == "passed"
    evaluator.evaluate(deployment, comparer=_figures(0.02, 0.021))
    last = owner.get(api.url(f"/deployments/{deployment}/guard")).json()["lastEvaluation"]
    assert last["verdict"] == "passed" and (last["baseRuns"], last["headRuns"]) == (200, 200)
    assert (last["baseBuildId"], last["headBuildId"]) == (good, bad)
    events = owner.get(api.url(f"/deployments/{deployment}/events")).json()["items"]
    assert "guard" not in {e["type"] for e in events}


def test_past_the_window_a_verdict_stands_and_nothing_more_is_judged(api, owner, served):
    from chalicelib.db.models import utcnow
    from chalicelib.services.guard import evaluator

    deployment = served[0]
    _guard_on(api, owner, deployment, windowMinutes=5)
    assert evaluator.evaluate(deployment, comparer=_figures(0.02, 0.02))["verdict"] == "passed"
    later = utcnow() + timedelta(minutes=10)
    assert evaluator.evaluate(deployment, now=later, comparer=_figures(0.02, 0.5)) is None
    api.run_queues()
    assert owner.get(api.url(f"/deployments/{deployment}")).json()["currentBuildId"] == served[2]


def test_a_person_may_deploy_a_rejected_build_again_and_the_guard_leaves_it_alone(api, owner, served):
    from chalicelib.services.guard import evaluator

    deployment, good, bad = served
    _guard_on(api, owner, deployment)
    evaluator.evaluate(deployment, comparer=_figures(0.0, 0.3))
    api.run_queues()
    r = owner.post(api.url(f"/deployments/{deployment}/redeploy"), json={"buildId": bad})
    assert r.status_code == 202, r.text
    api.run_queues()
    again = evaluator.evaluate(deployment, comparer=_figures(0.0, 0.3))
    assert again["verdict"] == "overridden"
    api.run_queues()
    assert owner.get(api.url(f"/deployments/{deployment}")).json()["currentBuildId"] == bad
    assert len([d for d in owner.get(api.url(f"/deployments/{deployment}/deploys")).json()["items"]
                if d["trigger"] == "rollback"]) == 1


def test_checks_after_ingest_are_debounced_per_deployment(api, owner, served, monkeypatch):
    from chalicelib.db.models import utcnow
    from chalicelib.services.guard import evaluator, triggers
    from tests.support.ingest_env import s3_notification
    from tests.support.inprocess import sqs_event

    deployment = served[0]
    judged = []
    monkeypatch.setattr(evaluator, "evaluate", lambda deployment_id, **kw: judged.append(deployment_id))
    assert evaluator.after_ingest([deployment]) == []  # no guard: nothing to check
    _guard_on(api, owner, deployment)
    key = f"observability/spans/team_x/prj_x/{deployment}/0001_a.jsonl"
    event = sqs_event(s3_notification("bucket", key, "etag"), s3_notification("bucket", key.replace("spans", "logs"),
                                                                              "etag"))
    assert triggers.deployments_in(event) == [deployment]
    assert triggers.after_ingest_event(event) == [deployment]
    assert triggers.after_ingest_event(event) == []  # within the interval: no second check
    later = utcnow() + timedelta(seconds=api.settings.guard_interval_seconds + 1)
    assert evaluator.after_ingest([deployment], now=later) == [deployment]
    assert judged == [deployment, deployment]


def test_the_scheduled_sweep_evaluates_every_guard_that_is_on_through_the_shard_queue(api, owner, served, monkeypatch):
    import app as handlers
    from chalicelib.services.guard import evaluator

    deployment = served[0]
    judged = []
    monkeypatch.setattr(evaluator, "evaluate", lambda deployment_id, **kw: judged.append(deployment_id))
    api.drop_messages(api.settings.shard_queue_name)
    handlers.release_guard(SCHEDULED, None)
    assert api.deliver(api.settings.shard_queue_name, handlers.shard_queue_consumer) == 0
    _guard_on(api, owner, deployment)
    handlers.release_guard(SCHEDULED, None)
    assert api.deliver(api.settings.shard_queue_name, handlers.shard_queue_consumer) == 1
    assert judged == [deployment]
    owner.put(api.url(f"/deployments/{deployment}/guard"), json={"enabled": False})
    handlers.release_guard(SCHEDULED, None)
    assert api.deliver(api.settings.shard_queue_name, handlers.shard_queue_consumer) == 0


def test_data_of_a_worse_build_reaching_ingest_rolls_it_back_through_the_real_figures(api, owner, served, team):
    """The whole chain in one process: spans of both builds in one shipped object -> the ingest consumer
    -> its debounced guard check -> the releases figures from chDB -> a breach -> the rollback deploy."""
    import random
    from datetime import datetime, timezone

    from tests.support.observability_records import Scope, trace
    from tests.support.observability_stack import put_records

    deployment, good, bad = served
    project = owner.get(api.url(f"/deployments/{deployment}")).json()["projectId"]
    _guard_on(api, owner, deployment, minRuns=40)
    now = datetime.now(timezone.utc)
    _switched_at(deployment, {good: now - timedelta(minutes=40), bad: now - timedelta(minutes=10)})
    rng = random.Random(17)
    records = []
    for build, failing, start in ((good, 0, now - timedelta(minutes=35)),  # 0 of 50 runs failing, then 25 of 50
                                  (bad, 25, now - timedelta(minutes=8))):
        scope = Scope(team, project, deployment, build_id=build)
        for i in range(50):
            records += trace(scope, start + timedelta(seconds=i), rng, model="gpt-4o-mini", error=i < failing)
    put_records(api, Scope(team, project, deployment), "spans", records)
    assert api.run_ingest() >= 1  # the builds' logs too
    api.run_queues()
    assert owner.get(api.url(f"/deployments/{deployment}")).json()["currentBuildId"] == good
    last = owner.get(api.url(f"/deployments/{deployment}/guard")).json()["lastEvaluation"]
    assert last["verdict"] == "breached" and (last["baseRuns"], last["headRuns"]) == (50, 50)
    [error_rule] = [r for r in last["rules"] if r["metric"] == "errorRate"]
    assert (error_rule["base"], error_rule["head"], error_rule["significant"]) == (0.0, 0.5, True)


# --- what the guard judges: its window ---------------------------------------------------------


def _switched_at(deployment: str, when: dict) -> None:
    """Move the switch to each build (its deploy's healthyAt and finishedAt) into the past."""
    from chalicelib.db import deploys
    from chalicelib.db.models import Deploy

    for d in deploys.list_for_deployment(deployment, 50, None).items:
        if d.build_id in when:
            d.update(actions=[Deploy.healthy_at.set(when[d.build_id]), Deploy.finished_at.set(when[d.build_id])])


def _iso(t) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _intervals(windows: list[dict]) -> list[tuple]:
    from datetime import datetime

    return [(datetime.fromisoformat(w["start"]), datetime.fromisoformat(w["end"])) for w in windows]


def _runs(scope, start, count: int, failing: int, rng) -> list[dict]:
    from tests.support.observability_records import trace

    return [s for i in range(count) for s in trace(scope, start + timedelta(seconds=i), rng, model="gpt-4o-mini",
                                                   error=i < failing)]


def test_the_guard_judges_its_window_of_the_new_build_against_the_last_day_of_the_old_one(api, owner, served, team):
    """Real figures from chDB. Switches: good 30 h ago, bad 2 h ago; a 60-minute window. Only bad's
    runs inside [switch, switch + 60 min) count (so far, while it is open), only good's of its last
    24 hours of serving, and the minimum of runs applies to those counts."""
    import random

    from chalicelib.db.models import utcnow
    from chalicelib.services.guard import evaluator
    from tests.support.observability_records import Scope
    from tests.support.observability_stack import put_records

    deployment, good, bad = served
    project = owner.get(api.url(f"/deployments/{deployment}")).json()["projectId"]
    now = utcnow().replace(microsecond=0)
    good_at, bad_at = now - timedelta(hours=30), now - timedelta(hours=2, minutes=7)
    _switched_at(deployment, {good: good_at, bad: bad_at})
    _guard_on(api, owner, deployment, minRuns=40, windowMinutes=60)
    rng, g, b = random.Random(5), Scope(team, project, deployment, build_id=good), \
        Scope(team, project, deployment, build_id=bad)
    records = (_runs(g, bad_at - timedelta(hours=26), 100, 100, rng)  # served, but before good's last day
               + _runs(g, bad_at - timedelta(minutes=90), 50, 0, rng)  # good's last day: 0 of 50 fail
               + _runs(b, bad_at - timedelta(minutes=10), 20, 20, rng)  # before the switch to bad
               + _runs(b, bad_at + timedelta(minutes=5), 30, 0, rng)  # in the window's first 20 minutes
               + _runs(b, bad_at + timedelta(minutes=40), 30, 15, rng)  # later in the window
               + _runs(b, bad_at + timedelta(minutes=70), 200, 200, rng))  # after the window
    put_records(api, Scope(team, project, deployment), "spans", records)
    api.run_ingest()

    path = f"/deployments/{deployment}/releases/compare"
    everything = owner.get(api.url(path)).json()
    assert (everything["base"]["runs"], everything["head"]["runs"]) == (150, 280)
    assert everything["baseWindows"] is None and everything["headWindows"] is None
    window_end = bad_at + timedelta(minutes=60)
    windowed = owner.get(api.url(path), params={"from": _iso(bad_at), "to": _iso(window_end)})
    assert windowed.status_code == 200, windowed.text
    c = windowed.json()
    assert (c["base"]["runs"], c["base"]["runErrors"]) == (50, 0)
    assert (c["head"]["runs"], c["head"]["runErrors"]) == (60, 15)
    assert _intervals(c["headWindows"]) == [(bad_at, window_end)]
    assert _intervals(c["baseWindows"]) == [(bad_at - timedelta(hours=24), bad_at)]

    open_early = evaluator.evaluate(deployment, now=bad_at + timedelta(minutes=20))
    assert open_early["verdict"] == "waiting" and open_early["headRuns"] == 30 and open_early["baseRuns"] == 50
    assert "30 of 40 runs" in open_early["why"]
    assert _intervals([open_early["headWindow"]]) == [(bad_at, bad_at + timedelta(minutes=20))]
    acted = evaluator.evaluate(deployment, now=bad_at + timedelta(minutes=50))
    assert acted["verdict"] == "breached" and (acted["baseRuns"], acted["headRuns"]) == (50, 60)
    [error_rule] = [r for r in acted["rules"] if r["metric"] == "errorRate"]
    assert (error_rule["base"], error_rule["head"]) == (0.0, 0.25)
    api.run_queues()
    last = owner.get(api.url(f"/deployments/{deployment}/guard")).json()["lastEvaluation"]
    assert _intervals([last["headWindow"]]) == [(bad_at, bad_at + timedelta(minutes=50))]
    assert _intervals(last["baseWindows"]) == [(bad_at - timedelta(hours=24), bad_at)]
    assert owner.get(api.url(f"/deployments/{deployment}")).json()["currentBuildId"] == good


# --- a deleted deployment leaves nothing behind -------------------------------------------------


def _leftovers(deployment: str) -> dict:
    from chalicelib.db import guards, keys
    from chalicelib.db.models import ActiveGuard, BaseItem, GuardEvent

    return {"guard": guards.find(deployment) is not None,
            "marker": deployment in {m.deployment_id for m in ActiveGuard.query(keys.ACTIVE_GUARDS)},
            "events": sum(isinstance(i, GuardEvent) for i in BaseItem.gsi1.query(keys.deployment_deploys(deployment)))}


def test_deleting_a_deployment_removes_its_guard_and_events_and_a_failed_delete_is_retried_whole(
        api, owner, served, monkeypatch):
    from chalicelib.db import deployments
    from chalicelib.errors import Unavailable
    from chalicelib.services.guard import evaluator

    deployment = served[0]
    _guard_on(api, owner, deployment)
    evaluator.evaluate(deployment, comparer=_figures(0.0, 0.3))
    api.run_queues()
    assert _leftovers(deployment) == {"guard": True, "marker": True, "events": 1}

    real_delete = deployments.delete

    def store_down(_deployment):
        raise Unavailable("The state store is unavailable", code="store_unavailable")

    monkeypatch.setattr(deployments, "delete", store_down)
    r = owner.delete(api.url(f"/deployments/{deployment}"))
    assert r.status_code == 503, r.text
    assert owner.get(api.url(f"/deployments/{deployment}")).status_code == 200  # still there: retry it
    monkeypatch.setattr(deployments, "delete", real_delete)
    assert owner.delete(api.url(f"/deployments/{deployment}")).status_code == 204
    assert _leftovers(deployment) == {"guard": False, "marker": False, "events": 0}
    assert owner.get(api.url(f"/deployments/{deployment}/guard")).status_code == 404
    assert owner.delete(api.url(f"/deployments/{deployment}")).status_code == 404  # gone, like any deleted item


def test_an_evaluation_of_a_deleted_deployment_does_nothing_and_recreates_nothing(api, owner, served, monkeypatch):
    """Also the evaluation that read the guard and the deployment just before the delete: its
    conditional writes find no guard, so neither the guard nor an event comes back."""
    from chalicelib.db import deployments, guards
    from chalicelib.services.guard import evaluator

    deployment = served[0]
    _guard_on(api, owner, deployment)
    stale_guard, stale_deployment = guards.find(deployment), deployments.find(deployment)
    assert owner.delete(api.url(f"/deployments/{deployment}")).status_code == 204
    assert evaluator.evaluate(deployment, comparer=_figures(0.0, 0.3)) is None
    assert evaluator.after_ingest([deployment]) == []
    with monkeypatch.context() as m:
        m.setattr(guards, "find", lambda _id: stale_guard)
        m.setattr(deployments, "find", lambda _id: stale_deployment)
        assert evaluator.evaluate(deployment, comparer=_figures(0.0, 0.02)) is None  # would pass: not recorded
        assert evaluator.evaluate(deployment, comparer=_figures(0.0, 0.3)) is None  # would breach: no claim
    api.run_queues()
    assert _leftovers(deployment) == {"guard": False, "marker": False, "events": 0}


def test_deleting_a_project_removes_the_guards_of_its_deployments(api, owner, served):
    deployment = served[0]
    _guard_on(api, owner, deployment)
    project = owner.get(api.url(f"/deployments/{deployment}")).json()["projectId"]
    assert owner.delete(api.url(f"/projects/{project}")).status_code == 204
    assert _leftovers(deployment) == {"guard": False, "marker": False, "events": 0}


def test_a_rolled_back_pull_request_build_gets_a_failed_status_and_its_comment_says_so(api, owner, served):
    import json

    from chalicelib.db import keys
    from chalicelib.db.models import Build
    from chalicelib.services.guard import evaluator

    deployment, good, bad = served
    sha = "ab12cd3" + "0" * 33
    Build.get(keys.build(bad), keys.META).update(actions=[Build.github.set(
        {"sha": sha, "installationId": "41", "repository": "acme/agent", "pull": 12})])
    queue = api.settings.github_writes_queue_name
    api.drop_messages(queue)
    _guard_on(api, owner, deployment)
    evaluator.evaluate(deployment, comparer=_figures(0.0, 0.3))
    sqs, url = api.aws("sqs"), api.queue_url(queue)
    writes = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                                                 WaitTimeSeconds=0).get("Messages", [])]
    [status] = [w for w in writes if w["kind"] == "status"]
    assert (status["sha"], status["state"], status["context"]) == (sha, "failure", "mastra-admin/release-guard")
    assert status["description"].startswith("Rolled back: errorRate")
    [comment] = [w for w in writes if w["kind"] == "comment"]
    assert comment["number"] == 12 and "Rolled back by the release guard" in comment["body"]
    assert f"serves build `{good}` again" in comment["body"]
    api.drop_messages(queue)
    api.run_queues()
