"""Consumers of build work: the build queue, the reaper's schedule and CodeBuild's state changes."""
from __future__ import annotations

from typing import Any

from chalicelib.models.messages import BuildMessage
from chalicelib.control_plane_log import logger
from chalicelib.workers.sqs_batch import process_batch


def _build_record(record: Any) -> None:
    from chalicelib.services.builds import steps, worker as build_worker

    message = BuildMessage.model_validate_json(record.body)  # a poison body fails here and ends in the DLQ
    sent = record.attributes.sent_timestamp
    if sent:  # from the send (the API's enqueue) to this handler: the queue and the hand-off
        steps.record(message.build_id, "queue", int(sent) / 1000)
    result = build_worker.process(message.build_id)
    logger.info("build message handled", extra={"buildId": message.build_id, "result": result,
                                                "messageId": record.message_id})


def handle_build_messages(event: dict, context: Any) -> dict:
    return process_batch(event, context, _build_record)


def run_reaper() -> list:
    from chalicelib.services.builds import reaper as build_reaper

    actions = build_reaper.reap()
    if actions:
        logger.info("reaper acted", extra={"actions": [a.__dict__ for a in actions]})
    return actions
