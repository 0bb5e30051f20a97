"""The broadcaster's `@connections` client against the local gateway and against a bare HTTP peer.

Real sockets on loopback: WebSocket clients of the local gateway receive what the client posts, in
order; an unknown connection is GONE; boto3's client (the broadcaster's replies and
DeleteConnection) speaks to the same gateway; requests are SigV4-signed; a kept-alive connection
the peer closed is retried.
"""
from __future__ import annotations

import asyncio
import json
import threading

import boto3
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from chalicelib.services.live.connections_api import ConnectionsApi, Outcome
from local_stack.ws_gateway import Gateway
from tests.support.local_aws import free_port


@pytest.fixture
def gateway(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    ok = lambda event, context: {"statusCode": 200}  # noqa: E731
    gw = Gateway("127.0.0.1", free_port(), free_port(), connect=ok, message=lambda e, c: None,
                 disconnect=lambda e, c: None).start()
    yield gw
    gw.stop()


def _clients(gw: Gateway, n: int):
    clients = [connect(f"ws://127.0.0.1:{gw.ws_port}/", open_timeout=10) for _ in range(n)]
    for _ in range(100):
        if len(gw.connections) == n:
            break
        threading.Event().wait(0.02)
    ids = list(gw.connections)
    assert len(ids) == n
    return clients, ids


def _by_id(gw: Gateway, clients, ids):
    """Each client paired with its gateway connection id (learnt by posting each its own id)."""
    api = ConnectionsApi(f"http://127.0.0.1:{gw.mgmt_port}", "us-east-1")
    api.post_many({cid: [json.dumps({"id": cid}).encode()] for cid in ids})
    return {json.loads(ws.recv(timeout=10))["id"]: ws for ws in clients}, api


def test_each_connection_gets_its_frames_in_order_and_an_unknown_one_is_gone(gateway):
    clients, ids = _clients(gateway, 3)
    by_id, api = _by_id(gateway, clients, ids)
    frames = {cid: [json.dumps({"n": n, "to": cid}).encode() for n in range(5)] for cid in ids}
    frames["nosuchconnection="] = [b"{}"]

    outcomes = api.post_many(frames)

    assert outcomes == {**{cid: Outcome.SENT for cid in ids}, "nosuchconnection=": Outcome.GONE}
    for cid, ws in by_id.items():
        got = [json.loads(ws.recv(timeout=10)) for _ in range(5)]
        assert got == [{"n": n, "to": cid} for n in range(5)]
    for ws in clients:
        ws.close()


def test_boto3s_client_posts_and_deletes_through_the_same_management_api(gateway):
    clients, ids = _clients(gateway, 2)
    by_id, _ = _by_id(gateway, clients, ids)
    first, second = ids
    boto = boto3.session.Session().client("apigatewaymanagementapi", region_name="us-east-1",
                                          endpoint_url=f"http://127.0.0.1:{gateway.mgmt_port}")

    boto.post_to_connection(ConnectionId=second, Data=b'{"via":"boto3"}')
    assert json.loads(by_id[second].recv(timeout=10)) == {"via": "boto3"}
    boto.delete_connection(ConnectionId=first)

    with pytest.raises(ConnectionClosed):
        by_id[first].recv(timeout=10)
    with pytest.raises(boto.exceptions.GoneException):
        boto.post_to_connection(ConnectionId="nosuchconnection=", Data=b"{}")
    with pytest.raises(boto.exceptions.GoneException):
        boto.delete_connection(ConnectionId="nosuchconnection=")
    by_id[second].close()


class Peer:
    """A bare HTTP/1.1 server on loopback that records request heads and answers from a script:
    each answer is (status, close the connection after answering)."""

    def __init__(self, answers: list[tuple[int, bool]]):
        self.answers, self.heads, self.port = list(answers), [], None
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def main():
            server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            self.server = server
            ready.set()

        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(main(), self.loop)
        ready.wait(10)

    async def _serve(self, reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                self.heads.append(head.decode("latin-1"))
                status, close = self.answers.pop(0) if self.answers else (200, False)
                writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n".encode())
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    def stop(self):
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)


def test_requests_are_signed_and_a_closed_keepalive_connection_or_a_throttle_is_retried(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    # 200 then the peer hangs up silently (a kept-alive connection gone stale); then throttled once.
    peer = Peer([(200, True), (429, False)])
    try:
        api = ConnectionsApi(f"http://127.0.0.1:{peer.port}/prod", "eu-west-1", concurrency=1)
        assert api.post("abc=", [b"one"]) is Outcome.SENT
        # The stale connection fails before any answer: retried on a new one, which is throttled
        # once and retried again.
        assert api.post("abc=", [b"two"]) is Outcome.SENT
        assert api.post("abc=", [b"three"]) is Outcome.SENT
    finally:
        peer.stop()
    paths = [head.split(" ")[1] for head in peer.heads]
    assert paths == ["/prod/@connections/abc%3D"] * 4  # one, two (429), two, three
    for head in peer.heads:
        assert "Authorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/" in head
        assert "/eu-west-1/execute-api/aws4_request" in head


def test_a_message_over_api_gateways_limit_is_refused_and_the_gateway_keeps_serving(gateway):
    clients, ids = _clients(gateway, 1)
    boto = boto3.session.Session().client("apigatewaymanagementapi", region_name="us-east-1",
                                          endpoint_url=f"http://127.0.0.1:{gateway.mgmt_port}")
    with pytest.raises(boto.exceptions.PayloadTooLargeException):
        boto.post_to_connection(ConnectionId=ids[0], Data=b"x" * (128 * 1024 + 1))
    boto.post_to_connection(ConnectionId=ids[0], Data=b'{"after":"refusal"}')
    assert json.loads(clients[0].recv(timeout=10)) == {"after": "refusal"}
    clients[0].close()


class StalledViewer:
    """A WebSocket client on a raw socket that stops reading after its handshake (a small receive
    buffer), so the gateway's send buffer for it fills; `frames()` then reads what was queued."""

    def __init__(self, port: int):
        import base64
        import os
        import socket

        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(4096)
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head

    def frames(self, n: int) -> list[bytes]:
        """The payloads of the next `n` (unmasked, unfragmented) frames."""
        out = []
        while len(out) < n:
            if len(self.buffer) >= 2:
                size, start = self.buffer[1] & 0x7F, 2
                if size == 126:
                    size, start = int.from_bytes(self.buffer[2:4], "big"), 4
                elif size == 127:
                    size, start = int.from_bytes(self.buffer[2:10], "big"), 10
                if len(self.buffer) >= start + size:
                    out.append(self.buffer[start:start + size])
                    self.buffer = self.buffer[start + size:]
                    continue
            self.buffer += self.sock.recv(1 << 20)
        return out


def test_a_viewer_that_stops_reading_delays_only_its_own_messages_which_arrive_whole_and_in_order(gateway):
    others, ids = _clients(gateway, 1)
    stalled = StalledViewer(gateway.ws_port)  # answered 101: registered with the gateway already
    stalled_id = next(cid for cid in gateway.connections if cid not in ids)
    big = [json.dumps({"n": n, "pad": "x" * 100_000}).encode() for n in range(40)]  # ~4 MB: more than loopback buffers
    api = ConnectionsApi(f"http://127.0.0.1:{gateway.mgmt_port}", "us-east-1")
    outcome: dict = {}
    poster = threading.Thread(target=lambda: outcome.update(api.post_many({stalled_id: big})))
    poster.start()
    poster.join(1.0)
    assert poster.is_alive(), "the posts were all answered although the viewer reads nothing"

    # Meanwhile another viewer's message, through another management connection, goes straight through.
    other = ConnectionsApi(f"http://127.0.0.1:{gateway.mgmt_port}", "us-east-1")
    assert other.post(ids[0], [b'{"to":"the other viewer"}']) is Outcome.SENT
    assert json.loads(others[0].recv(timeout=10)) == {"to": "the other viewer"}

    got = stalled.frames(len(big))  # reading again lets the gateway send the rest
    poster.join(30)
    assert outcome == {stalled_id: Outcome.SENT}
    assert [json.loads(frame)["n"] for frame in got] == list(range(40))
    stalled.sock.close()
    others[0].close()


def test_a_request_left_unanswered_fails_after_the_timeout_and_the_next_one_uses_a_fresh_connection(monkeypatch):
    import socket

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts (in the kernel) and never answers
    api = ConnectionsApi(f"http://127.0.0.1:{silent.getsockname()[1]}", "us-east-1", timeout=0.3)
    try:
        assert api.post("abc=", [b"lost"]) is Outcome.FAILED  # three attempts, each timed out
    finally:
        silent.close()
    peer = Peer([])
    try:
        api = ConnectionsApi(f"http://127.0.0.1:{peer.port}", "us-east-1", timeout=0.3)
        assert api.post("abc=", [b"one"]) is Outcome.SENT
    finally:
        peer.stop()


def test_a_request_that_cannot_be_signed_fails_for_its_connection_only_however_many_there_are():
    class Broken:
        def headers(self, *args, **kwargs):
            raise RuntimeError("credentials expired")

    api = ConnectionsApi("http://127.0.0.1:9", "us-east-1")  # nothing listens: nothing may be sent
    api._new_signer = lambda: Broken()
    outcomes = api.post_many({f"c{n}=": [b"{}"] for n in range(3000)})  # more than the recursion limit
    assert set(outcomes.values()) == {Outcome.FAILED} and len(outcomes) == 3000
