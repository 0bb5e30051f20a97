"""Sending work to a queue: the message names the work; its state is already in DynamoDB."""
from __future__ import annotations

import json

from chalicelib import aws
from chalicelib.control_plane_log import logger


def send(queue_name: str, body: dict) -> bool:
    """False when the queue is unreachable: the item stays queued in DynamoDB and its reaper
    re-sends it, so the caller goes on (nothing is lost, the message is only late)."""
    sqs = aws.client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
        return True
    except Exception:  # botocore errors, handled here at the adapter
        logger.warning("queued without a message; the reaper re-sends it", extra={"queue": queue_name, **body})
        return False
