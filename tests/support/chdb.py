"""The one chDB data directory of this test process, migrated once.

chDB lets an OS process open one directory only, so every in-process test that needs ClickHouse
(the ingest environment, the in-process API) shares this one; the local stack, a subprocess, opens
its own.
"""
from __future__ import annotations

import atexit
import shutil
import tempfile
from typing import Any

_path: str | None = None
_client: Any = None


def chdb_path() -> str:
    global _path, _client
    if _path is None:
        import clickhouse_connect

        from chalicelib.analytics.migrate import migrate
        from chalicelib.analytics.writer import Writer

        path = tempfile.mkdtemp(prefix="ma-test-chdb-")
        atexit.register(shutil.rmtree, path, True)
        _client = clickhouse_connect.get_client(interface="chdb", path=path)
        migrate(Writer(_client, "chdb", client_factory=lambda: clickhouse_connect.get_client(interface="chdb", path=path)))
        _path = path
    return _path


def chdb_client() -> Any:
    chdb_path()
    return _client
