"""A local stack for one benchmark run, in a directory of its own, torn down with its servers."""
from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from tests.support.deploys import kill_servers
from tests.support.stack import Stack, start_stack, stop_stack


@contextlib.contextmanager
def bench_stack(prefix: str, env: dict[str, str]) -> Iterator[tuple[Stack, Path]]:
    """(the started stack, a work directory beside its home); all removed on the way out."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    stack = start_stack(work / "home", env)
    try:
        yield stack, work
    finally:
        stop_stack(stack)
        kill_servers(work / "home")
        shutil.rmtree(work, ignore_errors=True)
