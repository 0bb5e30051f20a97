"""Shared rounds: a subscribe's announcement runs after its write, and subscribes waiting together share one."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.services.live.rounds import Rounds


def test_a_lone_caller_runs_the_work_at_every_call():
    rounds, runs = Rounds(), []
    assert [rounds.run("ch", lambda: runs.append(1) or len(runs)) for _ in range(3)] == [1, 2, 3]


def test_callers_arriving_during_a_round_share_the_next_one_which_starts_after_them():
    rounds = Rounds()
    release, running = threading.Event(), threading.Event()
    starts: list[float] = []

    def work():
        starts.append(time.monotonic())
        if len(starts) == 1:
            running.set()
            release.wait(5)
        return len(starts)

    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(rounds.run, "ch", work)
        running.wait(5)
        arrived = []
        late = []
        for _ in range(5):
            arrived.append(time.monotonic())
            late.append(pool.submit(rounds.run, "ch", work))
        time.sleep(0.1)  # let them all join the waiting round
        release.set()
        assert first.result() == 1
        assert [f.result() for f in late] == [2] * 5
    assert len(starts) == 2 and starts[1] >= max(arrived)


def test_other_keys_do_not_wait_and_a_failure_reaches_every_caller_of_its_round():
    rounds = Rounds()
    assert rounds.run("a", lambda: "a") == "a" and rounds.run("b", lambda: "b") == "b"
    with pytest.raises(RuntimeError):
        rounds.run("a", lambda: (_ for _ in ()).throw(RuntimeError("down")))
    assert rounds.run("a", lambda: "up") == "up"
