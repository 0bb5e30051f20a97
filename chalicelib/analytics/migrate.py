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


def migrate(writer: Writer | None = None, ttl: schema.Ttl | None = None) -> dict[str, int]:
    writer = writer or get_writer()
    ttl = ttl or ttl_from_settings()
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
