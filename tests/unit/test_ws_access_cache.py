"""The delivery-time access re-check: cached per (principal, team), for the window and no longer."""
from __future__ import annotations

import pytest

from chalicelib.auth.access import Access, Principal
from chalicelib.auth.rbac import Role
from chalicelib.services.live import channel_access
from chalicelib.services.live.channel_access import Verdict
from chalicelib.ttl_cache import TTLCache

BUILD_A = "build:bld_" + "a" * 26
BUILD_B = "build:bld_" + "b" * 26
BUILD_C = "build:bld_" + "c" * 26
TEAMS = {BUILD_A: "team_1", BUILD_B: "team_1", BUILD_C: "team_2"}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_lives_for_the_window_and_is_loaded_again_after_it():
    clock = Clock()
    cache = TTLCache(5, clock=clock)
    loads = []
    load = lambda: loads.append(1) or len(loads)  # noqa: E731
    assert cache.get("k", load) == 1
    clock.now += 4.9
    assert cache.get("k", load) == 1
    clock.now += 0.2
    assert cache.get("k", load) == 2
    assert len(loads) == 2


def test_a_zero_window_caches_nothing_and_none_is_cached_like_any_value():
    loads = []
    assert TTLCache(0).get("k", lambda: loads.append(1)) is None
    assert TTLCache(0).get("k", lambda: loads.append(1)) is None
    assert len(loads) == 2
    cache = TTLCache(5)
    cache.get("k", lambda: loads.append(1))
    cache.get("k", lambda: loads.append(1))
    assert len(loads) == 3


@pytest.fixture
def world(monkeypatch):
    """Roles by (user, team) and a count of the reads the re-check makes."""
    clock = Clock()
    roles: dict[tuple[str, str], Role] = {}
    revoked_keys: set[str] = set()
    reads = {"team": 0, "access": 0}

    def team_of(kind, item_id):
        reads["team"] += 1
        return TEAMS[f"{kind}:{item_id}"]

    def access_in(principal, team_id):
        reads["access"] += 1
        if principal.key_id in revoked_keys:
            return None
        access = Access(principal=principal, permission=None)
        access._roles[team_id] = roles.get((principal.user_id, team_id))
        return access

    monkeypatch.setattr(channel_access, "_team_of", team_of)
    monkeypatch.setattr(channel_access, "_access_in", access_in)
    monkeypatch.setattr(channel_access, "_caches", lambda caches=(TTLCache(5, clock), TTLCache(5, clock)): caches)
    return clock, roles, revoked_keys, reads


def test_the_recheck_reads_once_per_principal_and_team_within_the_window(world):
    clock, roles, _, reads = world
    alice, bob = Principal("alice"), Principal("bob")
    roles[("alice", "team_1")] = roles[("bob", "team_1")] = Role.viewer
    for _ in range(3):
        assert channel_access.recheck(alice, BUILD_A) is Verdict.DELIVER
        assert channel_access.recheck(alice, BUILD_B) is Verdict.DELIVER  # same team: no new read
    assert reads["access"] == 1
    assert channel_access.recheck(bob, BUILD_A) is Verdict.DELIVER  # another principal
    assert reads["access"] == 2
    assert channel_access.recheck(alice, BUILD_C) is Verdict.ACCESS_REVOKED  # another team, not a member
    assert reads["access"] == 3
    # Two tokens of one user are one principal: the expiry is not part of the key.
    assert channel_access.recheck(Principal("alice", expires_at=123), BUILD_A) is Verdict.DELIVER
    assert reads["access"] == 3


def test_a_removed_member_is_refused_once_the_window_has_passed(world):
    clock, roles, _, reads = world
    alice = Principal("alice")
    roles[("alice", "team_1")] = Role.viewer
    assert channel_access.recheck(alice, BUILD_A) is Verdict.DELIVER
    del roles[("alice", "team_1")]
    clock.now += 4
    assert channel_access.recheck(alice, BUILD_A) is Verdict.DELIVER  # still cached
    clock.now += 1.5
    assert channel_access.recheck(alice, BUILD_A) is Verdict.ACCESS_REVOKED
    assert reads["access"] == 2 and reads["team"] == 2


def test_a_revoked_key_is_a_verdict_of_its_own(world):
    _, roles, revoked, _ = world
    roles[("alice", "team_1")] = Role.owner
    revoked.add("key_1")
    assert channel_access.recheck(Principal("alice", key_id="key_1"), BUILD_A) is Verdict.KEY_REVOKED
    assert channel_access.recheck(Principal("alice", key_id="key_2"), BUILD_A) is Verdict.DELIVER


def test_a_key_scoped_to_another_team_is_refused(world):
    _, roles, _, _ = world
    roles[("alice", "team_1")] = Role.owner
    assert channel_access.recheck(Principal("alice", key_id="k", scope_team_id="team_2"), BUILD_A) \
        is Verdict.ACCESS_REVOKED


def test_expiry_is_compared_with_the_clock():
    assert channel_access.expired(100, now=100) and channel_access.expired(99, now=100)
    assert not channel_access.expired(101, now=100) and not channel_access.expired(None, now=100)


def test_callers_missing_one_key_together_share_one_load():
    import threading
    from concurrent.futures import ThreadPoolExecutor

    cache = TTLCache(5)
    started, release, loads = threading.Event(), threading.Event(), []

    def load():
        loads.append(1)
        started.set()
        release.wait(5)
        return "value"

    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(cache.get, "k", load)
        started.wait(5)
        others = [pool.submit(cache.get, "k", load) for _ in range(7)]
        release.set()
        assert {first.result()} | {f.result() for f in others} == {"value"}
    assert len(loads) == 1


def test_a_failed_load_is_not_kept():
    cache = TTLCache(5)
    with pytest.raises(RuntimeError):
        cache.get("k", lambda: (_ for _ in ()).throw(RuntimeError("down")))
    assert cache.get("k", lambda: "up") == "up"


def test_discarded_entries_are_loaded_again():
    cache = TTLCache(5)
    cache.get("a", lambda: 1), cache.get("b", lambda: 2)
    cache.discard(lambda key, value: value == 1)
    assert cache.get("a", lambda: 10) == 10 and cache.get("b", lambda: 20) == 2


def test_a_load_that_began_before_a_discard_is_not_kept():
    cache = TTLCache(5)
    # The load read the key as valid; meanwhile it was revoked and dropped from the cache.
    assert cache.get("k", lambda: cache.discard(lambda key, value: True) or "read before") == "read before"
    assert cache.get("k", lambda: "read after") == "read after"
