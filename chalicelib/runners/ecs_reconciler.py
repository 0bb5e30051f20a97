"""The AWS reconciler: Server items run by the ECS runner against the cluster's tasks.

Two ways in, one outcome each:
- `reconcile()` (every minute): the live ECS servers' tasks are described in batches of 100; a
  `running` server whose task has STOPPED (or is gone) is marked `exited` exactly as a health check
  marks a dead local process (`servers.server_died`); a `stopping` one whose task has stopped is
  finished. Then the cluster's running tasks started by us (our tags, or `startedBy` a deploy id)
  that no live Server item owns are stopped: orphans of a deploy worker lost between `run_task`
  and recording the task.
- `task_state_changed(event)` (the ECS Task State Change event): the same for one task, at once.
Both are idempotent: every change is a conditional transition, and a second pass finds nothing to do.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterator

from chalicelib.db import deploys as deploy_store
from chalicelib.db import servers as store
from chalicelib.db.models import Server, utcnow
from chalicelib.db.statuses import DEPLOY_ACTIVE, ServerStatus
from chalicelib.control_plane_log import logger
from chalicelib.runners.ecs_deploy import EcsDeployRunner
from chalicelib.services.deploys import servers as server_service

DESCRIBE_BATCH = 100  # describe_tasks takes at most 100 tasks
SERVER_TAG = "mastra-admin:server"
DEPLOY_PREFIX = "dpl_"
GONE = ("STOPPED",)


@dataclass
class Reconciled:
    exited: list[str] = field(default_factory=list)  # server ids marked exited
    stopped: list[str] = field(default_factory=list)  # stopping servers whose task had stopped
    orphans: list[str] = field(default_factory=list)  # task ARNs stopped

    def __bool__(self) -> bool:
        return bool(self.exited or self.stopped or self.orphans)


def _batches(items: list[str], size: int = DESCRIBE_BATCH) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


class EcsReconciler:
    def __init__(self, runner: EcsDeployRunner, orphan_grace_seconds: float = 300):
        self.runner = runner
        self.cluster = runner.settings.ecs_cluster
        # A task younger than this may belong to a deploy worker that has not recorded it yet.
        self.orphan_grace_seconds = orphan_grace_seconds

    @property
    def ecs(self):
        return self.runner._client("ecs")

    def _describe(self, arns: list[str]) -> dict[str, dict | None]:
        """Task ARN -> task (None: ECS no longer knows it)."""
        found: dict[str, dict | None] = {arn: None for arn in arns}
        for batch in _batches(arns):
            result = self.ecs.describe_tasks(cluster=self.cluster, tasks=batch, include=["TAGS"])
            for task in result.get("tasks") or []:
                found[task["taskArn"]] = task
        return found

    def _live_servers(self) -> list[Server]:
        servers = []
        for server_id in list(store.active_ids()):
            server = store.find(server_id)
            if server is not None and server.runner == self.runner.name and server.status in store.ACTIVE:
                servers.append(server)
        return servers

    # --- one task ---------------------------------------------------------------------------

    def settle(self, server: Server, task: dict | None, out: Reconciled) -> None:
        """Apply what ECS says of `server`'s task; nothing unless it has stopped."""
        status = (task or {}).get("lastStatus", "STOPPED")
        if status not in GONE:
            return
        detail = (f"task stopped: {task.get('stoppedReason') or 'no reason given'}" if task
                  else "the task is gone")
        if server.status == ServerStatus.RUNNING:
            if server_service.server_died(server, detail, self.runner) is not None:
                out.exited.append(server.server_id)
        elif server.status == ServerStatus.STOPPING:  # a stop whose worker was lost after stop_task
            moved = store.transition(server.server_id, (ServerStatus.STOPPING,), ServerStatus.STOPPED,
                                     stopped_at=utcnow(), health="unknown", cpu_percent=None, memory_bytes=None)
            if moved is not None:
                server_service.publish_status(moved)
                out.stopped.append(server.server_id)
        # starting: the deploy worker watching it (or the deploy reaper) fails it

    # --- the schedule -----------------------------------------------------------------------

    def reconcile(self) -> Reconciled:
        """Everything in this process (tests, a small stack); the schedule shards the same work:
        `live_server_ids` and `running_task_arns` to fan out, `settle_servers` and `stop_orphans` per shard."""
        out = Reconciled()
        self.settle_servers(self.live_server_ids(), out)
        self.stop_orphans(self.running_task_arns(), out)
        if out:
            logger.info("ECS reconciler acted", extra={"exited": out.exited, "stopped": out.stopped,
                                                       "orphans": out.orphans})
        return out

    def live_server_ids(self) -> list[str]:
        return list(store.active_ids())

    def settle_servers(self, server_ids: list[str], out: Reconciled | None = None) -> Reconciled:
        """The given servers (if live, of this runner) against their tasks: one batch read, one
        describe_tasks per 100."""
        out = out if out is not None else Reconciled()
        servers = [s for s in store.find_many(server_ids).values()
                   if s.runner == self.runner.name and s.status in store.ACTIVE and s.task_arn]
        tasks = self._describe([s.task_arn for s in servers])
        for server in servers:
            try:
                self.settle(server, tasks.get(server.task_arn), out)
            except Exception:
                logger.exception("reconciling a server failed", extra={"serverId": server.server_id})
        return out

    def running_task_arns(self) -> list[str]:
        arns: list[str] = []
        for page in self.ecs.get_paginator("list_tasks").paginate(cluster=self.cluster, desiredStatus="RUNNING"):
            arns.extend(page.get("taskArns") or [])
        return arns

    def stop_orphans(self, arns: list[str], out: Reconciled | None = None) -> Reconciled:
        """Of the given running tasks, stop ours that no live server owns (read per task, by its tag)."""
        out = out if out is not None else Reconciled()
        if not arns:
            return out
        for arn, task in self._describe(arns).items():
            if task is None or not self._ours(task) or self._owned(arn, task) or self._young(task):
                continue
            try:
                self.ecs.stop_task(cluster=self.cluster, task=arn,
                                   reason="mastra-admin: no server owns this task")
                out.orphans.append(arn)
            except Exception:
                logger.exception("stopping an orphan task failed", extra={"taskArn": arn})
        return out

    @staticmethod
    def _tags(task: dict) -> dict[str, str]:
        return {t.get("key"): t.get("value") for t in task.get("tags") or []}

    def _ours(self, task: dict) -> bool:
        return SERVER_TAG in self._tags(task) or (task.get("startedBy") or "").startswith(DEPLOY_PREFIX)

    def _owned(self, arn: str, task: dict) -> bool:
        """A live server owns the task (or has not recorded it yet: run_task returned, the write is
        coming), or a deploy still running started it. Read now, so a server that started since the
        fan-out owns its task."""
        server_id = self._tags(task).get(SERVER_TAG)
        if server_id:
            server = store.find(server_id)
            return (server is not None and server.status in store.ACTIVE
                    and server.task_arn in (None, "", arn))
        deploy_id = task.get("startedBy") or ""
        deploy = deploy_store.find(deploy_id) if deploy_id.startswith(DEPLOY_PREFIX) else None
        return deploy is not None and deploy.status in DEPLOY_ACTIVE

    def _young(self, task: dict) -> bool:
        created = task.get("createdAt")
        if not isinstance(created, datetime):
            return False
        age = (datetime.now(timezone.utc) - created.astimezone(timezone.utc)).total_seconds()
        return age < self.orphan_grace_seconds

    # --- the event --------------------------------------------------------------------------

    def task_state_changed(self, event: dict) -> Reconciled:
        """An `ECS Task State Change` event: a STOPPED task settles its server now.

        The event carries the run's overrides (the user's variables): it is never logged.
        """
        out = Reconciled()
        detail = event.get("detail") or {}
        arn = detail.get("taskArn")
        if not arn or detail.get("lastStatus") not in GONE:
            return out
        server = self._server_of(arn, detail)
        if server is None or server.task_arn != arn or server.status not in store.ACTIVE:
            return out
        self.settle(server, {"lastStatus": detail["lastStatus"], "stoppedReason": detail.get("stoppedReason")},
                    out)
        return out

    def _server_of(self, arn: str, detail: dict) -> Server | None:
        tags = self._tags(detail)
        if SERVER_TAG not in tags:
            task = self._describe([arn]).get(arn)
            tags = self._tags(task or {})
        if tags.get(SERVER_TAG):
            return store.find(tags[SERVER_TAG])
        return next((s for s in self._live_servers() if s.task_arn == arn), None)


def reconciler(runner: EcsDeployRunner | None = None) -> EcsReconciler:
    if runner is None:
        from chalicelib.runners.factory import deploy_runner_named

        runner = deploy_runner_named("ecs")
    return EcsReconciler(runner)

