"""End to end through the local stack: the release guard judges real releases of the mastra-weather
example and rolls a worse one back.

One deployment, three builds of the same source, each variant built once and shared by both tests
(examples/mastra-weather/src/mastra/variant.ts: the scripted model reports TOKEN_FACTOR times the
tokens, so each run costs that many times more):

1. `base` (factor 1) deployed, traffic through the router; `same` (factor 1.1) deployed, traffic:
   the guard's last verdict is `passed` with both sample sizes, and nothing is rolled back.
2. `worse` (factor 20) deployed after it, traffic: the guard rolls back to `same` within its window,
   the router serves `same` again, the rollback is on the WebSocket and in /events, and further
   evaluations do nothing more.

The server ships its observability files every 2 s (MASTRA_ADMIN_ROTATE_SECONDS), the ingest's
check and the stack's guard timer run every 3 s (MA_GUARD_INTERVAL). Needs the npm registry.
"""
from __future__ import annotations

import json
import re
import shutil
import threading
import time
from pathlib import Path

import pytest

from tests.support.builds import start_build, tiny_deployment, wait_build
from tests.support.deploys import deploy_stack, via_path, wait_deploy_of_build
from tests.support.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "mastra-weather"
RUNS = 12  # agent calls per release; the guard's minimum is 10
RULES = [{"metric": "errorRate", "maxIncrease": 0.1}, {"metric": "costPerRunUsd", "maxRatio": 1.3},
         {"metric": "tokensPerRun", "maxRatio": 1.3}]
SERVED_BY = re.compile(r"\[build (bld_[0-9a-z]{26})\]")

pytestmark = [pytest.mark.timeout(2400), pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    # A Mastra server takes more than the deploy tests' 10 s to answer /health on a loaded machine.
    with deploy_stack(tmp_path_factory.mktemp("ma-guard"), {"MA_GUARD_INTERVAL": "3",
                                                            "MA_DEPLOY_HEALTH_TIMEOUT": "120"}) as s:
        yield s


@pytest.fixture(scope="module")
def owner(stack):
    return stack.session(stack.owner_key)


@pytest.fixture(scope="module")
def release(stack, owner, tmp_path_factory):
    """The project and deployment, and `release(factor)`: build the source at that variant and wait for
    its deploy (each variant once per run)."""
    team = owner.get(stack.url("/teams")).json()["items"][0]["id"]
    source = tmp_path_factory.mktemp("guarded") / "mastra-weather"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("node_modules", ".mastra", ".git"))
    project, deployment = tiny_deployment(stack, owner, team, {"type": "local", "path": str(source)},
                                          env={"MASTRA_ADMIN_ROTATE_SECONDS": "2"}, name="guarded-weather")

    def build(factor: float) -> str:
        (source / "src" / "mastra" / "variant.ts").write_text(f"export const TOKEN_FACTOR = {factor};\n")
        built = wait_build(stack, owner, start_build(stack, owner, deployment)["id"], timeout=1200)
        assert built["status"] == "succeeded", built
        deploy = wait_deploy_of_build(stack, owner, deployment, built["id"], timeout=300)
        assert deploy["status"] == "succeeded", deploy["reason"]
        return built["id"]

    return type("Release", (), {"project": project, "deployment": deployment, "build": staticmethod(build)})


def _ask(stack, slug: str, city: str) -> str:
    """One agent call through the router; the build that answered."""
    r = via_path(stack, slug, "/api/agents/weatherAgent/generate", method="POST",
                 json={"messages": [{"role": "user", "content": f"Weather in {city}?"}]}, timeout=60)
    assert r.status_code == 200, r.text[:300]
    return SERVED_BY.search(r.json()["text"]).group(1)


REPLACED_WITHIN_S = 600


def _traffic(stack, owner, deployment: str, build_id: str, runs: int = RUNS, until_replaced: bool = False) -> int:
    """`runs` agent calls answered by `build_id` (the route switched first); with `until_replaced`, calls
    go on until another build answers (a rollback). Returns the calls `build_id` answered."""
    slug = owner.get(stack.url(f"/deployments/{deployment}")).json()["slug"]
    wait_for(lambda: _ask(stack, slug, "Lisbon") == build_id, 30, what=f"{build_id} answering")
    answered, deadline = 1, time.monotonic() + REPLACED_WITHIN_S
    while answered < runs or until_replaced:
        if _ask(stack, slug, ("Paris", "Tokyo")[answered % 2]) != build_id:
            assert until_replaced, f"{build_id} stopped answering after {answered} calls"
            return answered
        answered += 1
        # A bound in time, not in calls: the rollback's deploy (a server started, checked, switched
        # to) takes what the machine gives it, while calls answer in milliseconds.
        assert time.monotonic() < deadline, f"never replaced after {answered} calls"
    return answered


def _guard(stack, owner, deployment: str) -> dict:
    return owner.get(stack.url(f"/deployments/{deployment}/guard")).json()


def _served_by(stack, owner, deployment: str) -> str:
    return _ask(stack, owner.get(stack.url(f"/deployments/{deployment}")).json()["slug"], "Paris")


BUILDS: dict[str, str] = {}


def test_a_release_that_is_not_worse_passes_with_its_sample_sizes_and_stays(stack, owner, release):
    deployment = release.deployment
    BUILDS["base"] = release.build(1)
    _traffic(stack, owner, deployment, BUILDS["base"])
    r = owner.put(stack.url(f"/deployments/{deployment}/guard"),
                  json={"rules": RULES, "minRuns": 10, "windowMinutes": 30})
    assert r.status_code == 200, r.text
    BUILDS["same"] = release.build(1.1)
    _traffic(stack, owner, deployment, BUILDS["same"])

    last = wait_for(lambda: (lambda g: g["lastEvaluation"] if g["lastEvaluation"] and
                             g["lastEvaluation"]["verdict"] == "passed" and
                             g["lastEvaluation"]["headBuildId"] == BUILDS["same"] else None)(
        _guard(stack, owner, deployment)), 180, what="the guard's passed verdict")
    assert last["baseBuildId"] == BUILDS["base"]
    assert last["baseRuns"] >= 10 and last["headRuns"] >= 10
    [cost] = [r for r in last["rules"] if r["metric"] == "costPerRunUsd"]
    assert cost["judged"] and not cost["breached"] and 1.0 < cost["change"] < 1.3, cost
    events = owner.get(stack.url(f"/deployments/{deployment}/events")).json()["items"]
    assert {e["type"] for e in events} == {"deploy"}, events
    assert owner.get(stack.url(f"/deployments/{deployment}")).json()["currentBuildId"] == BUILDS["same"]


def test_a_worse_release_is_rolled_back_once_by_the_guard_and_everyone_hears_of_it(stack, owner, release):
    from tests.support.live import ws_client

    if "same" not in BUILDS:
        pytest.skip("needs the passed release of the test before")
    deployment = release.deployment
    heard: list[dict] = []
    with ws_client(stack, stack.owner_key) as ws:
        ws.send(json.dumps({"action": "subscribe", "channel": f"deployment:{deployment}"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "subscribed"
        stop = threading.Event()

        def listen():
            while not stop.is_set():
                try:
                    heard.append(json.loads(ws.recv(timeout=1)))
                except TimeoutError:
                    continue
                except Exception:
                    return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        BUILDS["worse"] = release.build(20)
        answered = _traffic(stack, owner, deployment, BUILDS["worse"], until_replaced=True)
        assert answered >= 10, "the guard waited for its minimum of runs"
        assert owner.get(stack.url(f"/deployments/{deployment}")).json()["currentBuildId"] == BUILDS["same"]
        wait_for(lambda: any(m.get("verdict") == "breached" for m in heard), 30, what="the breach on the WebSocket")
        stop.set()
        listener.join(timeout=5)

    assert _served_by(stack, owner, deployment) == BUILDS["same"]
    # Verdict changes are published (`waiting` while the worse build gathered runs); one breach.
    [message] = [m for m in heard if m.get("type") == "guard" and m["verdict"] == "breached"]
    assert message["evaluation"]["headBuildId"] == BUILDS["worse"] and message["evaluation"]["rollbackDeployId"]

    guard = _guard(stack, owner, deployment)
    last = guard["lastEvaluation"]
    assert last["verdict"] == "breached" and guard["rejectedBuildIds"] == [BUILDS["worse"]]
    assert last["baseBuildId"] == BUILDS["same"] and last["baseRuns"] >= 10 and last["headRuns"] >= 10
    assert last["at"] < last["windowEndsAt"], "judged within the window"
    [cost] = [r for r in last["rules"] if r["metric"] == "costPerRunUsd"]
    assert cost["breached"] and cost["change"] > 10, cost

    events = owner.get(stack.url(f"/deployments/{deployment}/events")).json()["items"]
    guard_events = [e for e in events if e["type"] == "guard"]
    rollbacks = [e for e in events if e["type"] == "rollback"]
    assert len(guard_events) == 1 and guard_events[0]["buildId"] == BUILDS["worse"]
    assert len(rollbacks) == 1 and rollbacks[0]["buildId"] == BUILDS["same"] and rollbacks[0]["by"] == "release-guard"
    assert "costPerRunUsd" in rollbacks[0]["reason"]

    # Later evaluations (the timer every 3 s, checks after ingest) do nothing more.
    seen = guard["evaluations"]
    deploys = len(owner.get(stack.url(f"/deployments/{deployment}/deploys")).json()["items"])
    _traffic(stack, owner, deployment, BUILDS["same"], runs=2)
    wait_for(lambda: _guard(stack, owner, deployment)["evaluations"] > seen or None, 60,
             what="another evaluation")
    time.sleep(6)  # two more ticks of the guard's timer
    assert len(owner.get(stack.url(f"/deployments/{deployment}/deploys")).json()["items"]) == deploys
    assert owner.get(stack.url(f"/deployments/{deployment}")).json()["currentBuildId"] == BUILDS["same"]
    assert _guard(stack, owner, deployment)["lastEvaluation"]["verdict"] == "breached"  # the breach stays the last word
