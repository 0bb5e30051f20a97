"""ClickHouse errors as the project's exceptions, by error code: the one adapter for every driver error.

clickhouse-connect raises `clickhouse_connect.driver.exceptions.Error` subclasses carrying the
server's numeric `code` and symbolic `name` (HTTP: from the response; chDB: from the engine's
message), and transport errors (connection refused, timeouts) or a chDB data directory that another
process holds with neither. Classified as snuba does:

  * `ClickHouseRejected` (poison): the statement or its input is wrong (syntax, unknown identifier,
    type mismatch, unparsable value); retrying it gives the same answer.
  * `ClickHouseUnavailable` (retryable): everything else, the server down or overloaded included.
"""
from __future__ import annotations

from chalicelib.errors import AppError, Unavailable

# ClickHouse error codes that mean "the statement is wrong", not "try again later"
# (names as `errorCodeToName(code)` gives them; a unit test checks them against the engine).
POISON_CODES = {
    6: "CANNOT_PARSE_TEXT",
    16: "NO_SUCH_COLUMN_IN_TABLE",
    27: "CANNOT_PARSE_INPUT_ASSERTION_FAILED",
    36: "BAD_ARGUMENTS",
    38: "CANNOT_PARSE_DATE",
    41: "CANNOT_PARSE_DATETIME",
    43: "ILLEGAL_TYPE_OF_ARGUMENT",
    46: "UNKNOWN_FUNCTION",
    47: "UNKNOWN_IDENTIFIER",
    53: "TYPE_MISMATCH",
    60: "UNKNOWN_TABLE",
    62: "SYNTAX_ERROR",
    72: "CANNOT_PARSE_NUMBER",
    115: "UNKNOWN_SETTING",
}
_POISON_NAMES = {name: code for code, name in POISON_CODES.items()}


class ClickHouseError(AppError):
    """A ClickHouse failure with the engine's error code and name, when it gave them."""

    def __init__(self, message: str, *, clickhouse_code: int | None = None, clickhouse_name: str | None = None,
                 code: str | None = None):
        super().__init__(message, code=code)
        self.clickhouse_code = clickhouse_code
        self.clickhouse_name = clickhouse_name


class ClickHouseUnavailable(ClickHouseError, Unavailable):
    """ClickHouse cannot answer now (down, unreachable, overloaded, its data directory locked): retry."""

    code = "clickhouse_unavailable"


class ClickHouseRejected(ClickHouseError):
    """A statement ClickHouse rejected for what it is; retrying it will not help."""

    status = 500
    code = "analytics_statement_error"


def from_driver(exc: BaseException) -> AppError:
    """A clickhouse-connect / chDB exception as one of ours (use with `raise … from exc`)."""
    if isinstance(exc, AppError):
        return exc
    from clickhouse_connect.driver.exceptions import Error  # loaded already when a driver call failed

    number = exc.code if isinstance(exc, Error) else None
    name = exc.name if isinstance(exc, Error) else None
    if number is None and name in _POISON_NAMES:
        number = _POISON_NAMES[name]
    name = name or POISON_CODES.get(number)
    if number in POISON_CODES:
        return ClickHouseRejected(f"ClickHouse rejected the statement: {name}", clickhouse_code=number,
                                  clickhouse_name=name)
    return ClickHouseUnavailable("ClickHouse is unavailable", clickhouse_code=number, clickhouse_name=name)
