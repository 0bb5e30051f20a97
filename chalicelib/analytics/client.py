"""The one ClickHouse client of a process: a ClickHouse server over HTTP, or chDB in-process.

chDB lets only one OS process open a data directory, so in the local stack only the supervisor
(which also serves the API) opens it; every other process reaches analytics through the API.
"""
from __future__ import annotations

import functools
import threading
from typing import Any

from chalicelib.analytics.errors import from_driver
from chalicelib.errors import AppError, Unavailable
from chalicelib.secret_settings import secret_setting
from chalicelib.settings import get_settings

_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def get_client() -> Any:
    """The process's shared client."""
    return new_client()


def new_client() -> Any:
    """A client on a connection of its own (chDB: another handle on the same path, which one
    process may open as often as it likes), for statements that run in parallel."""
    import clickhouse_connect  # lazy: heavy, and only analytics routes need it

    settings = get_settings()
    try:
        if settings.clickhouse_interface == "chdb":
            if not settings.clickhouse_path:
                raise Unavailable("MA_CLICKHOUSE_PATH is not set", code="clickhouse_unconfigured")
            return clickhouse_connect.get_client(interface="chdb", path=settings.clickhouse_path)
        url = secret_setting("clickhouse_url", settings)  # a stage's is in its settings secret
        if not url:
            raise Unavailable("MA_CLICKHOUSE_URL is not set", code="clickhouse_unconfigured")
        credentials = {k: v for k, v in (("username", secret_setting("clickhouse_user", settings)),
                                         ("password", secret_setting("clickhouse_password", settings))) if v}
        return clickhouse_connect.get_client(dsn=url, **credentials)
    except AppError:
        raise
    except Exception as e:  # connection refused, the data directory locked, ...: unavailable
        raise from_driver(e) from e


def ping() -> None:
    """Run a trivial query; raises Unavailable when the engine cannot answer."""
    try:
        with _lock:  # the chDB session is not safe for concurrent queries from server threads
            get_client().query("SELECT 1")
    except AppError:
        raise
    except Exception as e:
        raise from_driver(e) from e
