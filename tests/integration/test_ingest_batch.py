"""The objects of one SQS batch go into ClickHouse together, and each still goes in exactly once.

A deployed server now ships a small file every few seconds per kind; the ingest worker takes a
batch of those notifications as one insert per table and scope (chDB in this process, moto server
for S3), with the ledger kept per object.
"""
from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest

from tests.integration.test_ingest import NOW, env, scope  # noqa: F401  (env: the module's fixture)
from tests.support.ingest_env import BUCKET, down_writer, s3_notification
from tests.support.inprocess import sqs_event
from tests.support.observability_records import Scope, jsonl, log, trace


def small_objects(env, s: Scope, n: int, seed: int) -> list[tuple[str, str, int]]:
    """n span files of one server, one trace each: (key, etag, spans in it)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        records = trace(s, NOW + timedelta(minutes=i), rng)
        key = s.s3_key("spans", f"20261127T000000Z_{seed}_{i}.jsonl")
        out.append((key, env.put(key, jsonl(records)), len(records)))
    return out


def notifications(objects) -> list[str]:
    return [s3_notification(BUCKET, key, etag) for key, etag, _ in objects]


def raw_spans(env, s: Scope) -> int:
    return env.count("SELECT count() FROM spans WHERE team_id = {t:String}", t=s.team_id)


def rollup_traces(env, s: Scope) -> int:
    return env.count("SELECT countMerge(calls) FROM span_rollup_hourly WHERE team_id = {t:String} "
                     "AND family = 'trace'", t=s.team_id)


def ledger(env, keys) -> dict[str, tuple]:
    rows = env.client.query("SELECT key, lines, ingested, quarantined FROM ingested_objects FINAL "
                            "WHERE key IN {k:Array(String)}", parameters={"k": list(keys)}).result_rows
    return {k: (lines, ingested, quarantined) for k, lines, ingested, quarantined in rows}


class CountingWriter:
    """The real chDB writer, counting the INSERT statements that reach the engine per table."""

    def __init__(self, env):
        self.real, self.inserts = env.writer, []
        outer = self

        class Client:
            def __getattr__(self, name):
                return getattr(env.client, name)

            def command(self, sql, *args, **kwargs):
                if sql.startswith("INSERT INTO"):
                    outer.inserts.append(sql.split()[2])
                return env.client.command(sql, *args, **kwargs)

            def insert(self, table, *args, **kwargs):
                outer.inserts.append(table)
                return env.client.insert(table, *args, **kwargs)

        from chalicelib.analytics.writer import Writer

        self.writer = Writer(Client(), "chdb")


def handle(env, bodies, writer=None):
    from chalicelib.workers import ingest

    return ingest.handle(sqs_event(*bodies), ingestor=env.ingestor(writer=writer))


def test_a_batch_of_small_objects_is_one_insert_and_one_ledger_insert_with_a_row_per_object(env):
    s = scope("batch10")
    objects = small_objects(env, s, 10, seed=1)
    counting = CountingWriter(env)

    assert handle(env, notifications(objects), counting.writer) == {"batchItemFailures": []}

    assert counting.inserts == ["spans", "ingested_objects"], "ten objects, one insert of rows"
    assert raw_spans(env, s) == sum(n for _, _, n in objects)
    assert rollup_traces(env, s) == 10
    assert ledger(env, [k for k, _, _ in objects]) == {k: (n, n, 0) for k, _, n in objects}
    source_keys = {r[0] for r in env.client.query(
        "SELECT DISTINCT source_key FROM spans WHERE team_id = {t:String}", parameters={"t": s.team_id}).result_rows}
    assert source_keys == {f"{BUCKET}/{k}@{e}" for k, e, _ in objects}, "each row names its own object"


def test_objects_of_other_kinds_and_servers_in_the_batch_go_to_their_own_tables(env):
    a, b = scope("mixa"), scope("mixb")
    spans_a, spans_b = small_objects(env, a, 2, seed=2), small_objects(env, b, 2, seed=3)
    log_key = a.s3_key("logs", "20261127T000000Z_logs.jsonl")
    log_etag = env.put(log_key, jsonl([log(a, NOW, "info", f"line {i}") for i in range(5)]))
    counting = CountingWriter(env)

    bodies = notifications(spans_a + spans_b) + [s3_notification(BUCKET, log_key, log_etag)]
    assert handle(env, bodies, counting.writer) == {"batchItemFailures": []}

    # One insert per table and server; the lone log file goes as it always did (rows, then its ledger row).
    assert sorted(counting.inserts) == ["ingested_objects"] * 3 + ["logs", "spans", "spans"]
    assert raw_spans(env, a) == sum(n for _, _, n in spans_a) and raw_spans(env, b) == sum(n for _, _, n in spans_b)
    assert env.count("SELECT count() FROM logs WHERE team_id = {t:String}", t=a.team_id) == 5


def test_an_object_redelivered_in_another_batch_after_a_lost_ledger_write_is_not_inserted_twice(env):
    s = scope("rebatch")
    first, second, third = small_objects(env, s, 3, seed=4)
    assert handle(env, notifications([first, second])) == {"batchItemFailures": []}
    env.client.command("DELETE FROM ingested_objects WHERE key IN {k:Array(String)}",
                       parameters={"k": [first[0], second[0]]})  # as if the batch died before its ledger

    assert handle(env, notifications([first, third])) == {"batchItemFailures": []}  # another batch, another token
    assert handle(env, notifications([second])) == {"batchItemFailures": []}  # and one alone

    assert raw_spans(env, s) == first[2] + second[2] + third[2], "no row twice, even before merges"
    assert rollup_traces(env, s) == 3
    assert ledger(env, [first[0], second[0], third[0]]) == {k: (n, n, 0) for k, _, n in (first, second, third)}


def test_a_batch_that_meets_a_dead_engine_records_nothing_and_its_redelivery_stores_each_object_once(env):
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    s = scope("batchdown")
    objects = small_objects(env, s, 4, seed=5)
    state = {"down": True}
    with pytest.raises(BatchProcessingError):  # every record failed: SQS keeps them all
        handle(env, notifications(objects), down_writer(env, state))
    assert raw_spans(env, s) == 0 and ledger(env, [k for k, _, _ in objects]) == {}

    state["down"] = False
    assert handle(env, notifications(objects), down_writer(env, state)) == {"batchItemFailures": []}
    assert raw_spans(env, s) == sum(n for _, _, n in objects)
    assert rollup_traces(env, s) == 4


def test_bad_lines_in_one_object_of_a_batch_are_quarantined_and_hold_back_no_other(env):
    s = scope("batchbad")
    good = small_objects(env, s, 2, seed=6)
    records = trace(s, NOW, random.Random(7))
    lines = [json.dumps(r) for r in records]
    lines[1] = "not json at all"
    bad_key = s.s3_key("spans", "20261127T000000Z_bad.jsonl")
    bad_etag = env.put(bad_key, ("\n".join(lines) + "\n").encode())

    bodies = notifications(good) + [s3_notification(BUCKET, bad_key, bad_etag)]
    assert handle(env, bodies) == {"batchItemFailures": []}

    assert raw_spans(env, s) == sum(n for _, _, n in good) + len(records) - 1
    quarantined = [json.loads(x) for x in env.s3.get_object(
        Bucket=BUCKET, Key="quarantine/" + bad_key)["Body"].read().splitlines()]
    assert [q["line"] for q in quarantined] == [2]
    assert ledger(env, [bad_key])[bad_key] == (len(records), len(records) - 1, 1)
