"""Following work as it happens: a log (build or server), and a deploy from build to serving URL.

The WebSocket brings log lines and wakes us on status changes; the REST API decides what the state
is (a status message sent before we subscribed is never missed that way), and fills any gap.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from chalicelib.cli.client import Client, Failed
from chalicelib.cli.live import Gap, Live, LogAssembler

BUILD_DONE = ("succeeded", "failed", "cancelled", "superseded")
DEPLOY_DONE = ("succeeded", "failed", "superseded")
SERVER_DONE = ("stopped", "failed", "exited")


@dataclass(frozen=True)
class LogTarget:
    """A log the API serves by offset, and the WebSocket channel that streams it."""

    kind: str  # "build" | "server"
    id: str

    @property
    def channel(self) -> str:
        return f"build:{self.id}" if self.kind == "build" else f"server:{self.id}:logs"

    def read(self, client: Client, since: int | None = None, tail: int | None = None) -> dict:
        if self.kind == "build":
            return client.get(f"/builds/{self.id}/logs", since=since or 0)
        return client.get(f"/servers/{self.id}/logs", since=since, tail=tail if since is None else None)

    def finished(self, client: Client) -> bool:
        if self.kind == "build":
            return client.get(f"/builds/{self.id}")["status"] in BUILD_DONE
        return client.get(f"/servers/{self.id}")["status"] in SERVER_DONE


Emit = Callable[[int, str], None]  # offset, line


class LogFollower:
    """Feeds a log's lines to `emit` exactly once each, from the WebSocket, falling back to REST for gaps."""

    def __init__(self, client: Client, target: LogTarget, emit: Emit, start: int):
        self.client, self.target, self.emit = client, target, emit
        self.log = LogAssembler(start)

    def _out(self, lines: list[str]) -> None:
        first = self.log.next - len(lines)
        for i, line in enumerate(lines):
            self.emit(first + i, line)

    def catch_up(self) -> None:
        """Everything stored from the next wanted offset on (REST)."""
        while True:
            page = self.target.read(self.client, since=self.log.next)
            if page["offset"] > self.log.next:  # rotated away (a server's old lines): nothing brings them back
                self.log.next = page["offset"]
            fresh = self.log.feed(page["offset"], page["lines"])
            self._out(fresh)
            if not fresh:
                return

    def on_message(self, message: dict) -> None:
        if message.get("channel") != self.target.channel or message.get("type") != "log":
            return
        try:
            self._out(self.log.feed_message(message))
        except Gap:
            self.catch_up()
            self._out(self.log.feed_message(message))


def follow_log(follower: LogFollower, live: Live, idle: float = 2.0, quiet_reads: int = 3) -> None:
    """Until the build ends or the server stops (or Ctrl-C). Lines come over the WebSocket; after
    `quiet_reads` idle periods without a message the stored log is read too, so a live delivery that
    stalls server-side costs seconds, never lines (each line is still printed once)."""
    client, target = follower.client, follower.target
    live.subscribe(target.channel, since=lambda: follower.log.next)
    quiet = 0
    for message in live.messages(idle=idle):
        if message is not None:
            quiet = 0
            follower.on_message(message)
            if not (target.kind == "build" and message.get("type") == "status"):
                continue
        quiet += 1
        if quiet % quiet_reads == 0:
            follower.catch_up()
        if target.finished(client):
            follower.catch_up()
            return


def follow_deploy(client: Client, live: Live, deployment_id: str, build_id: str, emit: Emit,
                  on_phase: Callable[[str], None], idle: float = 1.0) -> dict:
    """From a queued build to the deployment serving it: returns the deployment, or raises Failed."""
    from chalicelib.cli.render import phase_of

    target = LogTarget("build", build_id)

    def emit_line(offset: int, line: str) -> None:
        if phase := phase_of(line):
            on_phase(phase)
        emit(offset, line)

    follower = LogFollower(client, target, emit_line, 0)
    live.subscribe(target.channel, since=lambda: follower.log.next)
    live.subscribe(f"deployment:{deployment_id}")
    build_status = "queued"
    for message in live.messages(idle=idle):
        if message is not None:
            follower.on_message(message)
            if message.get("type") == "log":
                continue
        if build_status not in BUILD_DONE:
            build = client.get(f"/builds/{build_id}")
            if build["status"] != build_status and build["status"] in ("building",):
                on_phase("building")
            build_status = build["status"]
            if build_status not in BUILD_DONE:
                continue
            follower.catch_up()
            if build_status != "succeeded":
                raise Failed(f"build {build_id} {build_status}" + (f": {build['reason']}" if build.get("reason") else ""),
                             build)
            on_phase("deploying")
        deploy = next((d for d in client.items(f"/deployments/{deployment_id}/deploys", limit=20)
                       if d.get("buildId") == build_id and d.get("trigger") == "build"), None)
        if deploy is None or deploy["status"] not in DEPLOY_DONE:
            continue
        if deploy["status"] != "succeeded":
            raise Failed(f"deploy {deploy['id']} {deploy['status']}" + (f": {deploy['reason']}" if deploy.get("reason") else ""),
                         deploy)
        return client.get(f"/deployments/{deployment_id}")
    raise AssertionError("unreachable: messages() never ends")
