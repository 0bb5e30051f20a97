"""The local stack's own settings: where its state lives, its ports and its timers.

Read with the same machinery as the control plane's settings (chalicelib/settings.py): each field
names its variable and states its default once, and a bad value names the variable. Settings the
deployed code also reads (MA_HEALTH_INTERVAL, queue names, ...) are not repeated here: the local
stack reads them from `get_settings()`.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from chalicelib.settings import PATH, EnvModel, env


@dataclasses.dataclass(frozen=True)
class LocalConfig(EnvModel):
    home: Path = env("MA_HOME", parser=PATH, factory=lambda: PATH.parse(".mastra-admin"))
    host: str = env("MA_HOST", "127.0.0.1")
    api_port: int = env("MA_API_PORT", 8000)
    ws_port: int = env("MA_WS_PORT", 8001)
    ws_mgmt_port: int = env("MA_WS_MGMT_PORT", 8002)
    router_port: int = env("MA_ROUTER_PORT", 3100)
    moto_port: int = env("MA_MOTO_PORT", 4566)
    # The reapers' timer, as the schedule in AWS (the local stack runs schedules itself).
    reaper_interval_seconds: float = env("MA_REAPER_INTERVAL", 60.0)
    # Live logs: how often each server's log file is read and new lines published.
    log_tail_interval_seconds: float = env("MA_LOG_TAIL_INTERVAL", 0.5)
    # How often the servers' closed observability files are looked for (a listing of a few
    # directories; an upload only when a file closed): short, so a span ships as its file closes.
    ship_interval_seconds: float = env("MA_SHIP_INTERVAL", 0.5)
    # Queue consumers of the local worker: messages handled at once.
    build_concurrency: int = env("MA_LOCAL_BUILD_CONCURRENCY", 2)
    deploy_concurrency: int = env("MA_LOCAL_DEPLOY_CONCURRENCY", 4)
    shard_concurrency: int = env("MA_LOCAL_SHARD_CONCURRENCY", 4)  # sweep shards (health, reapers) at once
    # $MA_HOME/events.jsonl (every published message): rotated past this size, this many old files kept.
    events_max_bytes: int = env("MA_EVENTS_MAX_BYTES", 16 << 20)
    events_generations: int = env("MA_EVENTS_GENERATIONS", 3)
    # The build queue's visibility timeout as provisioned (empty: the template's).
    build_visibility_timeout: str = env("MA_BUILD_VISIBILITY_TIMEOUT", "")

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def moto_url(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"
