"""Apply the ClickHouse schema and seed the price list: an explicit, idempotent step.

    python -m chalicelib.analytics.migrate        (`make migrate`; the local stack runs it on start)

In AWS this is a one-off function run by the deploy pipeline, never at Lambda start. Retention comes
from the settings (`MA_SPANS_TTL_DAYS` and the other `*_TTL_DAYS` in chalicelib/settings.py); each run
re-applies it.
"""
from __future__ import annotations

import sys

from chalicelib.analytics import prices, schema
from chalicelib.analytics.writer import Writer, get_writer
from chalicelib.settings import get_settings


def ttl_from_settings() -> schema.Ttl:
    s = get_settings()
    return schema.Ttl(spans_days=s.spans_ttl_days, logs_days=s.logs_ttl_days, metrics_days=s.metrics_ttl_days,
                      scores_days=s.scores_ttl_days, build_logs_days=s.build_logs_ttl_days)


def seed_prices(writer: Writer) -> int:
    current = {(m, i, o) for m, i, o in writer.query(
        "SELECT model, input_per_mtok, output_per_mtok FROM model_prices FINAL WHERE team_id = ''")}
    rows = [["", model, i, o, prices.SOURCE] for model, (i, o) in sorted(prices.SEED.items())
            if (model, i, o) not in current]
    if rows:
        writer.insert_rows("model_prices", ["team_id", "model", "input_per_mtok", "output_per_mtok", "source"], rows)
    return len(rows)


# Rollups added after spans were already stored: view -> (target table, its SELECT over spans). The
# first migrate that creates the view also fills the target from the spans ingested before it.
BACKFILLS = {"release_rollup_hourly_mv": ("release_rollup_hourly", schema.release_rollup_select)}


def _exists(writer: Writer, table: str) -> bool:
    return bool(writer.query("EXISTS TABLE {t:Identifier}", {"t": table})[0][0])


def backfill(writer: Writer, view: str, cutoff) -> None:
    """Spans ingested before `cutoff` (the view's creation) into the view's target. The token makes a
    retried backfill with the same cutoff write nothing twice."""
    target, select = BACKFILLS[view]
    token = f"backfill:{view}:{cutoff.isoformat()}"
    writer.command(f"INSERT INTO {target} SETTINGS insert_deduplication_token = {{token:String}} "
                   f"{select('ingested_at < {cutoff:DateTime64(3)}')}", {"cutoff": cutoff, "token": token})


def reindex(writer: Writer, index: schema.SkipIndex) -> bool:
    """Re-make a skip index whose type or granularity changed since the table was created (the
    CREATE above leaves an existing table alone); True when it did."""
    found = writer.query("SELECT type_full, granularity FROM system.data_skipping_indices WHERE database = "
                         "currentDatabase() AND table = {t:String} AND name = {n:String}",
                         {"t": index.table, "n": index.name})
    if found and (found[0][0].replace(" ", ""), int(found[0][1])) == (index.type.replace(" ", ""), index.granularity):
        return False
    writer.command(f"ALTER TABLE {index.table} DROP INDEX IF EXISTS {index.name}")
    writer.command(f"ALTER TABLE {index.table} ADD {index.ddl()}")
    writer.command(f"ALTER TABLE {index.table} MATERIALIZE INDEX {index.name}")
    return True


def migrate(writer: Writer | None = None, ttl: schema.Ttl | None = None) -> dict[str, int]:
    writer = writer or get_writer()
    ttl = ttl or ttl_from_settings()
    statements = schema.tables(ttl)
    pending = [v for v in BACKFILLS if not _exists(writer, v)] if _exists(writer, "spans") else []
    cutoff = writer.query("SELECT now64(3)")[0][0] if pending else None
    for ddl in statements.values():
        writer.command(ddl)
    for view in pending:
        backfill(writer, view, cutoff)
    for alter in schema.ttl_alters(ttl):
        writer.command(alter)
    reindexed = reindex(writer, schema.SPANS_TRACE_INDEX)
    return {"statements": len(statements), "pricesSeeded": seed_prices(writer), "backfilled": len(pending),
            "reindexed": int(reindexed)}


def main() -> int:
    result = migrate()
    print(f"migrate: {result['statements']} tables/views ensured, {result['pricesSeeded']} prices seeded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
