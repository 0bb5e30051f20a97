"""Releases, the release guard and the events timeline on the deployment page of the tier's shared deployment
(two builds: the main flow rolled back from build2 to build1, so build1 serves and build2 served before it).

The guard is set in the page while build1 has no runs (it waits, and says so); then spans are shipped for both
builds through the stack's ingest path (S3 -> queue -> ClickHouse), build1's worse: the guard rolls back to
build2, and the page shows the verdict and the rollback live, from the `deployment:{id}` channel."""
from __future__ import annotations

import random
import re
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from tests.support.observability_records import Scope, trace
from tests.support.observability_stack import put_records
from tests.support.waiting import wait_for

RUNS = 40
UNPRICED = "house-model-7b"


def _api(stack, owner, path, **params):
    r = owner.get(stack.url(path), params=params)
    assert r.status_code == 200, r.text
    return r.json()


def _ship(stack, owner, world, build_id: str, errors: int, model: str) -> None:
    """RUNS agent calls of `build_id` (the first `errors` failing) as one spans object, as a server's shipper writes,
    timed inside the middle of the build's newest serving window (the guard counts what each build served)."""
    scope = Scope(world["team"], world["project"], world["deployment"], build_id=build_id)
    releases = _api(stack, owner, f"/deployments/{world['deployment']}/releases")["items"]
    window = next(r for r in releases if r["buildId"] == build_id)["windows"][0]
    opened = datetime.fromisoformat(window["start"])
    closed = datetime.fromisoformat(window["end"]) if window["end"] else datetime.now(timezone.utc)
    first, span = opened + (closed - opened) / 4, (closed - opened) / 2
    rng = random.Random(build_id)
    spans = [s for i in range(RUNS) for s in trace(scope, first + span * (i / RUNS), rng, model=model,
                                                    error=i < errors)]
    put_records(stack, scope, "spans", spans)


def _add_rule(ui, guard, n: int) -> None:
    """Add rule `n` and see its row. On a loaded machine (CI's two workers) a click once left no row, the draft
    apparently re-made under it: the button is clicked again only while the row count is short of `n`."""
    rows = guard.locator("tr[data-rule]")
    for _ in range(3):
        if rows.count() < n:
            ui.click(guard.locator("button[data-action='add-rule']"))
        try:
            expect(guard.get_by_label(f"Metric of rule {n}")).to_be_visible(timeout=10_000)
            return
        except AssertionError:
            continue
    expect(guard.get_by_label(f"Metric of rule {n}")).to_be_visible()


def _events(stack, owner, deployment: str) -> list[dict]:
    items, cursor = [], None
    while True:
        page = _api(stack, owner, f"/deployments/{deployment}/events", cursor=cursor)
        items += page["items"]
        cursor = page.get("nextCursor")
        if not cursor:
            return items


@pytest.fixture(scope="module")
def builds(world) -> tuple[str, str]:
    """(serving, served before): the main flow's rollback left build1 serving after build2."""
    return world["build1"], world["build2"]


def test_the_guard_set_in_the_page_waits_then_rolls_back_a_worse_build_live(signed_in, stack, owner, world, builds):
    ui, page = signed_in, signed_in.page
    dep, (bad, good) = world["deployment"], builds
    ui.goto(f"/deployments/{dep}")
    guard = page.get_by_role("region", name="Release guard")
    expect(guard.locator("[data-verdict='none']")).to_be_visible()

    _add_rule(ui, guard, 1)
    guard.get_by_label("Metric of rule 1").select_option("errorRate")
    guard.get_by_label("Limit of rule 1").select_option("maxIncrease")
    guard.get_by_label("Value of rule 1").fill("0.05")
    _add_rule(ui, guard, 2)
    expect(guard.get_by_label("Metric of rule 2")).to_have_value("toolErrorRate")  # the first metric not ruled yet
    ui.click(guard.locator("tr[data-rule='1'] button[data-action='remove-rule']"))
    expect(guard.locator("tr[data-rule]")).to_have_count(1)
    guard.get_by_label("Minimum runs").fill(str(RUNS - 10))
    guard.get_by_label("Window (minutes)").fill("60")
    guard.get_by_label("Guard on").check()
    ui.click(guard.locator("button[data-action='save-guard']"))
    wait_for(lambda: _api(stack, owner, f"/deployments/{dep}/guard"), until=lambda g: g["enabled"], what="guard on")
    stored = _api(stack, owner, f"/deployments/{dep}/guard")
    assert stored["rules"] == [{"metric": "errorRate", "maxIncrease": 0.05}]
    assert (stored["minRuns"], stored["windowMinutes"]) == (RUNS - 10, 60)

    # No run of either build yet: the guard waits, and the page says "not judged yet", never "passed".
    verdict = guard.locator("[data-verdict='waiting']")
    expect(verdict).to_be_visible()
    expect(verdict).to_contain_text("not judged yet")
    expect(verdict.locator(".status")).to_have_class(re.compile(r"\bwaiting\b"))
    assert _api(stack, owner, f"/deployments/{dep}/guard")["lastEvaluation"]["verdict"] == "waiting"

    _ship(stack, owner, world, good, 0, "gpt-4o-mini")
    _ship(stack, owner, world, bad, RUNS // 2, UNPRICED)
    timeline = page.get_by_role("region", name="Events")
    # The timeline keeps the breach (the guard's last verdict may move on once its rollback is under way).
    acted_row = timeline.locator("li[data-type='guard']")
    expect(acted_row).to_contain_text(f"breached of {bad} by release-guard", timeout=60_000)
    expect(acted_row.locator("[data-runs]")).to_have_text(f" · head {RUNS} runs against base {RUNS}")
    expect(guard.locator("[data-verdict='passed']")).to_have_count(0)
    expect(timeline.locator("li[data-type='rollback']").first).to_contain_text("release-guard")
    # The comparison on show (read when the page opened, before any run) is read again with the releases.
    compared = page.get_by_role("table", name="Comparison").locator("tr[data-metric='errorRate']")
    expect(compared).to_contain_text(f"{RUNS} / {RUNS}")
    page.locator(".release-panels").screenshot(path=str(ui.shots / "releases-guard-panels.png"))  # README's
    events = _events(stack, owner, dep)
    acted = next(e for e in events if e["type"] == "guard")
    assert acted["buildId"] == bad and acted["evaluation"]["verdict"] == "breached"
    assert (acted["evaluation"]["baseRuns"], acted["evaluation"]["headRuns"]) == (RUNS, RUNS)
    rollback = next(e for e in events if e["type"] == "rollback" and e["by"] == "release-guard")
    assert rollback["buildId"] == good and rollback["deployId"] == acted["deployId"]
    expect(timeline.locator(f"li[data-event='{rollback['id']}'] [data-reason]")).to_have_text(rollback["reason"])
    wait_for(lambda: _api(stack, owner, f"/deployments/{dep}"), timeout=60,
             until=lambda d: d["currentBuildId"] == good and d["status"] == "running", what="the guard's rollback")
    world["guard_rollback"] = rollback["id"]


def test_releases_show_each_builds_figures_and_compare_them(signed_in, stack, owner, world, builds):
    ui, page = signed_in, signed_in.page
    dep, (bad, good) = world["deployment"], builds
    ui.goto(f"/deployments/{dep}")
    releases = page.get_by_role("region", name="Releases")
    listed = _api(stack, owner, f"/deployments/{dep}/releases")["items"]
    expect(releases.locator("tr[data-release]")).to_have_count(len(listed))
    figures = {r["buildId"]: r["figures"] for r in listed}
    worse, better = releases.locator(f"tr[data-release='{bad}']"), releases.locator(f"tr[data-release='{good}']")
    expect(worse.locator("[data-figure='runs']")).to_have_text(str(RUNS))
    expect(worse.locator("[data-figure='errorRate']")).to_have_text("50.0 %")
    expect(better.locator("[data-figure='errorRate']")).to_have_text("0.0 %")
    expect(worse.locator("[data-figure='costPerRun']")).to_have_text(f"unpriced ({UNPRICED})")  # unknown, never $0
    expect(better.locator("[data-figure='costPerRun']")).to_have_text(f"${figures[good]['costPerRunUsd']:.6f}")
    expect(worse.locator("[data-figure='models']")).to_have_text(f"{UNPRICED} 100 %")
    assert figures[bad]["costPerRunUsd"] is None and figures[bad]["unpricedModels"] == [UNPRICED]
    expect(better).to_contain_text("(serving)")

    # The default comparison is the API's: the build serving now against the one it replaced.
    default = _api(stack, owner, f"/deployments/{dep}/releases/compare")
    table = releases.get_by_role("table", name="Comparison")
    expect(table).to_have_attribute("data-head", default["head"]["buildId"])
    expect(table).to_have_attribute("data-base", default["base"]["buildId"])
    form = releases.get_by_role("form", name="Compare builds")
    form.get_by_label("Base").select_option(good)
    form.get_by_label("Head").select_option(bad)
    ui.click(form.locator("button[data-action='compare']"))
    expect(table).to_have_attribute("data-head", bad)
    picked = _api(stack, owner, f"/deployments/{dep}/releases/compare", base=good, head=bad)
    errors = next(m for m in picked["metrics"] if m["metric"] == "errorRate")
    assert errors["significant"] and (errors["baseN"], errors["headN"]) == (RUNS, RUNS)
    row = table.locator("tr[data-metric='errorRate']")
    expect(row).to_have_attribute("data-significant", "true")
    expect(row).to_contain_text("+50.0 pts")
    expect(row.locator(".sig")).to_have_text("significant")
    expect(row).to_contain_text(f"{RUNS} / {RUNS}")
    expect(table.locator("tr[data-metric='costPerRunUsd']")).to_contain_text(f"unpriced ({UNPRICED})")
    ui.shot("releases-guard")


def test_the_timeline_pages_back_and_the_guard_turns_off(signed_in, stack, owner, world):
    ui, page = signed_in, signed_in.page
    dep = world["deployment"]
    ui.goto(f"/deployments/{dep}")
    timeline = page.get_by_role("region", name="Events")
    events = _events(stack, owner, dep)
    first = _api(stack, owner, f"/deployments/{dep}/events", limit=6)
    assert first["nextCursor"] and len(events) > 6  # two builds, a rollback, redeploy, restart, stop, the guard's
    items, older = timeline.locator("li[data-event]"), timeline.locator("button[data-action='older-events']")
    shown = 6
    expect(items).to_have_count(shown)
    while shown < len(events):
        ui.click(older)
        shown = min(len(events), shown + 6)
        expect(items).to_have_count(shown)
    expect(older).to_have_count(0)
    assert items.evaluate_all("els => els.map(e => e.dataset.event)") == [e["id"] for e in events]

    guard = page.get_by_role("region", name="Release guard")
    guard.get_by_label("Guard on").uncheck()
    ui.click(guard.locator("button[data-action='save-guard']"))
    wait_for(lambda: _api(stack, owner, f"/deployments/{dep}/guard"), until=lambda g: not g["enabled"], what="guard off")
    expect(guard.locator("h2 .status")).to_have_text("off")


def test_a_viewer_reads_releases_and_the_guard_but_may_not_change_it(ui, world, viewer_key):
    ui.sign_in(viewer_key)
    page = ui.page
    ui.goto(f"/deployments/{world['deployment']}")
    guard = page.get_by_role("region", name="Release guard")
    expect(guard.locator("button[data-action='save-guard']")).to_be_disabled()
    expect(guard.locator("button[data-action='add-rule']")).to_be_disabled()
    expect(guard.get_by_label("Guard on")).to_be_disabled()
    expect(guard.get_by_text("Your role (viewer) lacks deployment:update")).to_be_visible()
    expect(page.get_by_role("region", name="Releases").locator("button[data-action='compare']")).to_be_enabled()
    expect(page.get_by_role("region", name="Events").locator("li[data-event]").first).to_be_visible()
