"""The one way rows reach ClickHouse: the engine parses a file of lines itself.

`Writer.insert_file` runs one `INSERT INTO t (explicit columns) SELECT … FROM <source> WHERE …`
per file, with an `insert_deduplication_token`, so a retry writes nothing twice. The source is the
only thing that differs by adapter:

  * chDB (local stack): the engine reads the local file, `file(path, fmt, structure)`;
  * a ClickHouse server over HTTP: the bytes are the request body, `input(structure)`.

Either way no line is parsed in Python. Vendor errors become the project's exceptions here, by
ClickHouse error code (chalicelib/analytics/errors.py): `ClickHouseUnavailable` (retry later) or
`ClickHouseRejected` (the statement itself is wrong).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping


logger = logging.getLogger(__name__)

# One block per insert: the whole file is squashed before it is written, so an insert is all or
# nothing and a retried insert dedups by its token exactly. Files are bounded by the ingest chunk.
_ONE_BLOCK = {
    "max_insert_block_size": 100_000_000,
    "min_insert_block_size_rows": 100_000_000,
    "min_insert_block_size_bytes": 1 << 40,
}

# Lines that do not parse are skipped by the engine (and then found and quarantined by the caller);
# unknown fields are ignored; nested objects arrive as JSON text.
INGEST_SETTINGS = {
    "input_format_skip_unknown_fields": 1,
    "input_format_json_read_objects_as_strings": 1,
    "input_format_allow_errors_num": 1_000_000_000,
    "input_format_allow_errors_ratio": 1,
    # No replacing merge of each inserted block (ReplacingMergeTree would sort-merge it once more on
    # the insert's one writing thread): reads take one row per identity anyway (LIMIT 1 BY) and
    # background merges collapse duplicates later. bench/ingest.py: about a third of the insert's CPU.
    "optimize_on_insert": 0,
    # The rollup and row-count views of a block run side by side, not one after another once the
    # block is written: run serially they were most of what the table costs on insert (the engine's
    # own insert into spans went from 0.65 to 0.91 of a bare table's). Each view still dedups by token.
    "parallel_view_processing": 1,
    **_ONE_BLOCK,
}

SOURCE_KEY = "source_key"  # every table's lineage column: which object a row came from
_FILE_KEY = "file_source_key"  # insert_files: the source key each file's rows carry


def from_driver(exc: Exception) -> Exception:
    """chalicelib.analytics.errors.from_driver, imported only when a statement failed (cold start)."""
    from chalicelib.analytics import errors

    return errors.from_driver(exc)


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class FileInsert:
    table: str
    columns: list[str]
    expressions: list[str]
    structure: str
    fmt: str  # JSONEachRow | LineAsString
    predicate: str
    parameters: Mapping[str, Any]
    token: str


class Writer:
    """Runs inserts and small statements on one clickhouse-connect client (HTTP or chDB)."""

    def __init__(self, client: Any, interface: str, client_factory: Callable[[], Any] | None = None):
        self.client = client
        self.interface = interface
        self._factory = client_factory
        self._siblings: list[Writer] = []
        self._siblings_lock = threading.Lock()

    def workers(self, n: int) -> list["Writer"]:
        """This writer and up to n-1 others on connections of their own, for inserts in parallel
        (a clickhouse-connect client runs one statement at a time). Without a client factory:
        just this one."""
        if self._factory is None or n <= 1:
            return [self]
        with self._siblings_lock:
            try:
                while len(self._siblings) < n - 1:
                    self._siblings.append(Writer(self._factory(), self.interface))
            except Exception as e:
                raise from_driver(e) from e
            return [self, *self._siblings[:n - 1]]

    def _source(self, insert: FileInsert, path: str) -> str:
        if self.interface == "chdb":
            return f"file({_quote(path)}, {_quote(insert.fmt)}, {_quote(insert.structure)})"
        return f"input({_quote(insert.structure)})"

    def insert_file(self, insert: FileInsert, path: str) -> None:
        sql = (f"INSERT INTO {insert.table} ({', '.join(insert.columns)}) "
               f"SELECT {', '.join(insert.expressions)} FROM {self._source(insert, path)} WHERE {insert.predicate}")
        settings = {**INGEST_SETTINGS, "insert_deduplication_token": insert.token}
        try:
            if self.interface == "chdb":
                self.client.command(sql, parameters=dict(insert.parameters), settings=settings)
            else:
                with open(path, "rb") as f:
                    data = f.read()
                self.client.command(f"{sql} FORMAT {insert.fmt}", parameters=dict(insert.parameters), data=data,
                                    settings=settings)
        except Exception as e:
            raise from_driver(e) from e

    def insert_files(self, insert: FileInsert, files: list[tuple[str, str]]) -> None:
        """Several small files into one table, each row stamped with its own file's source key
        (`files`: (path, source key) pairs; `insert.token` names the whole set).

        chDB: one INSERT, the files read side by side (UNION ALL) and squashed into one block, so
        the set is all or nothing. Over HTTP a request carries one body, so each file is its own
        insert with the token a one-chunk object gets (`{source key}#0`): still each row once."""
        if self.interface != "chdb":
            for path, key in files:
                self.insert_file(replace(insert, parameters={**insert.parameters, SOURCE_KEY: key},
                                         token=f"{key}#0"), path)
            return
        keyed = [e if c != SOURCE_KEY else f"`{_FILE_KEY}`" for c, e in zip(insert.columns, insert.expressions)]
        parameters = {**insert.parameters, **{f"{_FILE_KEY}{i}": key for i, (_, key) in enumerate(files)}}
        sources = " UNION ALL ".join(f"SELECT *, {{{_FILE_KEY}{i}:String}} AS `{_FILE_KEY}` FROM {self._source(insert, path)}"
                                     for i, (path, _) in enumerate(files))
        sql = (f"INSERT INTO {insert.table} ({', '.join(insert.columns)}) "
               f"SELECT {', '.join(keyed)} FROM ({sources}) WHERE {insert.predicate}")
        try:
            self.client.command(sql, parameters=parameters,
                                settings={**INGEST_SETTINGS, "insert_deduplication_token": insert.token})
        except Exception as e:
            raise from_driver(e) from e

    def insert_rows(self, table: str, columns: list[str], rows: list[list[Any]], token: str | None = None) -> None:
        settings = {"insert_deduplication_token": token} if token else None
        try:
            self.client.insert(table, rows, column_names=columns, settings=settings)
        except Exception as e:
            raise from_driver(e) from e

    def query(self, sql: str, parameters: Mapping[str, Any] | None = None,
              settings: Mapping[str, Any] | None = None) -> list[tuple]:
        try:
            return self.client.query(sql, parameters=dict(parameters or {}), settings=dict(settings or {})).result_rows
        except Exception as e:
            raise from_driver(e) from e

    def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> None:
        try:
            self.client.command(sql, parameters=dict(parameters or {}) or None)
        except Exception as e:
            raise from_driver(e) from e


def get_writer() -> Writer:
    from chalicelib.analytics.client import get_client, new_client
    from chalicelib.settings import get_settings

    return Writer(get_client(), get_settings().clickhouse_interface, client_factory=new_client)
