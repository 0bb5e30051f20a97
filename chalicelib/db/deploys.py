"""Deploys in DynamoDB: created with their ActiveDeploy marker; every status change conditional."""
from __future__ import annotations

from chalicelib.db import keys, lifecycle
from chalicelib.db.models import ActiveDeploy, Deploy
from chalicelib.db.statuses import DEPLOY_ACTIVE as ACTIVE, DEPLOY_TERMINAL as TERMINAL, DeployStatus


_deploys = lifecycle.ActiveItems(Deploy, ActiveDeploy, "deploy_id", ACTIVE, key=keys.deploy,
                                 per_deployment=keys.deployment_deploys, active_partition=keys.ACTIVE_DEPLOYS)
create, find, list_for_deployment = _deploys.create, _deploys.find, _deploys.list_for_deployment
active_ids, transition, drop_marker = _deploys.active_ids, _deploys.transition, _deploys.drop_marker
claim = _deploys.claim


def set_fields(deploy_id: str, attempt: int, **fields) -> bool:
    """Facts of a running attempt (its server, the lease); False once the attempt lost the deploy."""
    return _deploys.set_fields(deploy_id, (Deploy.status == DeployStatus.RUNNING) & (Deploy.attempt == attempt),
                               **fields)
