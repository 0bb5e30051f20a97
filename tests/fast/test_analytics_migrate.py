"""`migrate` brings a store made by an older schema up to date: the per-build rollup is created and
filled from the spans stored before it (once), and the trace index is re-made with today's shape."""
from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def old_store():
    """A database of its own in the tier's chDB, with `spans` as an older migrate made it."""
    import clickhouse_connect

    from chalicelib.analytics import schema
    from chalicelib.analytics.writer import Writer
    from tests.support.chdb import chdb_client, chdb_path

    name = f"old_{uuid.uuid4().hex[:8]}"
    chdb_client().command(f"CREATE DATABASE {name}")
    writer = Writer(clickhouse_connect.get_client(interface="chdb", path=chdb_path(), database=name), "chdb")
    old_index = schema.SPANS_TRACE_INDEX.ddl().replace("bloom_filter(0.01) GRANULARITY 4",
                                                       "bloom_filter(0.001) GRANULARITY 1")
    writer.command(schema.tables(schema.Ttl())["spans"].replace(schema.SPANS_TRACE_INDEX.ddl(), old_index))
    yield writer
    chdb_client().command(f"DROP DATABASE {name}")


def _span(build: str, span_id: str, status: str) -> str:
    return (f"('t', 'p', 'd', '{build}', 'tr{span_id}', '{span_id}', 1, 'agent_run', now(), now(), 250, "
            f"'{status}')")


def test_an_old_store_gets_the_rollup_filled_once_and_the_new_trace_index(old_store):
    from chalicelib.analytics.migrate import migrate

    old_store.command("INSERT INTO spans (team_id, project_id, deployment_id, build_id, trace_id, span_id, is_root, "
                      "span_type, start_time, end_time, duration_ms, status) VALUES "
                      + ", ".join(_span("bld_a", str(i), "error" if i < 2 else "ok") for i in range(10)))
    first = migrate(old_store)
    assert (first["backfilled"], first["reindexed"]) == (1, 1)
    again = migrate(old_store)
    assert (again["backfilled"], again["reindexed"]) == (0, 0)
    old_store.command("INSERT INTO spans (team_id, project_id, deployment_id, build_id, trace_id, span_id, is_root, "
                      "span_type, start_time, end_time, duration_ms, status) VALUES " + _span("bld_a", "99", "ok"))
    runs = old_store.query("SELECT sum(runs), sum(run_errors) FROM release_rollup_hourly WHERE build_id = 'bld_a'")
    assert runs == [(11, 2)]  # 10 backfilled once, 1 through the view
    index = old_store.query("SELECT type_full, granularity FROM system.data_skipping_indices "
                            "WHERE database = currentDatabase() AND table = 'spans' AND name = 'idx_trace'")
    assert index == [("bloom_filter(0.01)", 4)]
