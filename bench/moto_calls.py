"""Per-call cost of the local stack's moto against plain moto, over the real wire.

    .venv/bin/python bench/moto_calls.py [--rounds 300] [--items 3000] [--block 25]

Starts, in the same run, two servers as their own processes: the local stack's moto exactly as the
supervisor starts it (`python -m local_stack.moto_launcher` with a fresh state dir: its mutation
recorder, DynamoDB lock and partition Query), and a plain `moto.server.ThreadedMotoServer` as the
baseline. On each it creates the stack's table shape (PK/SK + GSI1), seeds `--items` items (10 per
partition, 10 per GSI1 key), a queue and a bucket, then runs a realistic mix one call at a time
through boto3 clients made as chalicelib/aws.py makes them: GetItem, conditional PutItem and
UpdateItem, Query on a partition and on GSI1, TransactWriteItems (conditional put + update), SQS
SendMessage / ReceiveMessage / DeleteMessage, S3 PutObject / GetObject (1 KB). Rounds alternate
between the servers in blocks of `--block`, so both see the same machine load.

Prints per-call medians and p95 (ms, caller's wall time) for each server, the caller's CPU per call
(botocore's share) and the server's (from /proc: less sensitive to other load than wall time), and
last `launcher_calls_per_s X` with the ratio to plain moto beside it (1.0 = the launcher costs
nothing over moto).
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
for _k, _v in (("AWS_ACCESS_KEY_ID", "bench"), ("AWS_SECRET_ACCESS_KEY", "bench"), ("AWS_DEFAULT_REGION", "us-east-1")):
    os.environ.setdefault(_k, _v)

from chalicelib.aws import make_client  # noqa: E402
from tests.support.local_aws import free_port  # noqa: E402

REGION = "us-east-1"
TABLE = "bench-state"
QUEUE = "bench-queue"
BUCKET = "bench-bucket"
PER_PARTITION = 10
BODY = b"x" * 1024


def serve_plain(port: int) -> None:
    """The baseline: moto's own threaded server, nothing of ours (the hidden --serve-plain mode)."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # as the launcher: no access log
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print(f"moto ready http://127.0.0.1:{port}", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    server.stop()


def start(name: str, state: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    if name == "launcher":
        cmd = ["-m", "local_stack.moto_launcher", "--host", "127.0.0.1", "--port", str(port),
               "--state-dir", str(state / "moto")]
    else:
        cmd = [str(Path(__file__).resolve()), "--serve-plain", str(port)]
    proc = subprocess.Popen([sys.executable, *cmd], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=open(state / f"{name}.log", "wb"), start_new_session=True, text=True)
    ready = proc.stdout.readline()
    if not ready.startswith("moto ready"):
        os.killpg(proc.pid, signal.SIGKILL)
        raise SystemExit(f"{name} did not start; see {state / f'{name}.log'}")
    return proc, ready.split()[-1]


class Target:
    """One server with its clients and the state the mix needs (a versioned item, a queue URL)."""

    def __init__(self, url: str, items: int):
        self.ddb, self.sqs, self.s3 = (make_client(s, REGION, url) for s in ("dynamodb", "sqs", "s3"))
        self.partitions = max(1, items // PER_PARTITION)
        self.version = 0
        self.n = 0
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.wall = 0.0
        self.cpu = 0.0
        self.calls = 0
        self._setup(items)

    def _setup(self, items: int) -> None:
        s = {"AttributeType": "S"}
        self.ddb.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": a, **s} for a in ("PK", "SK", "GSI1PK", "GSI1SK")],
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{"IndexName": "GSI1", "Projection": {"ProjectionType": "ALL"},
                                     "KeySchema": [{"AttributeName": "GSI1PK", "KeyType": "HASH"},
                                                   {"AttributeName": "GSI1SK", "KeyType": "RANGE"}]}])
        rows = [self._item(f"P#{i // PER_PARTITION}", f"S#{i % PER_PARTITION:03d}", f"G#{i % self.partitions}",
                           f"{i:06d}") for i in range(items)]
        for i in range(0, len(rows), 25):
            self.ddb.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": r}} for r in rows[i:i + 25]]})
        self.ddb.put_item(TableName=TABLE, Item={**self._item("VERSIONED", "A", "G#0", "v"), "v": {"N": "0"}})
        self.queue = self.sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
        self.s3.create_bucket(Bucket=BUCKET)

    @staticmethod
    def _item(pk: str, sk: str, gpk: str, gsk: str) -> dict:
        return {"PK": {"S": pk}, "SK": {"S": sk}, "GSI1PK": {"S": gpk}, "GSI1SK": {"S": gsk}, "kind": {"S": "thing"},
                "status": {"S": "running"}, "attrs": {"M": {"owner": {"S": "team-1"}, "n": {"N": "7"}}}}

    def _call(self, op: str, fn, **kw):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn(**kw)
        dt = time.perf_counter() - t0
        self.cpu += time.process_time() - c0
        self.wall += dt
        self.calls += 1
        self.latency[op].append(dt)
        return result

    def round(self) -> None:
        self.n += 1
        p = f"P#{self.n % self.partitions}"
        new = uuid.uuid4().hex
        self._call("GetItem", self.ddb.get_item, TableName=TABLE, Key={"PK": {"S": p}, "SK": {"S": "S#003"}})
        self._call("PutItem (cond)", self.ddb.put_item, TableName=TABLE, Item=self._item(f"NEW#{new}", "A", p, new),
                   ConditionExpression="attribute_not_exists(PK)")
        self._call("UpdateItem (cond)", self.ddb.update_item, TableName=TABLE,
                   Key={"PK": {"S": "VERSIONED"}, "SK": {"S": "A"}},
                   UpdateExpression="SET v = v + :one, #s = :s", ConditionExpression="v = :v",
                   ExpressionAttributeNames={"#s": "status"},
                   ExpressionAttributeValues={":one": {"N": "1"}, ":v": {"N": str(self.version)}, ":s": {"S": new}})
        self.version += 1
        self._call("Query", self.ddb.query, TableName=TABLE, KeyConditionExpression="PK = :p",
                   ExpressionAttributeValues={":p": {"S": p}})
        self._call("Query GSI1", self.ddb.query, TableName=TABLE, IndexName="GSI1",
                   KeyConditionExpression="GSI1PK = :g", ExpressionAttributeValues={":g": {"S": f"G#{self.n % self.partitions}"}})
        self._call("TransactWriteItems", self.ddb.transact_write_items, TransactItems=[
            {"Put": {"TableName": TABLE, "Item": self._item(f"TX#{new}", "A", p, new),
                     "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Update": {"TableName": TABLE, "Key": {"PK": {"S": "VERSIONED"}, "SK": {"S": "A"}},
                        "UpdateExpression": "SET v = v + :one", "ConditionExpression": "v = :v",
                        "ExpressionAttributeValues": {":one": {"N": "1"}, ":v": {"N": str(self.version)}}}}])
        self.version += 1
        self._call("SendMessage", self.sqs.send_message, QueueUrl=self.queue, MessageBody=f'{{"id": "{new}"}}')
        got = self._call("ReceiveMessage", self.sqs.receive_message, QueueUrl=self.queue, MaxNumberOfMessages=1,
                         WaitTimeSeconds=0)
        for m in got.get("Messages", []):
            self._call("DeleteMessage", self.sqs.delete_message, QueueUrl=self.queue, ReceiptHandle=m["ReceiptHandle"])
        self._call("PutObject", self.s3.put_object, Bucket=BUCKET, Key=f"logs/{p}/{new}", Body=BODY)
        self._call("GetObject", lambda **kw: self.s3.get_object(**kw)["Body"].read(), Bucket=BUCKET,
                   Key=f"logs/{p}/{new}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=300, help="mix rounds per server")
    parser.add_argument("--items", type=int, default=3000, help="items seeded into the table")
    parser.add_argument("--block", type=int, default=25, help="rounds in a row on one server")
    parser.add_argument("--serve-plain", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_plain:
        return serve_plain(args.serve_plain)
    state = Path(tempfile.mkdtemp(prefix="bench-moto-"))
    procs = []
    try:
        targets = {}
        for name in ("launcher", "plain"):
            proc, url = start(name, state)
            procs.append(proc)
            targets[name] = Target(url, args.items)
        for target in targets.values():  # warm-up: first calls build botocore's caches and moto's backends
            target.round()
            target.latency.clear()
            target.wall = target.cpu = target.calls = 0
        done = 0
        server_cpu = dict.fromkeys(targets, 0.0)
        while done < args.rounds:
            block = min(args.block, args.rounds - done)
            for (name, target), proc in zip(targets.items(), procs):
                before = cpu_seconds(proc.pid)
                for _ in range(block):
                    target.round()
                server_cpu[name] += cpu_seconds(proc.pid) - before
            done += block
        recording = (state / "moto" / "recording.jsonl").stat().st_size
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGKILL)  # state is thrown away: no need for a clean stop
            proc.wait()
        shutil.rmtree(state, ignore_errors=True)
    launcher, plain = targets["launcher"], targets["plain"]
    print(f"{args.rounds} rounds of the mix per server, {args.items} items seeded, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'call':<20} {'launcher p50':>12} {'p95':>7} {'plain p50':>10} {'p95':>7} {'ratio p50':>9}   (ms)")
    for op, values in launcher.latency.items():
        base = plain.latency[op]
        print(f"{op:<20} {statistics.median(values) * 1000:12.2f} {pct(values, .95) * 1000:7.2f} "
              f"{statistics.median(base) * 1000:10.2f} {pct(base, .95) * 1000:7.2f} "
              f"{statistics.median(values) / statistics.median(base):9.2f}")
    for name, target in targets.items():
        print(f"{name}: server CPU {server_cpu[name] / target.calls * 1000:.2f} ms per call, caller CPU (botocore) "
              f"{target.cpu / target.calls * 1000:.2f} ms, wall {target.wall / target.calls * 1000:.2f} ms")
    print(f"launcher recording after the run: {recording / 1e6:.1f} MB")
    rate, base_rate = launcher.calls / launcher.wall, plain.calls / plain.wall
    print(f"launcher_calls_per_s {rate:.0f} (plain moto {base_rate:.0f}, ratio {rate / base_rate:.2f})")


if __name__ == "__main__":
    main()
