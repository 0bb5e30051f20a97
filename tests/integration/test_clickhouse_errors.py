"""ClickHouse errors against the real chDB engine: a bad statement is poison, an unreachable server is not."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.analytics.errors import POISON_CODES, ClickHouseRejected, ClickHouseUnavailable
from chalicelib.errors import Unavailable
from tests.support.ingest_env import ingest_env
from tests.support.stack import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def env():
    return ingest_env()


@pytest.mark.parametrize("sql, params, code, name", [
    ("SELEC 1", {}, 62, "SYNTAX_ERROR"),
    ("SELECT no_such_column FROM spans", {}, 47, "UNKNOWN_IDENTIFIER"),
    ("SELECT count() FROM no_such_table", {}, 60, "UNKNOWN_TABLE"),
    ("SELECT {t:DateTime}", {"t": "not a time"}, 41, "CANNOT_PARSE_DATETIME"),
])
def test_a_bad_statement_is_rejected_with_the_engines_code_and_name(env, sql, params, code, name):
    with pytest.raises(ClickHouseRejected) as e:
        env.writer.query(sql, params)
    assert (e.value.clickhouse_code, e.value.clickhouse_name) == (code, name)
    assert not isinstance(e.value, Unavailable)


def test_the_poison_codes_carry_the_engines_names(env):
    rows = env.writer.query("SELECT arrayMap(c -> errorCodeToName(c), {c:Array(UInt32)})", {"c": list(POISON_CODES)})
    assert rows[0][0] == list(POISON_CODES.values())


def test_a_server_that_does_not_answer_is_unavailable(monkeypatch):
    from chalicelib.analytics.client import new_client
    from chalicelib.settings import get_settings

    monkeypatch.setenv("MA_CLICKHOUSE_INTERFACE", "http")
    monkeypatch.setenv("MA_CLICKHOUSE_URL", f"http://127.0.0.1:{free_port()}/")  # nothing listens there
    get_settings.cache_clear()
    try:
        with pytest.raises(ClickHouseUnavailable) as e:
            new_client()
        assert (e.value.status, e.value.code) == (503, "clickhouse_unavailable")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_a_data_directory_another_process_holds_is_unavailable(env):
    probe = (
        "import clickhouse_connect, json, sys\n"
        "from chalicelib.analytics.errors import from_driver\n"
        "try:\n"
        "    clickhouse_connect.get_client(interface='chdb', path=sys.argv[1]).query('SELECT 1')\n"
        "    print(json.dumps(None))\n"
        "except Exception as e:\n"
        "    err = from_driver(e)\n"
        "    print(json.dumps([type(err).__name__, err.status]))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, env.path], cwd=REPO, capture_output=True, text=True,
                         timeout=120, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == ["ClickHouseUnavailable", 503]
