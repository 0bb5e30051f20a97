"""WebSocket fan-out benchmark: one 100-line log batch to 500 subscribers vs to one.

    .venv/bin/python bench/fanout.py [--clients 500] [--principals 10] [--rounds 3] [--baseline-rounds 21]

Starts a real local stack, builds the tiny fixture once (so its build channel exists and is
readable), and makes `--principals` machine users (viewers, one API key each). Each of N clients
mints a ticket (`POST /ws/tickets`) with one of those keys, connects with it through the local
gateway and subscribes to `build:{id}`: `connect_and_subscribe_all_s` includes the minting. Then,
from a publisher process of its own (as a worker is; sharing this process would make the clients
and the publisher take turns at one interpreter lock), the same broadcaster the workers use
publishes a 100-line log batch (re-checking each subscriber's access, cached per principal), and
we time until every client has received all 100 lines. The baseline is the same publish with one
subscriber, in the same run: the median of `--baseline-rounds` (at least 20) deliveries, since one
sample can move several-fold on a shared machine. Last line: `ratio_to_one_client X`.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from tests.support.builds import BUILD_ENV, copy_tiny, start_build, tiny_deployment, wait_build  # noqa: E402
from tests.support.deploys import kill_servers  # noqa: E402
from tests.support.stack import start_stack, stop_stack  # noqa: E402

LINES = 100


def _principals(stack, session, team: str, n: int) -> list[str]:
    """API keys of `n` machine users (viewers of the team): the clients' principals."""
    tag = os.urandom(3).hex()
    secrets = []
    for i in range(n):
        r = session.post(stack.url(f"/teams/{team}/api-keys"), json={
            "name": f"bench-{i}", "machineUser": f"bench-{tag}-{i}", "role": "viewer"})
        assert r.status_code == 201, r.text
        secrets.append(r.json()["secret"])
    return secrets


class Minter:
    """Mints tickets over kept-alive HTTP connections, one requests session per thread."""

    def __init__(self, stack, concurrency: int):
        self.stack = stack
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="mint")
        self.local = threading.local()

    def _mint(self, key: str) -> str:
        import requests

        session = getattr(self.local, "session", None) or requests.Session()
        self.local.session = session
        r = session.post(self.stack.url("/ws/tickets"), headers={"Authorization": f"Bearer {key}"})
        r.raise_for_status()
        return r.json()["url"]

    async def url(self, key: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(self.pool, self._mint, key)


async def _connect_all(minter: Minter, keys: list[str], channel: str, n: int, concurrency: int = 50):
    import websockets

    sem = asyncio.Semaphore(concurrency)

    async def one(i: int):
        async with sem:
            url = await minter.url(keys[i % len(keys)])
            ws = await websockets.connect(url, open_timeout=60, max_size=None)
            await ws.send(json.dumps({"action": "subscribe", "channel": channel}))
            while True:  # the ack, then the build's current status
                message = json.loads(await ws.recv())
                if message.get("type") == "status":
                    return ws

    return await asyncio.gather(*(one(i) for i in range(n)))


async def _round(clients, publish, offset: int) -> float:
    async def receive(ws):
        got = 0
        while got < LINES:
            message = json.loads(await ws.recv())
            if message.get("type") == "log" and message["offset"] >= offset:
                got += len(message["lines"])
        return time.perf_counter()

    waiters = [asyncio.create_task(receive(ws)) for ws in clients]
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    await publish(offset)
    done = await asyncio.wait_for(asyncio.gather(*waiters), timeout=300)
    return max(done) - started


class Publisher:
    """A child process that publishes a batch to `channel` for each offset written to its stdin."""

    def __init__(self, channel: str, env: dict[str, str]):
        self.channel, self.env = channel, env

    async def __aenter__(self) -> "Publisher":
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--publish-to", self.channel, env=self.env, cwd=str(ROOT),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        await self.process.stdout.readline()  # ready: imported and connected
        return self

    async def __call__(self, offset: int) -> None:
        self.process.stdin.write(f"{offset}\n".encode())
        await self.process.stdin.drain()

    async def __aexit__(self, *exc) -> None:
        self.process.stdin.close()
        await self.process.wait()


def publish_from_stdin(channel: str) -> None:
    from chalicelib.services.live.broadcaster import broadcaster

    lines = [f"bench line {i} " + "x" * 80 for i in range(LINES)]
    out = broadcaster()
    print("ready", flush=True)
    for raw in sys.stdin:
        out.publish(channel, {"channel": channel, "type": "log", "offset": int(raw), "lines": lines})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--principals", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline-rounds", type=int, default=21)
    parser.add_argument("--publish-to", help=argparse.SUPPRESS)  # the publisher process
    args = parser.parse_args()
    if args.publish_to:
        return publish_from_stdin(args.publish_to)
    if args.baseline_rounds < 20:
        parser.error("--baseline-rounds must be at least 20")
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
        stack = start_stack(Path(tmp) / "home", BUILD_ENV)
        try:
            # The publisher runs like a worker does: the same settings, pointed at this stack.
            publisher_env = {**os.environ, "MA_AWS_ENDPOINT_URL": stack.env_endpoint, "MA_STAGE": "local",
                             "MA_WS_MANAGEMENT_URL": f"http://127.0.0.1:{stack.env['MA_WS_MGMT_PORT']}"}
            session = stack.session(stack.owner_key)
            team = session.get(stack.url("/teams")).json()["items"][0]["id"]
            _, deployment = tiny_deployment(stack, session, team,
                                            {"type": "local", "path": str(copy_tiny(Path(tmp) / "tiny"))})
            build = wait_build(stack, session, start_build(stack, session, deployment)["id"])
            channel = f"build:{build['id']}"
            keys = _principals(stack, session, team, args.principals)
            minter = Minter(stack, 50)
            offset = build["logLines"]

            async def run():
                async with Publisher(channel, publisher_env) as publish:
                    return await measure(publish)

            async def measure(publish):
                nonlocal offset
                one = await _connect_all(minter, keys, channel, 1)
                singles = []
                for _ in range(args.baseline_rounds):
                    singles.append(await _round(one, publish, offset))
                    offset += LINES
                await one[0].close()
                started = time.perf_counter()
                many = await _connect_all(minter, keys, channel, args.clients)
                connect_s = time.perf_counter() - started
                fans = []
                for _ in range(args.rounds):
                    fans.append(await _round(many, publish, offset))
                    offset += LINES
                await asyncio.gather(*(ws.close() for ws in many))
                return statistics.median(singles), statistics.median(fans), connect_s

            single, fan, connect_s = asyncio.run(run())
        finally:
            stop_stack(stack)
            kill_servers(Path(tmp) / "home")  # each succeeded build was deployed
    print(f"clients {args.clients} of {args.principals} principals, batch {LINES} lines, "
          f"rounds {args.rounds} (baseline {args.baseline_rounds}; medians), load average {os.getloadavg()[0]:.1f}")
    print(f"connect_and_subscribe_all_s {connect_s:.1f}")
    print(f"one_client_ms {single * 1000:.0f}")
    print(f"all_clients_ms {fan * 1000:.0f}")
    print(f"ratio_to_one_client {fan / single:.1f}")


if __name__ == "__main__":
    main()
