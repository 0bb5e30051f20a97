"""An in-process ingest environment: moto server on loopback and chDB in this test process.

chDB lets a process open one data directory only, so the environment is a per-process singleton
on the process's one directory (tests/support/chdb.py, shared with the in-process API tier); the
local stack subprocess opens its own.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

BUCKET = "mastra-admin-local-123456789012-artifacts"
_env: "IngestEnv | None" = None


@dataclass
class IngestEnv:
    moto_url: str
    s3: Any
    sqs: Any
    client: Any  # clickhouse-connect chDB client
    writer: Any
    path: str

    def ingestor(self, writer: Any = None, **kwargs: Any):
        from chalicelib.services.observability.ingest import Ingestor

        return Ingestor(self.s3, writer or self.writer, **kwargs)

    def put(self, key: str, body: bytes, metadata: dict | None = None) -> str:
        return self.s3.put_object(Bucket=BUCKET, Key=key, Body=body, Metadata=metadata or {})["ETag"].strip('"')

    def count(self, sql: str, **params: Any) -> int:
        return int(self.client.query(sql, parameters=params).result_rows[0][0] or 0)


def ingest_env() -> IngestEnv:
    global _env
    if _env is not None:
        # This moto server runs in the test process: a module that ended a moto mock meanwhile reset
        # every backend of the process, the bucket included.
        _env.s3.create_bucket(Bucket=BUCKET)
        return _env
    import atexit

    import boto3

    from chalicelib.analytics.writer import Writer
    from tests.support.chdb import chdb_client, chdb_path
    from tests.support.local_aws import moto_server

    servers = moto_server()
    url = servers.__enter__()
    atexit.register(servers.__exit__, None, None, None)
    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
    sqs = boto3.client("sqs", endpoint_url=url, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    path, client = chdb_path(), chdb_client()
    import clickhouse_connect

    writer = Writer(client, "chdb", client_factory=lambda: clickhouse_connect.get_client(interface="chdb", path=path))
    _env = IngestEnv(url, s3, sqs, client, writer, path)
    return _env


def s3_notification(bucket: str, key: str, etag: str, size: int = 0) -> str:
    """The body S3 sends to SQS for an ObjectCreated event (key URL-encoded, as AWS does)."""
    return json.dumps({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-23T12:00:00.000Z", "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": quote(key, safe=""), "size": size, "eTag": etag, "sequencer": "0A1B2C3D4E5F"}},
    }]})


def down_writer(env: IngestEnv, state: dict) -> Any:
    """A Writer whose engine is unreachable while state['down'] is true."""
    from chalicelib.analytics.writer import Writer

    class FlakyClient:
        def __getattr__(self, name: str) -> Any:
            real = getattr(env.client, name)
            if not callable(real):
                return real

            def call(*args: Any, **kwargs: Any) -> Any:
                if state["down"]:
                    raise ConnectionRefusedError("ClickHouse is down (test)")
                return real(*args, **kwargs)

            return call

    return Writer(FlakyClient(), "chdb")

