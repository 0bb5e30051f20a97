"""A team's price override reaches costs within a minute: the price table is read once per minute
per process (it is read on every trace and usage request), and a team never sees another's."""
from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def store():
    import clickhouse_connect

    from chalicelib.analytics.migrate import migrate
    from chalicelib.analytics.writer import Writer
    from tests.support.chdb import chdb_client, chdb_path

    name = f"prices_{uuid.uuid4().hex[:8]}"
    chdb_client().command(f"CREATE DATABASE {name}")
    writer = Writer(clickhouse_connect.get_client(interface="chdb", path=chdb_path(), database=name), "chdb")
    migrate(writer)
    yield writer
    chdb_client().command(f"DROP DATABASE {name}")


def _override(writer, team: str, model: str, price: float) -> None:
    writer.insert_rows("model_prices", ["team_id", "model", "input_per_mtok", "output_per_mtok", "source"],
                       [(team, model, price, price, "negotiated")])


def test_an_override_shows_after_the_cache_minute_and_only_for_its_team(store, monkeypatch):
    from chalicelib.analytics import queries
    from chalicelib.analytics.prices import SEED

    clock = [1000.0]
    monkeypatch.setattr(queries.time, "monotonic", lambda: clock[0])
    seed = SEED["gpt-4o-mini"]
    assert queries.prices_for(store, "team_a").lookup("gpt-4o-mini") == seed
    _override(store, "team_a", "gpt-4o-mini", 9.0)

    clock[0] += queries.PRICES_TTL_S - 1
    assert queries.prices_for(store, "team_a").lookup("gpt-4o-mini") == seed  # still the minute's table
    clock[0] += 2
    assert queries.prices_for(store, "team_a").lookup("gpt-4o-mini") == (9.0, 9.0)
    assert queries.prices_for(store, "team_b").lookup("gpt-4o-mini") == seed
    assert queries.prices_for(store, "team_a").cost("openai/gpt-4o-mini", 1_000_000, 0) == 9.0
