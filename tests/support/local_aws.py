"""Loopback servers for tests that cross a socket: a free port, and moto server on it."""
from __future__ import annotations

import contextlib
import json
import socket
import urllib.request
from typing import Iterator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto server (the real AWS wire protocol) in a thread of this process; yields its URL. It starts
    empty and is emptied when it stops: moto's state is one per process, so what another module's
    server (or mock) left in this worker would otherwise be in this one's answers (the stage-deploy
    test's router target group was in the ECS runner test's)."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    _reset(url)
    try:
        yield url
    finally:
        try:
            _reset(url)
        finally:
            server.stop()


def _reset(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST")).read()


def hold_ecs_tasks(url: str) -> None:
    """moto's ECS tasks drift to STOPPED on every describe_tasks unless told to stay put."""
    request = urllib.request.Request(
        f"{url}/moto-api/state-manager/set-transition", method="POST",
        data=json.dumps({"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1e9}}).encode())
    urllib.request.urlopen(request).read()
