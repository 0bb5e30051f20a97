"""The control plane in this test process: the Chalice app behind `chalice.test.Client`, AWS in
moto's in-process mock, the resources created from infra/resources.yaml by the local stack's own
provisioner, fake build and deploy runners, and the queue consumers invoked with events built here.

`InProcessApi` answers the same calls as the local stack's `Stack` (`url`, `session`, `stored_item`,
`aws`), and its sessions answer like `requests.Session`, so a test reads the same either way.
"""
from __future__ import annotations

import functools
import hashlib
import io
import itertools
import json
import sys
import tarfile
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlencode

ROOT_PACKAGE = "chalicelib"
_ids = itertools.count()


# --- HTTP ------------------------------------------------------------------------------------


class Response:
    """The slice of `requests.Response` the API tests read."""

    def __init__(self, status_code: int, headers: dict[str, Any], body: bytes):
        self.status_code, self.headers, self.content = status_code, headers, body

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class Session:
    """A caller with its own Authorization header, like `requests.Session`, over chalice's test client."""

    def __init__(self, http: Any, token: str | None = None):
        self._http = http
        self.headers: dict[str, str] = {"Authorization": f"Bearer {token}"} if token else {}

    def request(self, method: str, url: str, json: Any = None, data: bytes | str | None = None,
                params: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Response:
        import json as _json

        all_headers = {**self.headers, **(headers or {})}
        body = b""
        if json is not None:
            body = _json.dumps(json).encode()
            all_headers.setdefault("Content-Type", "application/json")
        elif data is not None:
            body = data.encode() if isinstance(data, str) else data
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        r = self._http.request(method, url, headers=all_headers, body=body)
        return Response(r.status_code, r.headers, r.body)

    def get(self, url: str, **kw: Any) -> Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> Response:
        return self.request("POST", url, **kw)

    def put(self, url: str, **kw: Any) -> Response:
        return self.request("PUT", url, **kw)

    def patch(self, url: str, **kw: Any) -> Response:
        return self.request("PATCH", url, **kw)

    def delete(self, url: str, **kw: Any) -> Response:
        return self.request("DELETE", url, **kw)


# --- queue events ----------------------------------------------------------------------------


def sqs_record(body: str, queue_name: str, receipt_handle: str | None = None) -> dict:
    """One Lambda SQS record with a messageId of its own (chalice's test client repeats one id)."""
    n = next(_ids)
    return {
        "messageId": f"msg-{n}-{uuid.uuid4()}", "receiptHandle": receipt_handle or f"rh-{n}", "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0", "SenderId": "test",
                       "ApproximateFirstReceiveTimestamp": "0"},
        "messageAttributes": {}, "md5OfBody": hashlib.md5(body.encode()).hexdigest(), "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue_name}", "awsRegion": "us-east-1",
    }


def sqs_event(*bodies: str, queue_name: str = "mastra-admin-local-ingest") -> dict:
    """A Lambda SQS event of `bodies`, each record with a unique messageId."""
    return {"Records": [sqs_record(body, queue_name) for body in bodies]}


# --- fake runners ----------------------------------------------------------------------------


@dataclass
class FakeBuildRunner:
    """Succeeds at once (or as `outcome` says) with a tiny artifact in the bucket; counts runs."""

    name: str = "fake"
    outcome: str = "succeeded"
    fetches_remote_sources: bool = False
    node_major: int | None = None  # what the build's manifest would name
    runs: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)

    def run(self, job, log, cancel):
        from chalicelib.aws import client
        from chalicelib.runners.build_port import Outcome

        self.runs.append(job.build_id)
        log("==> install (fake)")
        if self.outcome != "succeeded":
            return Outcome(self.outcome, reason=f"fake {self.outcome}")
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            data = json.dumps({"buildId": job.build_id}).encode()
            info = tarfile.TarInfo("dist/build.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        body = buf.getvalue()
        digest = hashlib.sha256(body).hexdigest()
        client("s3").put_object(Bucket=job.artifact_bucket, Key=job.artifact_key, Body=body,
                                Metadata={"sha256": digest})
        return Outcome("succeeded", artifact_key=job.artifact_key, artifact_sha256=digest, artifact_bytes=len(body),
                       node_major=self.node_major)

    def check(self, build):
        from chalicelib.runners.build_port import Check

        return Check("lost")

    def stop(self, build) -> None:
        self.stopped.append(build.build_id)


@dataclass
class FakeDeployRunner:
    """Servers that exist only here: healthy at once, with the log lines a test gives them."""

    name: str = "fake"
    healthy: bool = True
    started: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    lines: dict[str, list[str]] = field(default_factory=dict)
    specs: list = field(default_factory=list)

    def start(self, spec):
        from chalicelib.runners.deploy_port import Started

        self.started.append(spec.server_id)
        self.specs.append(spec)
        self.lines.setdefault(spec.server_id, [f"listening on {4200 + len(self.started)}"])
        return Started(host="127.0.0.1", port=4200 + len(self.started))

    def probe(self, server):
        from chalicelib.runners.deploy_port import Probe

        return Probe(alive=server.server_id not in self.stopped, healthy=self.healthy, detail="fake")

    def activate(self, deployment, server, previous):
        return None

    def deactivate(self, deployment, server) -> None:
        pass

    def stop(self, server) -> None:
        self.stopped.append(server.server_id)

    def logs(self, server, since, tail, limit):
        from chalicelib.runners.deploy_port import LogSlice

        lines = self.lines.get(server.server_id, [])
        start = since if since is not None else max(0, len(lines) - (tail if tail is not None else len(lines)))
        piece = lines[start:start + limit]
        return LogSlice(offset=start, next_offset=start + len(piece), lines=piece)

    def upstream(self, server):
        return f"127.0.0.1:{server.port}" if getattr(server, "port", None) else None


def _factory_names(build: FakeBuildRunner, deploy: FakeDeployRunner) -> dict[str, Callable]:
    return {"build_runner": lambda: build, "runner_named": lambda name=None: build,
            "deploy_runner": lambda: deploy, "deploy_runner_named": lambda name=None: deploy}


RUNNER_USERS = (  # modules that take a factory function by name at import
    "chalicelib.services.builds.worker", "chalicelib.services.builds.reaper", "chalicelib.services.builds.trigger",
    "chalicelib.services.deploys.worker", "chalicelib.services.deploys.servers",
    "chalicelib.runners.codebuild_completion", "chalicelib.runners.ecs_reconciler",
)


def install_fake_runners(monkeypatch, build: FakeBuildRunner, deploy: FakeDeployRunner) -> None:
    """Every place that asks the runner factory gets the fakes: the factory itself and each module
    that imported one of its functions by name."""
    import importlib

    from chalicelib.runners import factory

    originals = {name: getattr(factory, name) for name in _factory_names(build, deploy)}
    for module_name in RUNNER_USERS:
        importlib.import_module(module_name)
    fakes = _factory_names(build, deploy)
    for module in [m for name, m in list(sys.modules.items()) if name.startswith(ROOT_PACKAGE + ".") and m]:
        for name, original in originals.items():
            if getattr(module, name, None) is original:
                monkeypatch.setattr(module, name, fakes[name])


# --- process-wide caches -------------------------------------------------------------------------


def clear_caches() -> None:
    """Every lru_cache in the control plane (settings, clients, connections, runners, analytics)."""
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "app" or name.startswith(ROOT_PACKAGE + ".")):
            continue
        for value in list(vars(module).values()):
            if isinstance(value, functools._lru_cache_wrapper) and getattr(value, "__module__", None) == name:
                value.cache_clear()


def reset_pynamodb_connections(monkeypatch) -> None:
    """PynamoDB models keep a connection per class and read their host at import: point them at the
    mock (no endpoint) and let each build a new connection on first use."""
    from chalicelib.db.models import BaseItem

    if hasattr(BaseItem.Meta, "host"):
        monkeypatch.setattr(BaseItem.Meta, "host", None)
    pending, seen = [BaseItem], set()
    while pending:
        cls = pending.pop()
        if cls in seen:
            continue
        seen.add(cls)
        if "_connection" in vars(cls):
            monkeypatch.setattr(cls, "_connection", None)
        pending.extend(cls.__subclasses__())


# --- the world a test talks to --------------------------------------------------------------------


@dataclass
class InProcessApi:
    """The app in this process, its AWS in moto's mock; same surface as tests.support.stack.Stack."""

    client: Any  # chalice.test.Client
    owner_key: str
    builds: FakeBuildRunner
    deploys: FakeDeployRunner
    settings: Any

    def url(self, path: str) -> str:
        return path

    def session(self, token: str | None = None) -> Session:
        return Session(self.client.http, token)

    def aws(self, service: str):
        from chalicelib.aws import client

        return client(service)

    def stored_item(self, pk: str, sk: str) -> dict:
        """The raw DynamoDB item behind the API."""
        return self.aws("dynamodb").get_item(
            TableName=self.settings.table_name, Key={"PK": {"S": pk}, "SK": {"S": sk}})["Item"]

    # --- queues: what the local stack's worker and pumps do, on demand ---------------------------

    def queue_url(self, queue_name: str) -> str:
        return self.aws("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"]

    def drop_messages(self, queue_name: str) -> None:
        sqs, url = self.aws("sqs"), self.queue_url(queue_name)
        while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages"):
            for message in got:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def deliver(self, queue_name: str, handler: Callable[[dict, Any], Any], max_rounds: int = 50) -> int:
        """Receive every visible message of the queue and hand it to its consumer, one event per
        message as the event source mapping does (batch_size=1 for builds and deploys); delete what
        the consumer did not report as failed. Returns how many were delivered."""
        sqs, url, delivered = self.aws("sqs"), self.queue_url(queue_name), 0
        for _ in range(max_rounds):
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
            if not got:
                return delivered
            for message in got:
                record = sqs_record(message["Body"], queue_name, message["ReceiptHandle"])
                result = handler({"Records": [record]}, None) or {}
                failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
                if record["messageId"] not in failed:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                delivered += 1
        raise AssertionError(f"{queue_name} never drained")

    def run_builds(self) -> int:
        from app import build_queue_consumer

        return self.deliver(self.settings.build_queue_name, build_queue_consumer)

    def run_deploys(self) -> int:
        from app import deploy_queue_consumer

        return self.deliver(self.settings.deploy_queue_name, deploy_queue_consumer)

    def run_ingest(self) -> int:
        from app import ingest_queue_consumer

        return self.deliver(self.settings.ingest_queue_name, ingest_queue_consumer)

    def run_queues(self) -> None:
        """Builds, then the deploys they queue, until both queues are empty."""
        while self.run_builds() + self.run_deploys():
            pass
