"""Route changes, from the deployment's channel to every router task's cache.

    publisher (any control-plane process)          every router task
    channels.publish("deployment:{id}", status) -> sink -> SNS topic MA_ROUTE_TOPIC_ARN
                                                   -> its own SQS queue -> RouteTable.forget_deployment(id)

The deploy worker publishes the deployment's status on its channel right after every switch (and a
health check after a server died), so a router forgets that route at once instead of serving it
for up to MA_ROUTE_CACHE_SECONDS more. Each router task subscribes a queue of its own at start
(SNS fans out; one SQS queue would hand each message to one task only) and removes it when it
stops. Best effort: a lost message only means the cache entry lives until its TTL.

Only boto3 here: the sink runs in Lambda (app.py registers it), the listener in the router task.
"""
from __future__ import annotations

import json
import threading
import uuid
from typing import Callable

from chalicelib import aws
from chalicelib.control_plane_log import logger

CHANNEL_PREFIX = "deployment:"
QUEUE_RETENTION_SECONDS = 60  # SQS's minimum: an invalidation older than the cache TTL is pointless


def sink(channel: str, message: dict) -> None:
    """A channel sink: a deployment's status message becomes one SNS message naming the deployment."""
    if not channel.startswith(CHANNEL_PREFIX) or message.get("type") != "status":
        return
    from chalicelib.settings import get_settings

    topic = get_settings().route_topic_arn
    if topic:
        aws.client("sns").publish(TopicArn=topic, Message=json.dumps(
            {"deploymentId": channel[len(CHANNEL_PREFIX):], "status": message.get("status")}))


class Listener:
    """A queue of this router task's own, subscribed to the topic; each message forgets one deployment."""

    def __init__(self, topic_arn: str, queue_prefix: str, forget: Callable[[str], None], sqs=None, sns=None):
        self.topic_arn, self.forget = topic_arn, forget
        self.sqs, self.sns = sqs or aws.client("sqs"), sns or aws.client("sns")
        self.queue_name = f"{queue_prefix}-router-{uuid.uuid4().hex[:12]}"
        self.queue_url = self.subscription = None
        self.received = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "Listener":
        self.queue_url = self.sqs.create_queue(QueueName=self.queue_name, Attributes={
            "MessageRetentionPeriod": str(QUEUE_RETENTION_SECONDS)})["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.sqs.set_queue_attributes(QueueUrl=self.queue_url, Attributes={"Policy": json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
                "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": self.topic_arn}}}]})})
        self.subscription = self.sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=arn,
                                               Attributes={"RawMessageDelivery": "true"},
                                               ReturnSubscriptionArn=True)["SubscriptionArn"]
        self._thread = threading.Thread(target=self._run, name="route-invalidations", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                                    WaitTimeSeconds=5).get("Messages", [])
            except Exception as e:  # the endpoint restarting: the TTL still bounds staleness
                logger.warning("route invalidations unreadable", extra={"error": aws.error_code(e) or type(e).__name__})
                self._stop.wait(2.0)
                continue
            for m in messages:
                try:
                    self.forget(json.loads(m["Body"])["deploymentId"])
                    self.received += 1
                except (ValueError, KeyError, TypeError):
                    pass  # not ours: dropped
            if messages:
                self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])

    def stop(self) -> None:
        self._stop.set()
        for step in (lambda: self.sns.unsubscribe(SubscriptionArn=self.subscription),
                     lambda: self.sqs.delete_queue(QueueUrl=self.queue_url)):
            try:
                step()
            except Exception as e:
                logger.warning("route invalidation cleanup failed", extra={"error": aws.error_code(e) or type(e).__name__})
