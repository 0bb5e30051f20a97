"""The local stand-in for Lambda's SQS event source mapping.

A `QueuePump` polls one real (moto) SQS queue and invokes the same Chalice `on_sqs_message`
handler AWS would, with an SQS-shaped Lambda event. As in AWS with ReportBatchItemFailures:
messages the handler reports in `batchItemFailures` (or every message, if it raises) are left on
the queue, to reappear after the queue's visibility timeout and move to the DLQ after
maxReceiveCount; the rest are deleted. Each message keeps its real SQS MessageId, so handlers
keyed on it see the same ids they would in AWS.
"""
from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

Handler = Callable[[dict, Any], Any]


@dataclass
class LambdaContext:
    """The attributes powertools and Chalice read from a Lambda context."""
    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:local"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    deadline_ms: float = 0.0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self.deadline_ms - time.time() * 1000))


def sqs_event(queue_arn: str, region: str, messages: list[dict]) -> dict:
    return {"Records": [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m.get("Attributes", {}),
            "messageAttributes": m.get("MessageAttributes", {}),
            "md5OfBody": m.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": region,
        }
        for m in messages
    ]}


def failed_ids(result: Any) -> set[str]:
    if not isinstance(result, dict):
        return set()
    return {f["itemIdentifier"] for f in result.get("batchItemFailures") or [] if "itemIdentifier" in f}


class QueuePump:
    """Polls `queue_name` and runs `handler` on up to `concurrency` batches at a time."""

    def __init__(self, sqs, queue_name: str, handler: Handler, *, region: str, batch_size: int = 10,
                 concurrency: int = 1, timeout_seconds: float = 900, on_error: Callable[[str], None] = print):
        self.sqs = sqs
        self.queue_name = queue_name
        self.handler = handler
        self.region = region
        self.batch_size = batch_size
        self.timeout_seconds = timeout_seconds
        self.on_error = on_error
        self._slots = threading.Semaphore(concurrency)
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=f"pump-{queue_name}")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.queue_url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        self.queue_arn = sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def start(self) -> "QueuePump":
        self._thread = threading.Thread(target=self._run, name=f"pump-{self.queue_name}", daemon=True)
        self._thread.start()
        return self

    def stop(self, wait: bool = False) -> None:
        self._stop.set()
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=0.5):
                continue
            try:
                messages = self.sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size, WaitTimeSeconds=1,
                    AttributeNames=["All"], MessageAttributeNames=["All"],
                ).get("Messages", [])
            except Exception as exc:  # moto restarting: keep polling, as the event source mapping does
                self._slots.release()
                self.on_error(f"receive from {self.queue_name} failed: {exc}")
                self._stop.wait(1.0)
                continue
            if not messages:
                self._slots.release()
                continue
            try:
                self._pool.submit(self._invoke, messages)
            except RuntimeError:  # pool shut down while stopping
                self._slots.release()
                return

    def _invoke(self, messages: list[dict]) -> None:
        try:
            event = sqs_event(self.queue_arn, self.region, messages)
            context = LambdaContext(function_name=self.queue_name, aws_request_id=str(uuid.uuid4()),
                                    deadline_ms=time.time() * 1000 + self.timeout_seconds * 1000)
            try:
                failed = failed_ids(self.handler(event, context))
            except Exception as exc:  # powertools raises when every record failed
                self.on_error(f"handler for {self.queue_name} failed the whole batch: {exc!r}")
                failed = {m["MessageId"] for m in messages}
            done = [m for m in messages if m["MessageId"] not in failed]
            for start in range(0, len(done), 10):
                self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start:start + 10])
                ])
        except Exception as exc:
            self.on_error(f"pump for {self.queue_name} failed: {exc!r}")
        finally:
            self._slots.release()
