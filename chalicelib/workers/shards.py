"""Sharded periodic work: a schedule only fans out, queue consumers do the work in parallel.

    fan_out("health")  ->  {kind, ids[<= MA_SHARD_SIZE], round} messages on the shard queue
    handle_shard_messages(event, context)  ->  each message's ids checked by up to MA_SHARD_PARALLEL threads

A sweep lists its items with one Query (the markers of live servers, active builds or deploys; the
cluster's running tasks), so the schedule's cost grows by one SendMessageBatch per 10 shards. A
consumer reads its shard in batch (`prepare`), then works item by item until the time left in its
invocation falls under MA_SHARD_MARGIN_SECONDS: the ids it did not start go back to the queue as a
new, smaller shard, so a slow shard never runs past its Lambda's end. An item that raises fails
its shard alone (ReportBatchItemFailures): SQS delivers that message again, and to the DLQ after
maxReceiveCount. Every item's work is idempotent (conditional writes), so a redelivered shard, or
two overlapping rounds, change nothing twice.

A health shard publishes together: its items' channel messages are held (`channels.held()`) and
handed to the WebSocket broadcaster at the shard's end (also when an item raised, and before the
unstarted ids are re-queued), so the shard reads its channels' heads in one BatchGetItem instead of
one GetItem per server.
"""
from __future__ import annotations

import contextlib
import contextvars
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib import aws, channels
from chalicelib.control_plane_log import logger
from chalicelib.settings import get_settings
from chalicelib.workers.sqs_batch import process_batch

Kind = Literal["health", "build-reaper", "deploy-reaper", "ecs-servers", "ecs-orphans", "guard"]
MAX_SHARD = 500


class ShardMessage(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)

    kind: Kind
    ids: list[str] = Field(min_length=1, max_length=MAX_SHARD)
    round: str = ""


class ShardFailed(Exception):
    """Some items of a shard raised: the whole message is delivered again (its items are idempotent)."""


@dataclass(frozen=True)
class Sweep:
    """`ids`: what one round covers; `prepare(ids)`: the shard's batch reads, returning the work of one id;
    `publish_together`: hold the shard's channel messages to its end."""
    ids: Callable[[], Iterable[str]]
    prepare: Callable[[list[str]], Callable[[str], Any]]
    publish_together: bool = False


def _health() -> Sweep:
    from chalicelib.db import servers as store
    from chalicelib.services.deploys import servers

    return Sweep(store.active_ids, servers.shard_checker, publish_together=True)


def _build_reaper() -> Sweep:
    from chalicelib.db import builds as store
    from chalicelib.services.builds import reaper

    return Sweep(store.active_ids, lambda ids: reaper.reap_one)


def _deploy_reaper() -> Sweep:
    from chalicelib.db import deploys as store
    from chalicelib.services.deploys import reaper

    return Sweep(store.active_ids, lambda ids: reaper.reap_one)


def _ecs_servers() -> Sweep:
    from chalicelib.runners.ecs_reconciler import reconciler

    r = reconciler()

    def prepare(ids: list[str]):
        out = r.settle_servers(ids)  # one describe_tasks per 100: the shard's work is done here
        return lambda server_id: server_id in out.exited

    return Sweep(r.live_server_ids, prepare)


def _ecs_orphans() -> Sweep:
    from chalicelib.runners.ecs_reconciler import reconciler

    r = reconciler()

    def prepare(arns: list[str]):
        out = r.stop_orphans(arns)
        return lambda arn: arn in out.orphans

    return Sweep(r.running_task_arns, prepare)


def _guard() -> Sweep:  # release guard (issue 17): the guards that are on, each evaluated once
    from chalicelib.db import guards as store
    from chalicelib.services.guard import evaluator

    return Sweep(store.active_ids, evaluator.shard_work)


SWEEPS: dict[str, Callable[[], Sweep]] = {
    "health": _health, "build-reaper": _build_reaper, "deploy-reaper": _deploy_reaper,
    "ecs-servers": _ecs_servers, "ecs-orphans": _ecs_orphans, "guard": _guard,
}


def shards(ids: Iterable[str], size: int) -> list[list[str]]:
    items = list(dict.fromkeys(ids))
    return [items[i:i + size] for i in range(0, len(items), size)]


def send_shards(kind: str, groups: list[list[str]], round_id: str, sqs=None) -> int:
    """SendMessageBatch, 10 shards a call; returns the number of shards sent. A failed entry raises:
    the schedule's next round covers it."""
    settings = get_settings()
    sqs = sqs or aws.client("sqs")
    url = sqs.get_queue_url(QueueName=settings.shard_queue_name)["QueueUrl"]
    for start in range(0, len(groups), 10):
        entries = [{"Id": str(i), "MessageBody": json.dumps({"kind": kind, "ids": ids, "round": round_id})}
                   for i, ids in enumerate(groups[start:start + 10])]
        failed = sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed") or []
        if failed:
            raise RuntimeError(f"{len(failed)} shard messages of {kind} were refused: {failed[0].get('Code')}")
    return len(groups)


def fan_out(kind: str, size: int | None = None) -> int:
    """One round of `kind`: its items in shards of MA_SHARD_SIZE on the shard queue. Returns the shard count."""
    settings = get_settings()
    groups = shards(SWEEPS[kind]().ids(), size or settings.shard_size)
    sent = send_shards(kind, groups, f"{kind}@{int(time.time())}")
    logger.info("sweep fanned out", extra={"kind": kind, "shards": sent})
    return sent


def run_shard(message: ShardMessage, seconds_left: Callable[[], float]) -> list[str]:
    """The shard's items, `parallel` at a time, until the time left falls under the margin.
    Returns the ids not started; raises ShardFailed when an item raised."""
    settings = get_settings()
    sweep = SWEEPS[message.kind]()
    work = sweep.prepare(message.ids)
    failures: list[tuple[str, Exception]] = []
    left: list[str] = []

    def one(item_id: str) -> None:
        if seconds_left() < settings.shard_margin_seconds:
            left.append(item_id)
            return
        try:
            work(item_id)
        except Exception as error:
            logger.exception("shard item failed", extra={"kind": message.kind, "id": item_id})
            failures.append((item_id, error))

    with channels.held() if sweep.publish_together else contextlib.nullcontext(), \
            ThreadPoolExecutor(max_workers=max(1, min(settings.shard_parallel, len(message.ids)))) as pool:
        # Each item runs in a copy of this context, so what it publishes reaches the held block.
        for future in [pool.submit(contextvars.copy_context().run, one, item_id) for item_id in message.ids]:
            future.result()
    if failures:
        first_id, first = failures[0]  # named, so a retried shard's cause is in its own error
        raise ShardFailed(f"{len(failures)} of {len(message.ids)} {message.kind} items failed; "
                          f"first {first_id}: {type(first).__name__}: {str(first)[:200]}")
    return left


def _seconds_left(context: Any) -> Callable[[], float]:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return lambda: float("inf")
    return lambda: remaining() / 1000.0


def handle_shard_messages(event: dict, context: Any) -> dict:
    def one(record: Any) -> None:
        message = ShardMessage.model_validate_json(record.body)  # a poison body fails here and ends in the DLQ
        left = run_shard(message, _seconds_left(context))
        if left:  # out of time: the rest is a new shard, not a retry of this one
            send_shards(message.kind, [left], message.round)
        logger.info("shard handled", extra={"kind": message.kind, "items": len(message.ids), "deferred": len(left),
                                            "round": message.round, "messageId": record.message_id})

    return process_batch(event, context, one)
