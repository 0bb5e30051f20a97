"""Sending work to a queue: the message names the work; its state is already in DynamoDB."""
from __future__ import annotations

import json

from chalicelib import aws
from chalicelib.errors import Unavailable


def send(queue_name: str, body: dict, what: str) -> None:
    """Raises Unavailable; the item stays queued and its reaper re-sends it, so nothing is lost."""
    sqs = aws.client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    except Exception as e:  # botocore errors, translated here
        raise Unavailable(f"The {what} queue is unavailable", code="queue_unavailable") from e
