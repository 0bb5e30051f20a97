"""Component health: each dependency is probed with one cheap call."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from chalicelib.aws import client
from chalicelib.models import api
from chalicelib.settings import get_settings


def _dynamodb() -> None:
    client("dynamodb").describe_table(TableName=get_settings().table_name)


def _sqs() -> None:
    settings = get_settings()
    for name in (settings.build_queue_name, settings.deploy_queue_name, settings.ingest_queue_name):
        client("sqs").get_queue_url(QueueName=name)


def _s3() -> None:
    client("s3").head_bucket(Bucket=get_settings().bucket_name)


def _kms() -> None:
    client("kms").describe_key(KeyId=get_settings().kms_key_alias)


def _clickhouse() -> None:
    from chalicelib.analytics.client import ping

    ping()


PROBES: dict[str, Callable[[], None]] = {
    "dynamodb": _dynamodb,
    "sqs": _sqs,
    "s3": _s3,
    "kms": _kms,
    "clickhouse": _clickhouse,
}


def _probe(fn: Callable[[], None]) -> api.ComponentHealth:
    start = time.perf_counter()
    try:
        fn()
        return api.ComponentHealth(status="up", latency_ms=round((time.perf_counter() - start) * 1000, 1))
    except Exception as e:  # any failure means down; report the type, never a message with secrets
        return api.ComponentHealth(
            status="down", latency_ms=round((time.perf_counter() - start) * 1000, 1),
            error=getattr(e, "code", None) or type(e).__name__,
        )


def check() -> api.Health:
    with ThreadPoolExecutor(max_workers=len(PROBES)) as pool:
        results = dict(zip(PROBES, pool.map(_probe, PROBES.values())))
    status = "ok" if all(r.status == "up" for r in results.values()) else "degraded"
    return api.Health(status=status, components=results)
