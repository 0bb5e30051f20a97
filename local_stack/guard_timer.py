"""The release guard's schedule on the local stack: every MA_GUARD_INTERVAL, every guard that is on is
evaluated. It runs in the supervisor, the one process that opens chDB (in AWS the one-minute schedule
fans out shards instead: chalicelib/workers/shards.py, kind "guard")."""
from __future__ import annotations

import sys
import threading


class GuardTimer:
    def __init__(self, interval_seconds: float, stopping: threading.Event):
        self.interval = interval_seconds
        self.stopping = stopping

    def start(self) -> "GuardTimer":
        threading.Thread(target=self._run, daemon=True, name="release-guard").start()
        return self

    def _run(self) -> None:
        from chalicelib.services.guard.evaluator import sweep

        while not self.stopping.wait(self.interval):
            try:
                sweep()
            except Exception as exc:  # moto restarting: the next tick
                print(f"release guard: {exc}", file=sys.stderr, flush=True)
