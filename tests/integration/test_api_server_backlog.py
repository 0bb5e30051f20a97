"""The local API server takes a burst of new connections (50 WebSocket clients minting tickets at once)
into its listen queue, rather than leaving the ones past socketserver's 5 to retry their SYN a second later."""
from __future__ import annotations

import select
import socket

from tests.support.local_aws import free_port


def test_a_burst_of_connections_is_queued_while_the_server_is_busy(monkeypatch):
    from local_stack.api_server import serve_api

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    port = free_port()
    server = serve_api("127.0.0.1", port)  # listening, and accepting nothing: as busy as it gets
    clients = []
    try:
        for _ in range(60):
            client = socket.socket()
            client.setblocking(False)
            client.connect_ex(("127.0.0.1", port))
            clients.append(client)
        # A connection the kernel queued for the server is writable; one dropped for a full queue is
        # still waiting for its SYN's answer.
        pending = list(clients)
        for _ in range(20):
            _, writable, _ = select.select([], pending, [], 0.25)
            pending = [c for c in pending if c not in writable]
            if not pending:
                break
        assert pending == [], f"{len(pending)} of 60 connections not taken into the queue"
    finally:
        for client in clients:
            client.close()
        server.server.server_close()
