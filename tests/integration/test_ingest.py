"""The ingest worker against moto server (S3, SQS) and chDB in this process, invoked with SQS events."""
from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

import pytest

from tests.support.ingest_env import BUCKET, down_writer, ingest_env, s3_notification
from tests.support.inprocess import sqs_event
from tests.support.observability_records import Scope, jsonl, log, trace

NOW = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)


@pytest.fixture(scope="module")
def env():
    return ingest_env()


def scope(tag: str) -> Scope:
    return Scope(f"team_{tag}", f"prj_{tag}", f"dep_{tag}")


def traces(s: Scope, n: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    return [r for i in range(n) for r in trace(s, NOW + timedelta(minutes=i), rng)]


def handle(env, *bodies, ingestor=None):
    from chalicelib.workers import ingest

    return ingest.handle(sqs_event(*bodies), ingestor=ingestor or env.ingestor())


def spans_of(env, s: Scope) -> int:
    return env.count("SELECT count() FROM spans FINAL WHERE team_id = {t:String}", t=s.team_id)


def rollup_calls(env, s: Scope) -> int:
    return env.count("SELECT countMerge(calls) FROM span_rollup_hourly WHERE team_id = {t:String}", t=s.team_id)


def test_same_object_delivered_three_times_is_stored_once(env):
    s = scope("dup3")
    records = traces(s, 5)
    key = s.s3_key("spans")
    etag = env.put(key, jsonl(records))
    body = s3_notification(BUCKET, key, etag)

    result = handle(env, body, body, body)  # three deliveries in one batch, unique message ids
    assert result == {"batchItemFailures": []}
    assert handle(env, body) == {"batchItemFailures": []}  # and a fourth, later

    assert spans_of(env, s) == len(records)
    raw = env.count("SELECT count() FROM spans WHERE team_id = {t:String}", t=s.team_id)
    assert raw == len(records), "no duplicate row even before merges"
    assert rollup_calls(env, s) == 5 + 10  # 5 traces + 10 model generations, each counted once


def test_retry_after_a_crash_between_insert_and_ledger_writes_nothing_twice(env):
    s = scope("crash")
    records = traces(s, 3)
    key = s.s3_key("spans")
    etag = env.put(key, jsonl(records))
    ingestor = env.ingestor(chunk_bytes=2048)  # several chunks
    from chalicelib.services.observability.ingest import S3Object

    obj = S3Object(BUCKET, key, etag)
    ingestor.ingest(obj)
    env.client.command("DELETE FROM ingested_objects WHERE key = {k:String}", parameters={"k": key})
    result = ingestor.ingest(obj)  # as if the ledger write had been lost
    assert result.status == "ingested" and result.ingested == len(records)
    assert env.count("SELECT count() FROM spans WHERE team_id = {t:String}", t=s.team_id) == len(records)
    assert rollup_calls(env, s) == 3 + 6


def test_ten_percent_malformed_lines_are_quarantined_with_reasons_and_the_rest_ingested(env):
    s = scope("bad10")
    records = traces(s, 10)[:50]
    lines = [json.dumps(r) for r in records]
    bad = {
        3: '{"schemaVersion": 1, "kind": "span", "recordId": "trunc',  # cut mid-string
        9: "not json at all",
        14: json.dumps({**records[14], "teamId": "team_other"}),  # another team's data
        20: json.dumps({k: v for k, v in records[20].items() if k != "traceId"}),
        27: json.dumps({**records[27], "startTime": "yesterday"}),
    }
    for i, text in bad.items():
        lines[i] = text
    lines.insert(30, "")  # a blank line is neither ingested nor quarantined
    body = ("\n".join(lines) + "\n").encode()
    key = s.s3_key("spans")
    etag = env.put(key, body)

    assert handle(env, s3_notification(BUCKET, key, etag)) == {"batchItemFailures": []}

    assert spans_of(env, s) == 50 - len(bad)
    quarantined = [json.loads(x) for x in env.s3.get_object(
        Bucket=BUCKET, Key="quarantine/" + key)["Body"].read().splitlines()]
    assert [q["line"] for q in quarantined] == [i + 1 for i in sorted(bad)]
    reasons = {q["line"]: q["reason"] for q in quarantined}
    assert "not valid JSON" in reasons[4] and "not valid JSON" in reasons[10]
    assert "does not match the object's key" in reasons[15]
    assert "missing required field traceId" in reasons[21]
    assert "startTime" in reasons[28]
    ledger = env.client.query("SELECT lines, ingested, quarantined FROM ingested_objects FINAL WHERE key = {k:String}",
                              parameters={"k": key}).result_rows
    assert ledger == [(50, 45, 5)]


def test_line_numbers_hold_across_chunks(env):
    s = scope("chunks")
    records = traces(s, 12)
    lines = [json.dumps(r) for r in records]
    lines[40] = "{oops"
    key = s.s3_key("spans")
    etag = env.put(key, ("\n".join(lines) + "\n").encode())
    handle(env, s3_notification(BUCKET, key, etag), ingestor=env.ingestor(chunk_bytes=4096))
    assert spans_of(env, s) == len(records) - 1
    q = env.s3.get_object(Bucket=BUCKET, Key="quarantine/" + key)["Body"].read().splitlines()
    assert [json.loads(x)["line"] for x in q] == [41]


def test_clickhouse_down_fails_the_record_and_a_retry_loses_nothing(env):
    s = scope("down")
    records = traces(s, 4)
    key = s.s3_key("spans")
    etag = env.put(key, jsonl(records))
    body = s3_notification(BUCKET, key, etag)
    state = {"down": True}
    flaky = env.ingestor(writer=down_writer(env, state))
    from chalicelib.workers import ingest

    ok_key = scope("downok").s3_key("spans")
    ok_body = s3_notification(BUCKET, ok_key, env.put(ok_key, jsonl(traces(scope("downok"), 1))))
    event = sqs_event(body, ok_body)
    state_calls = {"n": 0}

    def record_handler(record, ingestor=None):
        state_calls["n"] += 1
        state["down"] = record.body == body  # only the first record meets a dead engine
        return ingest.record_handler(record, ingestor=flaky)

    from chalicelib.workers.sqs_batch import process_batch

    result = process_batch(event, None, record_handler)
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert spans_of(env, s) == 0

    state["down"] = False  # the engine is back; SQS redelivers the failed message
    assert ingest.handle(sqs_event(body), ingestor=flaky) == {"batchItemFailures": []}
    assert spans_of(env, s) == len(records)
    assert rollup_calls(env, s) == 4 + 8


def test_when_every_record_fails_the_whole_batch_fails(env):
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    s = scope("alldown")
    key = s.s3_key("spans")
    body = s3_notification(BUCKET, key, env.put(key, jsonl(traces(s, 1))))
    from chalicelib.workers import ingest

    with pytest.raises(BatchProcessingError):
        ingest.handle(sqs_event(body), ingestor=env.ingestor(writer=down_writer(env, {"down": True})))


def test_s3_test_events_and_foreign_keys_are_acknowledged_and_skipped(env):
    test_event = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET})
    foreign = s3_notification(BUCKET, "artifacts/bld_1/artifact.tgz", "abc")
    assert handle(env, test_event, foreign) == {"batchItemFailures": []}


def test_a_poison_message_fails_only_its_record(env):
    event_ok = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})
    from chalicelib.workers import ingest

    event = sqs_event("not json", event_ok)
    result = ingest.handle(event, ingestor=env.ingestor())
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


def test_a_key_outside_the_layout_is_quarantined_as_a_whole(env):
    key = "observability/traces/team_x/prj_x/dep_x/f.jsonl"  # unknown kind
    etag = env.put(key, b"{}\n")
    assert handle(env, s3_notification(BUCKET, key, etag)) == {"batchItemFailures": []}
    entry = json.loads(env.s3.get_object(Bucket=BUCKET, Key="quarantine/" + key)["Body"].read())
    assert entry["line"] is None and "unknown kind" in entry["reason"]


def test_logs_metrics_and_scores_land_in_their_tables(env):
    from tests.support.observability_records import metric, score

    s = scope("kinds")
    for kind, recs in (("logs", [log(s, NOW, "info", "weather tool called", trace_id="t1"),
                                 log(s, NOW, "error", "upstream timeout")]),
                       ("metrics", [metric(s, NOW, "http.requests", 3)]),
                       ("scores", [score(s, NOW, "t1", "relevance", 0.8, "on topic")])):
        key = s.s3_key(kind)
        assert handle(env, s3_notification(BUCKET, key, env.put(key, jsonl(recs)))) == {"batchItemFailures": []}
    assert env.count("SELECT count() FROM logs WHERE team_id = {t:String}", t=s.team_id) == 2
    assert env.count("SELECT count() FROM metrics WHERE team_id = {t:String}", t=s.team_id) == 1
    assert env.count("SELECT count() FROM scores WHERE team_id = {t:String}", t=s.team_id) == 1


def test_build_log_is_ingested_with_line_numbers_and_bad_lines_quarantined(env):
    key = "builds/bld_test1/build.log"
    text = ("2026-11-23T12:00:00.001Z $ npm ci\n"
            "2026-11-23T12:00:05.120Z added 412 packages\n"
            "\n"
            "no timestamp here\n"
            "2026-11-23T12:00:09.999Z build finished\n")
    etag = env.put(key, text.encode(), {"team-id": "team_bl", "project-id": "prj_bl", "deployment-id": "dep_bl"})
    assert handle(env, s3_notification(BUCKET, key, etag)) == {"batchItemFailures": []}
    rows = env.client.query("SELECT line_no, message FROM build_logs WHERE build_id = 'bld_test1' ORDER BY line_no"
                            ).result_rows
    assert rows == [(1, "$ npm ci"), (2, "added 412 packages"), (5, "build finished")]
    q = [json.loads(x) for x in env.s3.get_object(Bucket=BUCKET, Key="quarantine/" + key)["Body"].read().splitlines()]
    assert [e["line"] for e in q] == [4]


def test_build_log_without_metadata_is_quarantined(env):
    key = "builds/bld_nometa/build.log"
    etag = env.put(key, b"2026-11-23T12:00:00.001Z hello\n")
    assert handle(env, s3_notification(BUCKET, key, etag)) == {"batchItemFailures": []}
    entry = json.loads(env.s3.get_object(Bucket=BUCKET, Key="quarantine/" + key)["Body"].read())
    assert "metadata" in entry["reason"]
    assert env.count("SELECT count() FROM build_logs WHERE build_id = 'bld_nometa'") == 0


def test_redrive_moves_dead_letters_back_to_the_ingest_queue(env, monkeypatch):
    from chalicelib import aws
    from chalicelib.settings import get_settings
    from chalicelib.workers import ingest

    monkeypatch.setenv("MA_AWS_ENDPOINT_URL", env.moto_url)
    monkeypatch.setenv("MA_INGEST_QUEUE", "redrive-test-ingest")
    get_settings.cache_clear()
    aws.client.cache_clear()
    try:
        dlq = env.sqs.create_queue(QueueName="redrive-test-ingest-dlq")["QueueUrl"]
        main = env.sqs.create_queue(QueueName="redrive-test-ingest")["QueueUrl"]
        for i in range(3):
            env.sqs.send_message(QueueUrl=dlq, MessageBody=f"m{i}")
        assert ingest.redrive() == 3
        got = env.sqs.receive_message(QueueUrl=main, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
        assert sorted(m["Body"] for m in got) == ["m0", "m1", "m2"]
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        aws.client.cache_clear()


def test_s3_failing_mid_object_fails_the_record_and_the_retry_writes_each_row_once(env):
    """The reader thread dies after the first chunk was inserted; the redelivery cuts the object
    the same way, so the first chunk's token dedups it and nothing is counted twice."""
    s = scope("midread")
    records = traces(s, 20)
    key = s.s3_key("spans")
    etag = env.put(key, jsonl(records))
    body = s3_notification(BUCKET, key, etag)

    class BrokenBody:
        def __init__(self, real, after):
            self.real, self.left = real, after

        def read(self, n):
            if self.left <= 0:
                raise ConnectionResetError("S3 connection reset (test)")
            piece = self.real.read(min(n, self.left))
            self.left -= len(piece)
            return piece

        def close(self):
            self.real.close()

    class BreakingS3:
        def __getattr__(self, name):
            return getattr(env.s3, name)

        def get_object(self, **kwargs):
            response = env.s3.get_object(**kwargs)
            return {**response, "Body": BrokenBody(response["Body"], 9000)}

    from chalicelib.errors import Unavailable
    from chalicelib.services.observability.ingest import Ingestor, S3Object

    with pytest.raises(Unavailable):  # the SQS record fails and is redelivered
        Ingestor(BreakingS3(), env.writer, chunk_bytes=4096).ingest(S3Object(BUCKET, key, etag))
    assert 0 < spans_of(env, s) < len(records), "some chunks made it before the failure"

    assert handle(env, body, ingestor=env.ingestor(chunk_bytes=4096)) == {"batchItemFailures": []}
    raw = env.count("SELECT count() FROM spans WHERE team_id = {t:String}", t=s.team_id)
    assert raw == len(records), "no row written twice, even before merges"
    assert rollup_calls(env, s) == 20 + 40
    ledger = env.client.query("SELECT lines, ingested, quarantined FROM ingested_objects FINAL WHERE key = {k:String}",
                              parameters={"k": key}).result_rows
    assert ledger == [(len(records), len(records), 0)]


def test_empty_lines_are_not_records_and_quarantine_nothing(env):
    s = scope("blank")
    records = traces(s, 2)
    body = b"\n" + b"\n\n".join(json.dumps(r).encode() for r in records) + b"\n\n"
    key = s.s3_key("spans")
    assert handle(env, s3_notification(BUCKET, key, env.put(key, body))) == {"batchItemFailures": []}
    assert spans_of(env, s) == len(records)
    ledger = env.client.query("SELECT lines, ingested, quarantined FROM ingested_objects FINAL WHERE key = {k:String}",
                              parameters={"k": key}).result_rows
    assert ledger == [(len(records), len(records), 0)]
