"""Consumers of the GitHub queues: webhook deliveries, and writes to GitHub."""
from __future__ import annotations

import json
from typing import Any

from chalicelib.control_plane_log import logger
from chalicelib.workers.sqs_batch import process_batch


def _webhook_record(record: Any) -> None:
    from chalicelib.services.github import events
    from chalicelib.services.github.payloads import WebhookMessage

    message = WebhookMessage.model_validate_json(record.body)  # a poison body fails here and ends in the DLQ
    events.handle(message)


def _write_record(record: Any) -> None:
    from chalicelib.services.github import writes

    message = json.loads(record.body)
    result = writes.perform(message)  # GitHubUnavailable fails the record: SQS retries it, then the DLQ
    logger.info("github write", extra={"kind": message.get("kind"), "result": result, "messageId": record.message_id})


def handle_webhook_messages(event: dict, context: Any) -> dict:
    return process_batch(event, context, _webhook_record)


def handle_write_messages(event: dict, context: Any) -> dict:
    return process_batch(event, context, _write_record)
