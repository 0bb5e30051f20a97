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
    empty: moto's state is one per process, so what an earlier module's server (or mock) left in this
    worker would otherwise be in this one's answers (a target group of the ECS scale test was)."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/reset", method="POST")).read()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def hold_ecs_tasks(url: str) -> None:
    """moto's ECS tasks drift to STOPPED on every describe_tasks unless told to stay put."""
    request = urllib.request.Request(
        f"{url}/moto-api/state-manager/set-transition", method="POST",
        data=json.dumps({"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1e9}}).encode())
    urllib.request.urlopen(request).read()
