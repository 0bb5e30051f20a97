"""Scale simulation: health rounds over 1,000 live servers through the sharded sweep.

    .venv/bin/python bench/scale.py [--teams 100] [--per-team 10] [--rounds 3] [--consumers 8]

Starts the local stack's moto (local_stack/moto_launcher.py) as its own process (the real AWS wire
protocol), creates infra/resources.yaml's resources there with the local stack's provisioner, seeds `teams` x `per-team` running deployments
with one server each (BatchWriteItem), and runs health rounds exactly as the stage does: the
schedule's `fan_out("health")` puts shard messages on the shard queue, and the app's
`shard_queue_consumer` handles them through the local stack's QueuePump with `consumers` parallel
invocations (the real services, conditional writes, the broadcaster's read of the shard's channel
heads). Only the runner's probe answers from memory (no ECS task exists). Every AWS call the bench
process makes is counted at botocore's endpoint; DynamoDB reads of WebSocket channels (heads,
subscribers) are counted apart as `(channels)`.

Prints AWS calls per server per round (by operation), writes per partition key per round, the shard
queue's depth over time, and the extrapolation to 10,000 servers against AWS's published limits;
the last line is `health_round_s X` (median round over the rounds, for the seeded servers).
moto answers a few hundred writes a second here: the wall time is moto's, the call counts are the
design's.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Published AWS figures the extrapolation is held against (see docs/capacity.md for the sources).
PARTITION_WCU = 1000  # writes/s of 1 KB per partition
PARTITION_RCU = 3000  # strongly consistent reads/s of 4 KB per partition
TABLE_ON_DEMAND_WCU = 40000  # default on-demand table throughput quota, writes
LAMBDA_CONCURRENCY = 1000  # default account concurrency per region
GET_METRIC_DATA_TPS = 50  # CloudWatch GetMetricData, per account and region (adjustable)
TARGET_SERVERS = 10000
ROUND_SECONDS = 60  # the schedule's rate


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto(port: int, home: Path, log) -> subprocess.Popen:
    """The local stack's moto (local_stack/moto_launcher.py: its DynamoDB lock and key-Query patch),
    as its own process, state under `home`."""
    proc = subprocess.Popen([sys.executable, "-m", "local_stack.moto_launcher", "--host", "127.0.0.1",
                             "--port", str(port), "--state-dir", str(home / "moto")],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=log, start_new_session=True, text=True)
    ready = proc.stdout.readline()  # "moto ready URL" once it serves, EOF if it died
    if not ready.startswith("moto ready"):
        proc.wait(timeout=10)
        raise SystemExit(f"moto did not start (exit {proc.returncode}); see {log.name}")
    return proc


def configure(url: str, home: Path) -> None:
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1", "MA_STAGE": "bench", "MA_AWS_ENDPOINT_URL": url,
        "MA_CLICKHOUSE_INTERFACE": "chdb", "MA_CLICKHOUSE_PATH": str(home / "clickhouse"),
        "MA_WS_MANAGEMENT_URL": "http://127.0.0.1:9", "POWERTOOLS_SERVICE_NAME": "mastra-admin",
        "POWERTOOLS_LOG_LEVEL": "WARNING", "MA_HOME": str(home),
    })
    for name in ("MA_TABLE_NAME", "MA_SHARD_QUEUE", "MA_ROUTE_TOPIC_ARN"):
        os.environ.pop(name, None)


class CallCounter:
    """Every AWS call of this process, by service and operation; DynamoDB writes by partition key."""

    WRITES = {"PutItem", "UpdateItem", "DeleteItem"}

    def __init__(self):
        self.lock = threading.Lock()
        self.calls: collections.Counter = collections.Counter()
        self.writes_by_pk: collections.Counter = collections.Counter()

    def install(self) -> None:
        from botocore.endpoint import Endpoint

        original = Endpoint.make_request
        counter = self

        def make_request(endpoint, operation_model, request_dict):
            counter.record(operation_model.service_model.service_name, operation_model.name, request_dict)
            return original(endpoint, operation_model, request_dict)

        Endpoint.make_request = make_request

    def record(self, service: str, operation: str, request: dict) -> None:
        pks = []
        if service == "dynamodb" and operation in self.WRITES | {"TransactWriteItems", "BatchWriteItem"}:
            pks = _partition_keys(operation, request.get("body"))
        elif service == "dynamodb" and "CHANNEL#" in str(request.get("body")):
            operation += " (channels)"  # the WebSocket publish's share of the reads
        with self.lock:
            self.calls[(service, operation)] += 1
            for pk in pks:
                self.writes_by_pk[pk] += 1

    def take(self) -> tuple[collections.Counter, collections.Counter]:
        with self.lock:
            calls, writes = self.calls, self.writes_by_pk
            self.calls, self.writes_by_pk = collections.Counter(), collections.Counter()
        return calls, writes


def _partition_keys(operation: str, body) -> list[str]:
    try:
        payload = json.loads(body)
    except (TypeError, ValueError):
        return []
    if operation in CallCounter.WRITES:
        item = payload.get("Key") or payload.get("Item") or {}
        return [item.get("PK", {}).get("S", "?")]
    if operation == "TransactWriteItems":
        out = []
        for action in payload.get("TransactItems", []):
            (_, spec), = action.items()
            out.append((spec.get("Key") or spec.get("Item") or {}).get("PK", {}).get("S", "?"))
        return out
    return [(r.get("PutRequest", {}).get("Item") or r.get("DeleteRequest", {}).get("Key") or {}).get("PK", {}).get("S", "?")
            for requests in payload.get("RequestItems", {}).values() for r in requests]


def key_shape(pk: str) -> str:
    """SERVER#srv_01h... -> SERVER#{id}: partitions grouped by their access pattern."""
    head, sep, tail = pk.partition("#")
    return f"{head}#{{id}}" if sep and "_" in tail else pk


def queue_depth(sqs, url: str) -> tuple[int, int]:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


def moto_baseline(seeded, n: int = 200) -> float:
    """Calls/s of moto for the health check's own write (one conditional UpdateItem), one at a time
    from this process."""
    from chalicelib.db import servers as store

    sample = seeded[:n]
    started = time.monotonic()
    for s in sample:
        store.set_fields(s.server_id, ("running",), health="healthy")
    return len(sample) / (time.monotonic() - started)


def run_round(fan_out, runner, servers: int, sqs, url: str, timeout: float = 300) -> tuple[float, list, int]:
    """One round: fan out, then wait until every server was probed and the queue is empty."""
    before = runner.probes
    samples: list[tuple[float, int, int]] = []
    started = time.monotonic()
    shards = fan_out("health")
    while True:
        elapsed = time.monotonic() - started
        visible, in_flight = queue_depth(sqs, url)
        samples.append((elapsed, visible, in_flight))
        if runner.probes - before >= servers and visible == 0 and in_flight == 0:
            return time.monotonic() - started, samples, shards
        if elapsed > timeout:
            raise SystemExit(f"round not done after {timeout:.0f} s ({runner.probes - before} of {servers} probed)")
        time.sleep(0.25)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=100)
    parser.add_argument("--per-team", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--consumers", type=int, default=8, help="shard invocations at once (Lambda concurrency)")
    parser.add_argument("--shard-size", type=int, default=50)
    args = parser.parse_args(argv)
    servers = args.teams * args.per_team

    home = Path(tempfile.mkdtemp(prefix="ma-scale-"))
    log = open(home / "moto.log", "w")
    port = free_port()
    moto = start_moto(port, home, log)
    try:
        url = f"http://127.0.0.1:{port}"
        configure(url, home)
        os.environ["MA_SHARD_SIZE"] = str(args.shard_size)
        from local_stack.provision import provision
        from chalicelib.settings import get_settings

        settings = get_settings()
        provision(url, settings.region, settings.stage)
        counter = CallCounter()
        counter.install()

        import app  # the Chalice app: the same consumer and sinks as in Lambda
        from chalicelib import aws
        from chalicelib.services.deploys import servers as server_service
        from chalicelib.workers.shards import fan_out
        from local_stack.dispatcher import QueuePump
        from tests.support.fleet import MemoryRunner, seed_fleet

        runner = MemoryRunner()
        server_service.deploy_runner_named = lambda name=None: runner  # probes from memory, nothing else faked
        t0 = time.monotonic()
        seeded = seed_fleet(args.teams, args.per_team)
        seed_s = time.monotonic() - t0
        seeded_calls, _ = counter.take()
        print(f"seeded {args.teams} teams, {servers} deployments and servers in {seed_s:.1f} s "
              f"({seeded_calls[('dynamodb', 'BatchWriteItem')]} BatchWriteItem calls)", flush=True)

        baseline = moto_baseline(seeded)
        print(f"moto baseline: {baseline:.0f} health-check calls/s (the server's UpdateItem, "
              f"sequential, this process)", flush=True)

        sqs = aws.client("sqs")
        queue_url = sqs.get_queue_url(QueueName=settings.shard_queue_name)["QueueUrl"]
        errors: list[str] = []
        shard_seconds: list[float] = []

        def timed_consumer(event, context):  # one invocation = one shard (batch_size 1, as in the stage)
            started = time.monotonic()
            try:
                return app.shard_queue_consumer(event, context)
            finally:
                shard_seconds.append(time.monotonic() - started)

        pump = QueuePump(sqs, settings.shard_queue_name, timed_consumer, region=settings.region,
                         batch_size=1, concurrency=args.consumers, timeout_seconds=60, on_error=errors.append).start()
        rounds: list[float] = []
        per_round_calls: list[collections.Counter] = []
        per_round_writes: list[collections.Counter] = []
        samples: list = []
        shards = 0
        try:
            for r in range(args.rounds):
                counter.take()
                shard_seconds.clear()
                seconds, samples, shards = run_round(fan_out, runner, servers, sqs, queue_url)
                calls, writes = counter.take()
                rounds.append(seconds)
                per_round_calls.append(calls)
                per_round_writes.append(writes)
                print(f"round {r + 1}: {servers} servers in {shards} shards, {seconds:.1f} s, "
                      f"{sum(calls.values())} AWS calls", flush=True)
        finally:
            pump.stop()
        report(args, servers, shards, rounds, per_round_calls, per_round_writes, samples, errors, shard_seconds,
               baseline)
        print(f"health_round_s {statistics.median(rounds):.1f}")
        return 0
    finally:
        os.killpg(moto.pid, signal.SIGTERM)
        try:
            moto.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(moto.pid, signal.SIGKILL)
            moto.wait()
        moto.stdout.close()
        log.close()
        shutil.rmtree(home, ignore_errors=True)


def report(args, servers, shards, rounds, per_round_calls, per_round_writes, samples, errors,
           shard_seconds: list[float], baseline: float) -> None:
    calls = per_round_calls[-1]
    writes = per_round_writes[-1]
    # Queue polling and the bench's own depth reads are the harness, not the design.
    harness = {("sqs", "ReceiveMessage"), ("sqs", "GetQueueAttributes"), ("sqs", "DeleteMessageBatch"),
               ("sqs", "GetQueueUrl")}
    design = {k: v for k, v in calls.items() if k not in harness}
    total = sum(design.values())
    print("\nAWS calls per server per round (last round; the harness's queue polling left out):")
    for (service, op), n in sorted(design.items(), key=lambda kv: -kv[1]):
        print(f"  {service + ':' + op:<42} {n:6d}  {n / servers:6.3f}/server")
    per_server = total / servers
    print(f"  total {total} = {per_server:.3f} calls/server/round (+ 1 SQS receive and delete per shard of "
          f"{args.shard_size} in Lambda)")

    by_shape: dict[str, list[int]] = collections.defaultdict(list)
    for pk, n in writes.items():
        by_shape[key_shape(pk)].append(n)
    print("\nDynamoDB writes per partition key per round:")
    for shape, counts in sorted(by_shape.items(), key=lambda kv: -max(kv[1])):
        print(f"  {shape:<28} keys {len(counts):5d}  max/key {max(counts):3d}  total {sum(counts)}")
    hottest = max((max(c) for c in by_shape.values()), default=0)

    print("\nshard queue depth over the last round (s: visible / in flight):")
    step = max(1, len(samples) // 12)
    print("  " + "  ".join(f"{t:.1f}s:{v}/{f}" for t, v, f in samples[::step] + [samples[-1]]))

    median = statistics.median(rounds)
    ordered = sorted(shard_seconds) or [median]
    shard_s = statistics.median(ordered)
    shard_p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    target_shards = -(-TARGET_SERVERS // args.shard_size)
    writes_per_server = sum(n for (s, op), n in design.items() if s == "dynamodb" and op in CallCounter.WRITES) / servers
    print(f"\nextrapolation to {TARGET_SERVERS} servers (one round a minute):")
    print(f"  shards per round {target_shards}; one shard of {args.shard_size} took {shard_s:.2f} s median, "
          f"{shard_p95:.2f} s p95 here on moto with {args.consumers} at once (Lambda timeout 60 s, "
          f"the rest re-queued below {int(os.environ.get('MA_SHARD_MARGIN_SECONDS', 10))} s left)")
    concurrency = target_shards * shard_s / ROUND_SECONDS
    print(f"  Lambda concurrency to finish each round within the minute: {concurrency:.0f} of the default "
          f"{LAMBDA_CONCURRENCY} (SQS scales its pollers by up to 300 invocations a minute)")
    print(f"  AWS calls/s {TARGET_SERVERS * per_server / ROUND_SECONDS:.0f}; DynamoDB writes/s "
          f"{TARGET_SERVERS * writes_per_server / ROUND_SECONDS:.0f} of the table's default on-demand "
          f"{TABLE_ON_DEMAND_WCU}")
    print(f"  hottest partition: {hottest} writes per round = {hottest / ROUND_SECONDS:.3f}/s of {PARTITION_WCU} "
          f"WCU/s ({100 * hottest / ROUND_SECONDS / PARTITION_WCU:.3f}%); the marker partition is only read "
          f"(one Query, {-(-TARGET_SERVERS * 60 // 1_000_000)} MB-page(s) of keys)")
    probe_rate = TARGET_SERVERS / ROUND_SECONDS
    print(f"  next bound (not simulated: the probe answers from memory): the ECS runner's probe makes one "
          f"DescribeTasks and one GetMetricData per server, {probe_rate:.0f}/s each at {TARGET_SERVERS} servers, "
          f"against CloudWatch's {GET_METRIC_DATA_TPS} GetMetricData TPS and ECS's per-account read buckets "
          f"(tens/s); per shard that is {-(-args.shard_size // 100)} DescribeTasks (100 tasks a call) and "
          f"{-(-args.shard_size * 3 // 500)} GetMetricData (500 metrics a call): "
          f"{target_shards / ROUND_SECONDS:.1f}/s each")
    if errors:
        print(f"\nconsumer errors ({len(errors)}): {errors[:3]}")
    print(f"\nrounds (s): {', '.join(f'{r:.1f}' for r in rounds)}; median {median:.1f}, "
          f"max {max(rounds):.1f}")
    print(f"the same round's calls at this moto's sequential rate: {total / baseline:.1f} s "
          f"(round / that = {median / (total / baseline):.2f}: what parallel consumers add or save on one moto)")


if __name__ == "__main__":
    sys.exit(main())
