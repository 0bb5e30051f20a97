"""Ingest throughput: the real ingest path vs the engine's own ceiling and a naive Python floor.

    python bench/ingest.py [--lines 1000000] [--floor-lines 200000] [--repeat 2]

Generates N realistic span lines (tests/support/observability_records.py: whole agent traces with
model generations, tool calls and token usage), puts them in S3 (moto, in-process) as one object,
and measures, on the same file, same machine, same chDB engine, rounds interleaved so that load
from other processes hits every contender alike:

  ingest        the ingest worker handling one SQS event for the object (S3 GET, chunking,
                engine-side JSONEachRow parsing with contract checks, dedup tokens, rollup views,
                row-count check, ledger): rows/s over the whole handler call;
  ceiling       the engine's own `INSERT INTO spans (cols) SELECT <mapping> FROM file(path,
                JSONEachRow, structure)` into the *same target shape*: a second database migrated
                from the same DDL (spans with its sort key, codecs, bloom index, TTL, and the
                rollup and row-count views), the same column mapping, default insert settings, no
                contract predicate, no dedup token, no S3. What the ingest path adds on top of
                this is exactly its own overhead;
  bare ceiling  `INSERT INTO t SELECT * FROM file(path, JSONEachRow)` into a MergeTree with the
                inferred schema, ORDER BY tuple() and no views: a simpler table than the ingest
                path writes, printed for reference (ratio_to_bare_ceiling);
  floor         json.loads per line in Python, then a columnar insert (on --floor-lines lines).

Best of --repeat rounds each. The last line is `ratio_to_ceiling X` (target >= 0.7).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from tests.support.observability_records import Scope, spans_stream, write_jsonl  # noqa: E402

SCOPE = Scope("team_bench", "prj_bench", "dep_bench")
# The ceiling inserts as the ingest path does where the setting is the table's business, not parsing's.
PARSE_SETTINGS = {"input_format_skip_unknown_fields": 1, "input_format_json_read_objects_as_strings": 1,
                  "optimize_on_insert": 0}
BUCKET = "bench-artifacts"


class Clock:
    """Wall time and this process's CPU time (the engine runs in-process: its threads count too). Other
    processes' load stretches wall time, not CPU time, so on a shared machine the CPU ratio is the steadier."""

    def __enter__(self) -> "Clock":
        self.wall, self.cpu = time.perf_counter(), self._cpu()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, self._cpu() - self.cpu

    @staticmethod
    def _cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime


def dataset(lines: int) -> Path:
    """The generated file, cached between runs (same seed, same bytes)."""
    path = Path(tempfile.gettempdir()) / f"ma-bench-spans-{lines}.jsonl"
    if not path.exists():
        start = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(days=7)
        t = time.perf_counter()
        tmp = path.with_suffix(".partial")
        write_jsonl(tmp, spans_stream(SCOPE, lines, start=start, days=7))
        tmp.rename(path)
        print(f"generated {lines} lines ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f}s",
              flush=True)
    return path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--floor-lines", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--chunk-mb", type=int, default=0, help="override the ingest chunk size (default: the local stack's)")
    ap.add_argument("--keep", help="keep the chDB directory here (bench/query.py can reuse it)")
    args = ap.parse_args()

    import boto3
    import clickhouse_connect
    from moto import mock_aws

    from chalicelib.analytics import schema
    from chalicelib.analytics.migrate import migrate
    from chalicelib.analytics.writer import Writer
    from chalicelib.services.observability.ingest import Ingestor
    from chalicelib.workers import ingest
    from tests.support.ingest_env import s3_notification
    from tests.support.inprocess import sqs_event

    path = dataset(args.lines)
    size = path.stat().st_size
    db = args.keep or tempfile.mkdtemp(prefix="ma-bench-chdb-")
    if args.keep:
        shutil.rmtree(db, ignore_errors=True)
    client = clickhouse_connect.get_client(interface="chdb", path=db)
    writer = Writer(client, "chdb", client_factory=lambda: clickhouse_connect.get_client(interface="chdb", path=db))
    migrate(writer)
    # The ceiling's target: the same schema, views included, in a database of its own.
    client.command("CREATE DATABASE IF NOT EXISTS bench_ceiling")
    migrate(Writer(clickhouse_connect.get_client(interface="chdb", path=db, database="bench_ceiling"), "chdb"))

    def clean() -> None:
        """Every contender starts from empty tables, so no one pays for another's background merges."""
        for database in ("default", "bench_ceiling"):
            for table in ("spans", "span_rollup_hourly", "ingested_rows", "ingested_objects"):
                client.command(f"TRUNCATE TABLE {database}.{table}")
        client.command("DROP TABLE IF EXISTS bench_bare")

    def ceiling() -> Clock:
        clean()
        spec = schema.SPANS
        structure = spec.structure().replace("'", "\\'")
        with Clock() as clock:
            client.command(f"INSERT INTO bench_ceiling.spans ({', '.join(spec.columns())}) "
                           f"SELECT {', '.join(spec.expressions())} "
                           f"FROM file('{path}', 'JSONEachRow', '{structure}')",
                           parameters={"source_key": "bench"}, settings=PARSE_SETTINGS)
        got = client.query("SELECT count() FROM bench_ceiling.spans").result_rows[0][0]
        assert got == args.lines, f"ceiling inserted {got}"
        return clock

    def bare_ceiling() -> Clock:
        clean()
        client.command(f"CREATE TABLE bench_bare ENGINE = MergeTree ORDER BY tuple() AS "
                       f"SELECT * FROM file('{path}', 'JSONEachRow') LIMIT 0", settings=PARSE_SETTINGS)
        with Clock() as clock:
            client.command(f"INSERT INTO bench_bare SELECT * FROM file('{path}', 'JSONEachRow')",
                           settings=PARSE_SETTINGS)
        return clock

    results: dict[str, float] = {"ingest": 0.0, "ceiling": 0.0, "bare": 0.0}
    cpu: dict[str, float] = {"ingest": 0.0, "ceiling": 0.0, "bare": 0.0}  # rows per CPU second
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        from chalicelib.settings import Settings

        chunk_mb = args.chunk_mb or Settings(stage="local").ingest_chunk_mb  # the local stack's (chDB) chunk
        ingestor = Ingestor(s3, writer, chunk_bytes=chunk_mb << 20)
        keys = []
        for run in range(args.repeat):
            key = SCOPE.s3_key("spans", f"bench-{run}.jsonl")
            s3.upload_file(str(path), BUCKET, key)
            keys.append((key, s3.head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"')))

        for run in range(args.repeat):
            key, etag = keys[run]
            event = sqs_event(s3_notification(BUCKET, key, etag, size))
            clean()
            with Clock() as clock:
                result = ingest.handle(event, ingestor=ingestor)
            assert result == {"batchItemFailures": []}, result
            got = writer.query("SELECT ingested FROM ingested_objects FINAL WHERE key = {k:String}", {"k": key})
            assert got and got[0][0] == args.lines, f"ingested {got}, expected {args.lines}"
            clocks = {"ingest": clock, "ceiling": ceiling(), "bare": bare_ceiling()}
            rates = {name: args.lines / c.wall for name, c in clocks.items()}
            for name, c in clocks.items():
                results[name] = max(results[name], args.lines / c.wall)
                cpu[name] = max(cpu[name], args.lines / c.cpu)
            print(f"round {run + 1}: ingest {rates['ingest']:>9,.0f}  ceiling {rates['ceiling']:>9,.0f}  "
                  f"bare ceiling {rates['bare']:>9,.0f} rows/s  (ingest/ceiling {rates['ingest'] / rates['ceiling']:.2f})",
                  flush=True)

    # The floor: what a per-line Python parser achieves on the same lines.
    columns = ["recordId", "traceId", "spanId", "parentSpanId", "name", "spanType", "startTime", "durationMs",
               "status", "model", "inputTokens", "outputTokens", "attributes", "input", "output"]
    client.command("DROP TABLE IF EXISTS bench_floor")
    client.command("CREATE TABLE bench_floor (recordId String, traceId String, spanId String, parentSpanId String, "
                   "name String, spanType String, startTime DateTime64(3, 'UTC'), durationMs Float64, status String, "
                   "model String, inputTokens UInt64, outputTokens UInt64, attributes String, input String, "
                   "output String) ENGINE = MergeTree ORDER BY tuple()")
    t = time.perf_counter()
    rows, n = [], 0
    with open(path, "rb") as f:
        for line in f:
            if n >= args.floor_lines:
                break
            r = json.loads(line)
            rows.append([r["recordId"], r["traceId"], r["spanId"], r.get("parentSpanId") or "", r["name"],
                         r["spanType"], datetime.fromisoformat(r["startTime"].replace("Z", "+00:00")),
                         r["durationMs"], r["status"], r.get("model") or "", r.get("inputTokens") or 0,
                         r.get("outputTokens") or 0, json.dumps(r.get("attributes") or {}), r.get("input") or "",
                         r.get("output") or ""])
            n += 1
            if len(rows) == 50_000:
                client.insert("bench_floor", rows, column_names=columns)
                rows = []
    if rows:
        client.insert("bench_floor", rows, column_names=columns)
    results["floor"] = n / (time.perf_counter() - t)
    print(f"floor   ({n} lines): {results['floor']:>10,.0f} rows/s", flush=True)

    client.close()
    if not args.keep:
        shutil.rmtree(db, ignore_errors=True)
    print(f"lines {args.lines}  bytes {size}  cores {os.cpu_count()}  chunk {chunk_mb} MB")
    print(f"ingest_rows_per_s {results['ingest']:.0f}")
    print(f"ceiling_rows_per_s {results['ceiling']:.0f}  (same target shape: spans + views)")
    print(f"bare_ceiling_rows_per_s {results['bare']:.0f}  (inferred schema, ORDER BY tuple(), no views)")
    print(f"floor_rows_per_s {results['floor']:.0f}")
    print(f"cpu rows per CPU second: ingest {cpu['ingest']:.0f}  ceiling {cpu['ceiling']:.0f}  bare {cpu['bare']:.0f}  "
          f"(load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"cpu_ratio_to_bare_ceiling {cpu['ingest'] / cpu['bare']:.2f}")
    print(f"ratio_to_floor {results['ingest'] / results['floor']:.2f}")
    print(f"ratio_to_bare_ceiling {results['ingest'] / results['bare']:.2f}")
    print(f"ratio_to_ceiling {results['ingest'] / results['ceiling']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
