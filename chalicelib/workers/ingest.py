"""Ingest worker: S3 ObjectCreated -> SQS -> this handler -> ClickHouse.

Each SQS record is one S3 notification (possibly several S3 records). The per-record function
ingests every object it names (chalicelib/services/observability/ingest.py); a failure (ClickHouse
or S3 unavailable) fails that SQS record only, so SQS redelivers it, and after `maxReceiveCount`
receives the dead-letter queue keeps it. Redrive, once the cause is fixed:

    python -m chalicelib.workers.ingest redrive          (DLQ -> ingest queue; also `make redrive-ingest`)

In AWS, `aws sqs start-message-move-task --source-arn <ingest DLQ arn>` does the same.
`s3:TestEvent` messages (sent when a notification is configured) are acknowledged and skipped.
"""
from __future__ import annotations

import functools
import json
import sys
from typing import Any
from urllib.parse import unquote_plus

from chalicelib.control_plane_log import logger
from chalicelib.services.observability.ingest import Ingestor, IngestResult, S3Object
from chalicelib.workers.sqs_batch import process_batch


class MalformedMessage(Exception):
    """The SQS body is not an S3 notification; poison: it goes to the DLQ after its retries."""


def objects_in(body: str) -> list[S3Object]:
    try:
        message = json.loads(body)
    except ValueError as e:
        raise MalformedMessage("SQS body is not JSON") from e
    if not isinstance(message, dict):
        raise MalformedMessage("SQS body is not an object")
    if message.get("Event") == "s3:TestEvent":
        return []
    objects = []
    for record in message.get("Records") or []:
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record.get("s3") or {}
        try:
            bucket, obj = s3["bucket"]["name"], s3["object"]
            objects.append(S3Object(bucket=bucket, key=unquote_plus(obj["key"]), etag=str(obj.get("eTag") or "").strip('"'),
                                    size=int(obj.get("size") or 0)))
        except (KeyError, TypeError) as e:
            raise MalformedMessage("S3 record without bucket or object") from e
    return objects


@functools.lru_cache(maxsize=1)
def default_ingestor() -> Ingestor:
    from chalicelib.analytics.writer import get_writer
    from chalicelib.aws import client
    from chalicelib.settings import get_settings

    settings = get_settings()
    return Ingestor(client("s3"), get_writer(), chunk_bytes=settings.ingest_chunk_mb << 20,
                    tmp_dir=settings.ingest_tmp_dir or None, insert_workers=settings.ingest_insert_workers)


Outcomes = dict  # source key -> IngestResult | Exception, from Ingestor.ingest_batch


def record_handler(record: Any, ingestor: Ingestor | None = None, outcomes: Outcomes | None = None) -> list[IngestResult]:
    """One SQS record (a powertools SQSRecord): ingest every object it names, or fail as a whole.
    An object the batch already took (`outcomes`) is not taken again: its outcome is reused."""
    ingestor = ingestor or default_ingestor()
    results = []
    for obj in objects_in(record.body):
        outcome = (outcomes or {}).get(obj.source_key)
        if isinstance(outcome, Exception):
            raise outcome
        results.append(outcome or ingestor.ingest(obj))
    return results


def batch_objects(event: dict) -> list[S3Object]:
    """Every object the batch's well-formed messages name (a malformed one fails in its record)."""
    objects = []
    for record in event.get("Records") or []:
        try:
            objects.extend(objects_in(record.get("body") or ""))
        except MalformedMessage:
            continue
    return objects


def handle(event: dict, context: Any = None, ingestor: Ingestor | None = None) -> dict:
    """A Lambda SQS event in, `{"batchItemFailures": [...]}` out (powertools raises if all fail).
    The batch's objects are ingested together first; each record then reports its objects' outcome."""
    ingestor = ingestor or default_ingestor()
    outcomes = ingestor.ingest_batch(batch_objects(event))
    return process_batch(event, context, functools.partial(record_handler, ingestor=ingestor, outcomes=outcomes))


def redrive(max_messages: int = 100_000) -> int:
    """Move every message from the ingest DLQ back to the ingest queue; returns how many moved."""
    from chalicelib.aws import client
    from chalicelib.settings import get_settings

    sqs, settings = client("sqs"), get_settings()
    source = sqs.get_queue_url(QueueName=settings.ingest_queue_name + "-dlq")["QueueUrl"]
    target = sqs.get_queue_url(QueueName=settings.ingest_queue_name)["QueueUrl"]
    moved = 0
    while moved < max_messages:
        batch = sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if not batch:
            break
        for message in batch:
            sqs.send_message(QueueUrl=target, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=source, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    logger.info("ingest DLQ redriven", extra={"moved": moved})
    return moved


def main(argv: list[str]) -> int:
    if argv[:1] != ["redrive"]:
        print("usage: python -m chalicelib.workers.ingest redrive", file=sys.stderr)
        return 2
    print(f"redrove {redrive()} message(s) from the ingest DLQ")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
