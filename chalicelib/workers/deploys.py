"""Consumers of deploy work: the deploy queue, the health-check schedule and the deploy reaper."""
from __future__ import annotations

from typing import Any

from chalicelib.models.messages import DeployMessage
from chalicelib.control_plane_log import logger
from chalicelib.workers.sqs_batch import process_batch


def _deploy_record(record: Any) -> None:
    from chalicelib.services.deploys import worker as deploy_worker

    message = DeployMessage.model_validate_json(record.body)  # a poison body fails here and ends in the DLQ
    result = deploy_worker.process(message.deploy_id)
    logger.info("deploy message handled", extra={"deployId": message.deploy_id, "result": result,
                                                 "messageId": record.message_id})


def handle_deploy_messages(event: dict, context: Any) -> dict:
    return process_batch(event, context, _deploy_record)


def run_health_checks() -> list:
    from chalicelib.services.deploys import servers

    return servers.check_all()


def run_deploy_reaper() -> list:
    from chalicelib.services.deploys import reaper as deploy_reaper

    actions = deploy_reaper.reap()
    if actions:
        logger.info("deploy reaper acted", extra={"actions": actions})
    return actions


def run_ecs_reconciler():
    from chalicelib.runners import ecs_reconciler

    return ecs_reconciler.reconciler().reconcile()


def handle_ecs_task_state_change(event: dict):
    from chalicelib.runners import ecs_reconciler

    return ecs_reconciler.reconciler().task_state_changed(event)
