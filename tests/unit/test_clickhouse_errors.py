"""Driver errors become typed project errors by ClickHouse error code, never by message text."""
from __future__ import annotations

from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError, ProgrammingError

from chalicelib.analytics.errors import ClickHouseRejected, ClickHouseUnavailable, from_driver
from chalicelib.errors import NotFound, Unavailable


def test_a_poison_code_is_a_rejected_statement_with_its_code_and_name():
    err = from_driver(DatabaseError("Code: 62. DB::Exception: Syntax error", code=62, name="SYNTAX_ERROR"))
    assert isinstance(err, ClickHouseRejected) and not isinstance(err, Unavailable)
    assert (err.clickhouse_code, err.clickhouse_name, err.status, err.code) == (
        62, "SYNTAX_ERROR", 500, "analytics_statement_error")


def test_the_code_decides_even_without_a_name_or_a_message():
    err = from_driver(DatabaseError("The ClickHouse server returned an error", code=47))
    assert isinstance(err, ClickHouseRejected) and err.clickhouse_name == "UNKNOWN_IDENTIFIER"
    assert isinstance(from_driver(DatabaseError("x", name="TYPE_MISMATCH")), ClickHouseRejected)


def test_a_message_that_mentions_a_poison_name_does_not_make_it_poison():
    err = from_driver(OperationalError("Error executing HTTP request (SYNTAX_ERROR)"))
    assert isinstance(err, ClickHouseUnavailable)


def test_transport_errors_and_server_trouble_are_unavailable_and_retryable():
    refused = from_driver(OperationalError("Error HTTPConnectionPool(...): Connection refused"))
    assert isinstance(refused, Unavailable) and (refused.status, refused.code) == (503, "clickhouse_unavailable")
    memory = from_driver(DatabaseError("Code: 241. Memory limit exceeded", code=241, name="MEMORY_LIMIT_EXCEEDED"))
    assert isinstance(memory, ClickHouseUnavailable) and memory.clickhouse_code == 241
    locked = from_driver(ProgrammingError("Unable to open the chdb engine at 'x': Cannot lock file x/status"))
    assert isinstance(locked, ClickHouseUnavailable) and locked.clickhouse_code is None
    assert isinstance(from_driver(ConnectionRefusedError()), ClickHouseUnavailable)


def test_a_project_error_passes_through():
    err = NotFound("gone")
    assert from_driver(err) is err
