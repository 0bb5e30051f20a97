"""The local stand-in for the queue-triggered Lambda functions of builds (and deploys).

    python -m local_stack.worker        (started and restarted by the supervisor)

It runs QueuePumps that poll the real (moto) queues and invoke the same Chalice handlers AWS
would. It is its own process so that a build's death or a kill of the worker (tests do it)
behaves like a Lambda that died: the build's lease expires and the supervisor's reaper recovers it.
Published channel messages are appended to $MA_HOME/events.jsonl (rotated past
MA_EVENTS_MAX_BYTES, MA_EVENTS_GENERATIONS files kept), a record of what was published.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path


class JsonlSink:
    """Appends each published message to `path`; past `max_bytes` the file becomes `path.1` (`.1`
    becomes `.2` ..., `generations` kept). The worker and the supervisor both append: a lock file
    beside it (flock) makes each append and rotation whole. Files are 0600."""

    def __init__(self, path: Path, max_bytes: int = 16 << 20, generations: int = 3):
        self.path = path
        self.max_bytes = max_bytes
        self.generations = generations
        self.lock = threading.Lock()

    def __call__(self, channel: str, message: dict) -> None:
        import fcntl

        line = (json.dumps(message, separators=(",", ":")) + "\n").encode()
        with self.lock:
            lock = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX)
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                try:
                    os.write(fd, line)
                    size = os.fstat(fd).st_size
                finally:
                    os.close(fd)
                if size >= self.max_bytes:
                    self._rotate()
            finally:
                os.close(lock)  # releases the flock

    def _rotate(self) -> None:
        name = self.path.name
        for n in range(self.generations, 0, -1):
            older = self.path.with_name(f"{name}.{n}")
            if n == self.generations:
                older.unlink(missing_ok=True)
            elif older.exists():
                os.replace(older, self.path.with_name(f"{name}.{n + 1}"))
        if self.generations:
            os.replace(self.path, self.path.with_name(f"{name}.1"))
        else:
            self.path.unlink(missing_ok=True)

    @classmethod
    def for_stack(cls, cfg) -> "JsonlSink":
        return cls(cfg.home / "events.jsonl", cfg.events_max_bytes, cfg.events_generations)


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from app import build_queue_consumer, deploy_queue_consumer, shard_queue_consumer
    from chalicelib import aws, channels
    from chalicelib.settings import get_settings
    from local_stack.config import LocalConfig
    from local_stack.dispatcher import QueuePump

    settings, cfg = get_settings(), LocalConfig.from_env()
    channels.add_sink(JsonlSink.for_stack(cfg))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    pump = QueuePump(
        aws.client("sqs"), settings.build_queue_name, build_queue_consumer, region=settings.region,
        batch_size=1, concurrency=cfg.build_concurrency,
        timeout_seconds=settings.build_timeout_seconds,
        on_error=lambda text: print(f"worker: {text}", file=sys.stderr, flush=True),
    ).start()
    deploy_pump = QueuePump(
        aws.client("sqs"), settings.deploy_queue_name, deploy_queue_consumer, region=settings.region,
        batch_size=1, concurrency=cfg.deploy_concurrency,
        timeout_seconds=900,
        on_error=lambda text: print(f"worker: {text}", file=sys.stderr, flush=True),
    ).start()
    shard_pump = QueuePump(  # the sweeps' shards (health, reapers), in parallel as Lambda would run them
        aws.client("sqs"), settings.shard_queue_name, shard_queue_consumer, region=settings.region,
        batch_size=1, concurrency=cfg.shard_concurrency, timeout_seconds=60,
        on_error=lambda text: print(f"worker: {text}", file=sys.stderr, flush=True),
    ).start()
    github_pumps = _github_pumps(settings, QueuePump)
    print(f"worker ready pid={os.getpid()}", flush=True)
    stop.wait()
    pump.stop()
    deploy_pump.stop()
    shard_pump.stop()
    for github_pump in github_pumps:
        github_pump.stop()
    from chalicelib.runners.local_build import LocalBuildRunner

    LocalBuildRunner.kill_running()
    sys.stdout.flush()
    os._exit(0)  # running builds are abandoned to the reaper, not waited for; the supervisor stops servers


def _github_pumps(settings, QueuePump) -> list:
    """The GitHub queues: webhook deliveries, and writes to GitHub (statuses, comments)."""
    from app import github_webhook_consumer, github_writes_consumer
    from chalicelib import aws

    return [
        QueuePump(aws.client("sqs"), queue, handler, region=settings.region, batch_size=1, concurrency=1,
                  timeout_seconds=60, on_error=lambda text: print(f"worker: {text}", file=sys.stderr, flush=True)).start()
        for queue, handler in ((settings.github_webhook_queue_name, github_webhook_consumer),
                               (settings.github_writes_queue_name, github_writes_consumer))
    ]


if __name__ == "__main__":
    sys.exit(main())
