"""Apply the ClickHouse schema and seed the price list: an explicit, idempotent step.

    python -m chalicelib.analytics.migrate        (`make migrate`; the local stack runs it on start)

In AWS this is a one-off function run by the deploy pipeline, never at Lambda start. Retention is
configurable: MA_SPANS_TTL_DAYS (90), MA_LOGS_TTL_DAYS (30), MA_METRICS_TTL_DAYS (90),
MA_SCORES_TTL_DAYS (365), MA_BUILD_LOGS_TTL_DAYS (30); each run re-applies it.
"""
from __future__ import annotations

import os
import sys

from chalicelib.analytics import prices, schema
from chalicelib.analytics.writer import Writer, get_writer


def ttl_from_env() -> schema.Ttl:
    def days(name: str, default: int) -> int:
        return int(os.environ.get(name) or default)

    return schema.Ttl(
        spans_days=days("MA_SPANS_TTL_DAYS", 90), logs_days=days("MA_LOGS_TTL_DAYS", 30),
        metrics_days=days("MA_METRICS_TTL_DAYS", 90), scores_days=days("MA_SCORES_TTL_DAYS", 365),
        build_logs_days=days("MA_BUILD_LOGS_TTL_DAYS", 30),
    )


def seed_prices(writer: Writer) -> int:
    current = {(m, i, o) for m, i, o in writer.query(
        "SELECT model, input_per_mtok, output_per_mtok FROM model_prices FINAL WHERE team_id = ''")}
    rows = [["", model, i, o, prices.SOURCE] for model, (i, o) in sorted(prices.SEED.items())
            if (model, i, o) not in current]
    if rows:
        writer.insert_rows("model_prices", ["team_id", "model", "input_per_mtok", "output_per_mtok", "source"], rows)
    return len(rows)


def migrate(writer: Writer | None = None, ttl: schema.Ttl | None = None) -> dict[str, int]:
    writer = writer or get_writer()
    ttl = ttl or ttl_from_env()
    statements = schema.tables(ttl)
    for ddl in statements.values():
        writer.command(ddl)
    for alter in schema.ttl_alters(ttl):
        writer.command(alter)
    return {"statements": len(statements), "pricesSeeded": seed_prices(writer)}


def main() -> int:
    result = migrate()
    print(f"migrate: {result['statements']} tables/views ensured, {result['pricesSeeded']} prices seeded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
