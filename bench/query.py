"""Query latency over 1,000,000 spans: a trace-tree lookup and a 7-day hourly metrics query.

    python bench/query.py [--lines 1000000] [--runs 200]

Loads the same generated file bench/ingest.py uses (7 days of agent traces) through the ingest
insert into a fresh chDB, then times what the API runs: the trace tree (span rows of one random
trace + the price table) and the metrics query (trace and model families from the hourly rollup,
7 days, hourly buckets). Prints p50/p95 in milliseconds.
"""
from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def pct(samples: list[float], p: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def load(db: str, path: Path, overrides: dict[str, str] | None = None):
    """A fresh chDB at `db`, migrated, with the file loaded through the ingest insert (rollup views
    included). `overrides`: column -> expression over the input, replacing the record's own."""
    import clickhouse_connect

    from chalicelib.analytics import schema
    from chalicelib.analytics.migrate import migrate
    from chalicelib.analytics.writer import FileInsert, Writer
    from ingest import SCOPE

    client = clickhouse_connect.get_client(interface="chdb", path=db)
    writer = Writer(client, "chdb")
    migrate(writer)
    spec = schema.SPANS
    expressions = [(overrides or {}).get(c, e) for c, e in zip(spec.columns(), spec.expressions())]
    t = time.perf_counter()
    writer.insert_file(FileInsert(
        table=spec.table, columns=spec.columns(), expressions=expressions, structure=spec.structure(),
        fmt="JSONEachRow", predicate=spec.predicate(), token="bench-query",
        parameters={"team": SCOPE.team_id, "project": SCOPE.project_id, "deployment": SCOPE.deployment_id,
                    "source_key": "bench"}), str(path))
    print(f"loaded {path.stat().st_size / 1e6:.0f} MB of spans in {time.perf_counter() - t:.1f}s", flush=True)
    return client, writer


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()

    from chalicelib.analytics import queries
    from ingest import SCOPE, dataset

    path = dataset(args.lines)
    db = tempfile.mkdtemp(prefix="ma-bench-query-")
    try:
        client, writer = load(db, path)
        client.command("OPTIMIZE TABLE span_rollup_hourly FINAL")
        ids = [r[0] for r in writer.query(
            "SELECT trace_id FROM spans WHERE is_root ORDER BY cityHash64(trace_id) LIMIT 1000")]
        rng = random.Random(5)
        tree: list[float] = []
        for _ in range(args.runs):
            trace_id = rng.choice(ids)
            t = time.perf_counter()
            spans = queries.trace_spans(writer, SCOPE.team_id, SCOPE.project_id, trace_id)
            queries.prices_for(writer, SCOPE.team_id)
            tree.append((time.perf_counter() - t) * 1000)
            assert len(spans) == 6, len(spans)
        end = datetime.now(timezone.utc)
        start = end - timedelta(days=7)
        metrics: list[float] = []
        for _ in range(max(20, args.runs // 4)):
            t = time.perf_counter()
            a = queries.rollup(writer, SCOPE.team_id, SCOPE.project_id, "trace", start, end, interval="hour",
                               group_by="none", by_model=False)
            queries.rollup(writer, SCOPE.team_id, SCOPE.project_id, "model", start, end, interval="hour",
                           group_by="none", by_model=True)
            metrics.append((time.perf_counter() - t) * 1000)
            assert len(a) >= 160, len(a)
        print(f"spans {args.lines}  trace lookups {len(tree)}  metrics queries {len(metrics)}")
        print(f"trace_tree_p50_ms {statistics.median(tree):.1f}")
        print(f"trace_tree_p95_ms {pct(tree, 95):.1f}")
        print(f"metrics_7d_hourly_p50_ms {statistics.median(metrics):.1f}")
        print(f"metrics_7d_hourly_p95_ms {pct(metrics, 95):.1f}")
        client.close()
    finally:
        shutil.rmtree(db, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
