"""Child processes of the local stack: own process group, killed with their parent."""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from typing import IO

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # If the supervisor is SIGKILLed, the kernel sends SIGTERM to its children: no orphans.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def start_python_module(module: str, args: list[str], env: dict[str, str], log: IO[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-u", "-m", module, *args],
        env=env, stdout=subprocess.PIPE, stderr=log, text=True,
        start_new_session=True, preexec_fn=_die_with_parent,
    )


def wait_for_line(proc: subprocess.Popen, prefix: str, timeout: float, echo: IO[str] | None = None) -> str:
    """Read the child's stdout until a line starts with `prefix`; keep draining it (into `echo`)."""
    found: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if echo is not None:
                echo.write(line)
                echo.flush()
            if not ready.is_set() and line.startswith(prefix):
                found.append(line.strip())
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(timeout) or not found:
        stop(proc)
        raise RuntimeError(f"{prefix!r} not seen from child (exit code {proc.poll()})")
    return found[0]


def stop(proc: subprocess.Popen, grace: float = 5.0) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
