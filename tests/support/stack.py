"""Start and stop the real local stack (the supervisor `make up` runs) for tests."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.support.local_aws import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    home: Path
    api_url: str
    log_path: Path
    env: dict[str, str]
    proc: subprocess.Popen | None = None
    lines: list[str] = field(default_factory=list)

    @property
    def owner_key(self) -> str:
        return (self.home / "owner-key").read_text().strip()

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.env['MA_WS_PORT']}"

    @property
    def env_endpoint(self) -> str:
        """The moto server behind the stack, for asserting on what was really stored."""
        return f"http://127.0.0.1:{self.env['MA_MOTO_PORT']}"

    def aws(self, service: str):
        import boto3

        return boto3.client(service, endpoint_url=self.env_endpoint, region_name="us-east-1")

    def stored_item(self, pk: str, sk: str) -> dict:
        """The raw DynamoDB item behind the API, read straight from moto server."""
        return self.aws("dynamodb").get_item(
            TableName="mastra-admin-local", Key={"PK": {"S": pk}, "SK": {"S": sk}})["Item"]

    def session(self, token: str | None = None) -> requests.Session:
        s = requests.Session()
        if token:
            s.headers["Authorization"] = f"Bearer {token}"
        return s

    def url(self, path: str) -> str:
        return self.api_url + path

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def _die_with_test() -> None:
    # A test run killed from outside must not leave a stack behind (it would hold chDB and ports).
    import ctypes

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def start_stack(home: Path, extra_env: dict[str, str] | None = None, timeout: float = 180) -> Stack:
    api_port, moto_port = free_port(), free_port()
    env = {
        **os.environ,
        "MA_HOME": str(home),
        "MA_API_PORT": str(api_port),
        "MA_MOTO_PORT": str(moto_port),
        "MA_WS_PORT": str(free_port()),
        "MA_WS_MGMT_PORT": str(free_port()),
        "MA_ROUTER_PORT": str(free_port()),
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    home.mkdir(parents=True, exist_ok=True)
    log_path = home / "stack.log"
    stack = Stack(home=home, api_url=f"http://127.0.0.1:{api_port}", log_path=log_path, env=env)
    log = open(log_path, "a")
    stack.proc = subprocess.Popen(
        [sys.executable, "-m", "local_stack.supervisor"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True, preexec_fn=_die_with_test,
    )
    ready = threading.Event()

    def pump() -> None:
        assert stack.proc and stack.proc.stdout
        with open(log_path, "a") as out:
            for line in stack.proc.stdout:
                stack.lines.append(line)
                out.write(line)
                out.flush()
                if line.startswith("mastra-admin ready"):
                    ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(timeout) or stack.proc.poll() is not None:
        stop_stack(stack, sig=signal.SIGKILL)
        raise RuntimeError("local stack did not start:\n" + log_path.read_text()[-4000:])
    return stack


def stop_stack(stack: Stack, sig: int = signal.SIGTERM, timeout: float = 30) -> int | None:
    proc = stack.proc
    if proc is None or proc.poll() is not None:
        return proc.poll() if proc else None
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait()
    finally:
        _wait_group_gone(proc.pid)


def _wait_group_gone(pgid: int, timeout: float = 10) -> None:
    """The supervisor's children (moto) die with it; make sure before the next test binds ports."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
