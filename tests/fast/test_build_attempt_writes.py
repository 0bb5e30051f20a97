"""The build worker's claim, one conditional UpdateItem against (moto's) DynamoDB: of the workers
that receive a build's message (duplicated, redelivered) one takes it, and what is not queued is
refused with the reason."""
from __future__ import annotations

import pytest


@pytest.fixture
def build_id(api, owner, tmp_path):
    team = owner.get(api.url("/teams")).json()["items"][0]["id"]
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "package.json").write_text('{"name": "tiny"}')
    r = owner.post(api.url(f"/teams/{team}/projects"),
                   json={"name": "tiny", "source": {"type": "local", "path": str(tmp_path / "src")}})
    r = owner.post(api.url(f"/projects/{r.json()['id']}/deployments"), json={"type": "production"})
    r = owner.post(api.url(f"/deployments/{r.json()['id']}/builds"), json={})
    assert r.status_code == 202, r.text
    return r.json()["id"]


def test_of_repeated_claims_only_the_first_takes_the_build_and_it_stays_on_the_reapers_list(api, owner, build_id):
    # In sequence: moto's DynamoDB does not make a conditional write atomic against another thread's,
    # so what is checked is the condition (status is queued), which DynamoDB itself applies atomically.
    from chalicelib.db import builds as store

    results = [store.claim(build_id, 60, runner="local", reason=None) for _ in range(4)]
    claimed = [build for build, _ in results if build is not None]
    assert len(claimed) == 1 and sorted(why for _, why in results if why) == ["skipped (building)"] * 3
    assert claimed[0].status == "building" and claimed[0].attempt == 1 and claimed[0].runner == "local"
    assert claimed[0].lease_expires_at is not None and claimed[0].deployment_id  # the whole item came back
    seen = owner.get(api.url(f"/builds/{build_id}")).json()
    assert seen["status"] == "building" and seen["attempt"] == 1
    assert build_id in set(store.active_ids())


def test_a_claim_refuses_what_is_not_queued_and_a_requeued_build_is_its_next_attempt(api, owner, build_id):
    from chalicelib.db import builds as store

    assert store.claim("bld_" + "0" * 26, 60) == (None, "missing")
    first, _ = store.claim(build_id, 60)
    assert store.transition(build_id, ("building",), "queued", expect_attempt=1) is not None  # the reaper re-queues
    second, why = store.claim(build_id, 60)
    assert why is None and (first.attempt, second.attempt) == (1, 2)
    assert second.version > first.version  # versioned writers that read the first claim now conflict
    assert owner.post(api.url(f"/builds/{build_id}/cancel")).status_code == 200
    assert store.claim(build_id, 60) == (None, "skipped (cancelled)")


def _stored_log(api, build_id: str) -> list[str]:
    from chalicelib.aws import client

    body = client("s3").get_object(Bucket=api.settings.bucket_name, Key=f"builds/{build_id}/build.log")["Body"]
    return body.read().decode().splitlines()


def test_a_finished_build_records_its_result_with_its_whole_log_and_leaves_the_reapers_list(api, owner, build_id):
    from chalicelib.db import builds as store

    api.run_builds()
    build = owner.get(api.url(f"/builds/{build_id}")).json()
    lines = owner.get(api.url(f"/builds/{build_id}/logs")).json()["lines"]
    assert build["status"] == "succeeded" and lines[-1].endswith(" build succeeded")  # the last chunk, with the result
    assert build["logLines"] == len(lines) and _stored_log(api, build_id) == lines
    assert build_id not in set(store.active_ids())


def test_a_build_cancelled_while_it_ran_stays_cancelled_and_keeps_its_whole_log(api, owner, build_id, monkeypatch):
    from chalicelib.db import builds as store

    ran = api.builds.run

    def cancelled_meanwhile(job, log, cancel):
        outcome = ran(job, log, cancel)
        # the cancel's own write (the fake runner has nothing to stop), before the attempt records its result
        assert store.transition(build_id, store.ACTIVE, "cancelled", reason="cancelled by a test") is not None
        return outcome

    monkeypatch.setattr(api.builds, "run", cancelled_meanwhile)
    api.run_builds()
    build = owner.get(api.url(f"/builds/{build_id}")).json()
    lines = owner.get(api.url(f"/builds/{build_id}/logs")).json()["lines"]
    assert build["status"] == "cancelled" and lines[-1].endswith(" build succeeded")  # what the attempt saw
    assert build["logLines"] == len(lines) and _stored_log(api, build_id) == lines
    assert build_id not in set(store.active_ids())


def test_a_build_claims_in_one_write_and_records_its_result_in_one_transaction(api, build_id, tmp_path, monkeypatch):
    """As the steps recorder counts them (what bench/build_queue.py prints): the AWS calls of each step."""
    from botocore.client import BaseClient

    from chalicelib.services.builds import steps

    monkeypatch.setattr(BaseClient, "_make_api_call", BaseClient._make_api_call)  # the counter, undone after
    monkeypatch.setattr(steps, "_path", None)
    monkeypatch.setattr(steps, "_configured", True)
    steps.enable(tmp_path / "steps.jsonl")
    api.run_builds()
    recorded = {s["step"]: s for s in steps.read(tmp_path / "steps.jsonl") if s["build"] == build_id}
    assert recorded["claim"]["calls"] == {"dynamodb.UpdateItem": 1}
    assert recorded["record: log"]["calls"] == {"s3.PutObject": 1}  # the whole log, not read back
    assert recorded["record: status"]["calls"] == {"dynamodb.TransactWriteItems": 1}
    assert {"setup", "fetch", "after: publish", "log flushes (background)"} <= set(recorded)
    assert all(s["end"] >= s["start"] for s in recorded.values())
