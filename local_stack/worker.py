"""The local stand-in for the queue-triggered Lambda functions of builds (and deploys).

    python -m local_stack.worker        (started and restarted by the supervisor)

It runs QueuePumps that poll the real (moto) queues and invoke the same Chalice handlers AWS
would. It is its own process so that a build's death or a kill of the worker (tests do it)
behaves like a Lambda that died: the build's lease expires and the supervisor's reaper recovers it.
Published channel messages are appended to $MA_HOME/events.jsonl until the WebSocket gateway
delivers them.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path


class JsonlSink:
    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.Lock()

    def __call__(self, channel: str, message: dict) -> None:
        line = json.dumps(message, separators=(",", ":"))
        with self.lock, open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from app import build_queue_consumer, deploy_queue_consumer
    from chalicelib import aws, channels
    from chalicelib.settings import get_settings
    from local_stack.config import LocalConfig
    from local_stack.dispatcher import QueuePump

    settings, cfg = get_settings(), LocalConfig.from_env()
    channels.add_sink(JsonlSink(cfg.home / "events.jsonl"))
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
    print(f"worker ready pid={os.getpid()}", flush=True)
    stop.wait()
    pump.stop()
    deploy_pump.stop()
    from chalicelib.runners.local_build import LocalBuildRunner

    LocalBuildRunner.kill_running()
    sys.stdout.flush()
    os._exit(0)  # running builds are abandoned to the reaper, not waited for; servers live on


if __name__ == "__main__":
    sys.exit(main())
