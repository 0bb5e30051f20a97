"""Powertools batch processing for SQS consumers: one typed record handler, partial failures reported."""
from __future__ import annotations

from typing import Any, Callable


def process_batch(event: dict, context: Any, record_handler: Callable[[Any], Any]) -> dict:
    # Imported here: powertools' batch utility is only needed by queue consumers, not by the API.
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    return process_partial_response(event=event, record_handler=record_handler,
                                    processor=BatchProcessor(event_type=EventType.SQS), context=context)
