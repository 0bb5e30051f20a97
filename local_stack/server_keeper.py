"""The supervisor's watch over local servers: health checks, live logs, observability shipping.

- once at start: recovery (reattach to servers whose processes live, mark the others stopped, end
  processes left in server directories without a record), then a deploy again of each deployment
  the last clean stop stopped (`resume`);
- at stop: every server stops with the stack (`stop_all`), what it served recorded for `resume`;
- every `health_interval_seconds` (MA_HEALTH_INTERVAL): one health check of every running server, published on
  `server:{id}` (a dead process is marked `exited` at the first check after it died);
- every `log_tail_interval_seconds` (MA_LOG_TAIL_INTERVAL): new lines of each server's log file are published on
  `server:{id}:logs` as `{"type": "log", "offset": N, "lines": [...]}`;
- every `ship_interval_seconds` (MA_SHIP_INTERVAL, 0.5 s): closed observability files go to S3 (the
  servers are listed from DynamoDB at most every SERVER_LISTING_SECONDS; the poll itself reads
  only their directories).
Servers are not children of this process: they survive a kill of it, and a restarted stack
reattaches to them.
"""
from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.settings import Settings
    from local_stack.config import LocalConfig

PUBLISH_BATCH = 200
READ_LINES = 5000  # lines read per server per tick
SERVER_LISTING_SECONDS = 1.0  # how stale the list of live servers the tail and the shipper walk may be


class LogTail:
    """Where the publisher is in one server's log, by line offset (server_log seeks through its index,
    follows rotations and cuts long lines, so one huge line never stops the tail)."""

    def __init__(self, path: Path, from_start: bool, max_line_bytes: int):
        from chalicelib.runners import server_log

        self.path = path
        self.max_line = max_line_bytes
        self.offset = 0 if from_start else server_log.end_offset(path)

    def read(self) -> tuple[int, list[str]]:
        from chalicelib.runners import server_log

        first, lines = server_log.read_lines(self.path, self.offset, READ_LINES, self.max_line)
        self.offset = first + len(lines)
        return first, lines


class ServerKeeper:
    def __init__(self, cfg: LocalConfig, settings: Settings, stopping: threading.Event):
        self.stopping = stopping
        self.health_interval = settings.health_interval_seconds
        self.tail_interval = cfg.log_tail_interval_seconds
        self.ship_interval = cfg.ship_interval_seconds
        self.started = time.time()
        self.max_line_bytes = settings.server_log_max_line_bytes
        self.tails: dict[str, LogTail] = {}
        self.known_at_start: set[str] = set()
        self.server_root = Path(settings.server_root)
        self.resume_file = cfg.home / "resume.json"

    def recover(self) -> dict:
        from chalicelib.services.deploys import servers

        result = servers.recover()
        self.known_at_start = set(result["reattached"])
        # What a killed stack left without a record (a deploy killed between start and its write).
        from chalicelib.runners.local_deploy import kill_strays

        keep = {int(s.pid) for s in servers.live_servers("local") if s.pid}
        result["strays"] = [str(g) for g in kill_strays(self.server_root, keep)]
        return result

    def stop_all(self) -> list[str]:
        """The stack is stopping: its servers stop with it; the deployments they served are recorded
        in $MA_HOME/resume.json first, to be deployed again (same build) at the next start."""
        from chalicelib.services.deploys import servers

        self.resume_file.write_text(json.dumps(servers.serving("local")))
        return servers.stop_all("local")

    def resume(self) -> list[str]:
        """Deploy again what the last clean stop recorded (the file goes once the deploys are queued)."""
        from chalicelib.services.deploys import servers

        try:
            recorded = json.loads(self.resume_file.read_text())
        except FileNotFoundError:
            return []
        except ValueError:
            recorded = []
        queued = servers.resume(recorded)
        self.resume_file.unlink(missing_ok=True)
        return queued

    def start(self) -> None:
        for name, target in (("health", self._health_forever), ("log-tail", self._tail_forever),
                             ("shipper", self._ship_forever)):
            threading.Thread(target=target, daemon=True, name=name).start()

    def _loop(self, interval: float, step, name: str) -> None:
        while not self.stopping.wait(interval):
            try:
                step()
            except Exception as exc:  # moto restarting: next tick
                print(f"{name} failed: {exc!r}", file=sys.stderr, flush=True)

    def _health_forever(self) -> None:
        from chalicelib.workers.shards import fan_out

        # As the schedule in AWS: shard messages only; the worker's shard pump checks them.
        self._loop(self.health_interval, lambda: fan_out("health"), "health checks")

    @staticmethod
    def _live_local_servers():
        from chalicelib.services.deploys.servers import live_servers

        return live_servers("local")

    def _tail_forever(self) -> None:
        last_listing = 0.0
        servers: list = []
        while not self.stopping.wait(self.tail_interval):
            try:
                if time.monotonic() - last_listing > 1.0:
                    servers = list(self._live_local_servers())
                    last_listing = time.monotonic()
                    live = {s.server_id for s in servers}
                    for gone in set(self.tails) - live:
                        self._publish_tail(gone)  # the last lines of a server that just stopped
                        del self.tails[gone]
                for server in servers:
                    if server.server_id not in self.tails and not server.workdir:
                        continue  # listed while starting, before its directory is recorded: next tick
                    if server.server_id not in self.tails:
                        from chalicelib.runners.local_deploy import LOG_NAME

                        path = Path(server.workdir or "") / LOG_NAME
                        self.tails[server.server_id] = LogTail(
                            path, from_start=server.server_id not in self.known_at_start,
                            max_line_bytes=self.max_line_bytes)
                    self._publish_tail(server.server_id)
            except Exception as exc:
                print(f"log tail failed: {exc!r}", file=sys.stderr, flush=True)

    def _publish_tail(self, server_id: str) -> None:
        from chalicelib.db import servers as server_store
        from chalicelib.services.deploys.servers import publish_logs

        offset, lines = self.tails[server_id].read()
        server = server_store.find(server_id) if lines else None
        if server is None:
            return
        for start in range(0, len(lines), PUBLISH_BATCH):  # masked with the deployment's secrets
            publish_logs(server, offset + start, lines[start:start + PUBLISH_BATCH])

    def _ship_forever(self) -> None:
        listing = _Listing(self._live_local_servers)

        def ship_all() -> None:
            from chalicelib.runners.factory import deploy_runner_named

            runner = deploy_runner_named("local")
            for server in listing.get():
                runner.ship(server)

        self._loop(self.ship_interval, ship_all, "observability shipping")


class _Listing:
    """The live servers, read again only when SERVER_LISTING_SECONDS passed: a short poll of their
    directories must not become a DynamoDB query per poll. A server that stopped meanwhile is
    harmless (its directory is gone or empty, and its stop shipped what it left)."""

    def __init__(self, read):
        self.read = read
        self.servers: list = []
        self.at = float("-inf")

    def get(self) -> list:
        if time.monotonic() - self.at >= SERVER_LISTING_SECONDS:
            self.servers = list(self.read())
            self.at = time.monotonic()
        return self.servers
