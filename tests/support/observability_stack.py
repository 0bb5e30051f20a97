"""Put observability JSONL into the local stack's S3 (or the in-process API's) and wait until the API serves it."""
from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tests.support.observability_records import Scope, jsonl, trace
from tests.support.waiting import wait_for

BUCKET = "mastra-admin-local-123456789012-artifacts"


def put_records(stack, scope: Scope, kind: str, records: list[dict], name: str | None = None) -> str:
    key = scope.s3_key(kind, name)
    stack.aws("s3").put_object(Bucket=BUCKET, Key=key, Body=jsonl(records))
    return key


def upload_directory(stack, scope: Scope, directory: Path, pattern: str = "*.jsonl") -> list[str]:
    """Ship a directory the way the deployed server's shipper does: {kind}/{pattern} -> S3.

    For the e2e test: point it at the observability/ directory a real mastra-weather server wrote,
    with pattern "closed/*.jsonl" (the files it rotated; current.jsonl is still being written).
    """
    keys = []
    for kind in ("spans", "logs", "metrics", "scores"):
        for path in sorted((directory / kind).glob(pattern)) if (directory / kind).is_dir() else []:
            key = scope.s3_key(kind, path.name)
            stack.aws("s3").put_object(Bucket=BUCKET, Key=key, Body=path.read_bytes())
            keys.append(key)
    return keys


def ingest_one_trace(stack, session, team_id: str, project_id: str, deployment_id: str) -> str:
    """Upload one agent trace for the project and wait until the trace API returns it."""
    scope = Scope(team_id, project_id, deployment_id)
    trace_id = uuid.uuid4().hex
    start = datetime.now(timezone.utc) - timedelta(minutes=5)
    put_records(stack, scope, "spans", trace(scope, start, random.Random(3), trace_id=trace_id))
    if hasattr(stack, "run_ingest"):  # in-process: nothing consumes the ingest queue unless asked
        stack.run_ingest()
    wait_for(lambda: session.get(stack.url(f"/projects/{project_id}/traces/{trace_id}")),
             until=lambda r: r.status_code == 200, what="the trace served")
    return trace_id
