"""Sending work to a queue: the message names the work; its state is already in DynamoDB."""
from __future__ import annotations

import json
import threading

from chalicelib import aws
from chalicelib.control_plane_log import logger


# A queue's URL is its account and name, so it is asked once per endpoint and name (it was a
# GetQueueUrl before every send); a failed send forgets it.
_urls: dict[tuple[str, str], str] = {}
_urls_lock = threading.Lock()


def send(queue_name: str, body: dict) -> bool:
    """False when the queue is unreachable: the item stays queued in DynamoDB and its reaper
    re-sends it, so the caller goes on (nothing is lost, the message is only late)."""
    sqs = aws.client("sqs")
    key = (sqs.meta.endpoint_url, queue_name)
    try:
        with _urls_lock:
            url = _urls.get(key)
        if url is None:
            url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
            with _urls_lock:
                _urls[key] = url
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
        return True
    except Exception:  # botocore errors, handled here at the adapter
        with _urls_lock:
            _urls.pop(key, None)
        logger.warning("queued without a message; the reaper re-sends it", extra={"queue": queue_name, **body})
        return False
