"""A 100,000-line build log stays usable: a few hundred rows in the DOM at most, the last line reached by
scrolling (the keyboard's End in the focused log), and a dropped WebSocket resumes without gap or duplicate."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.support.builds import copy_tiny, start_build, tiny_deployment, wait_build
from tests.support.waiting import wait_for

LINES = 100_000


def _append_stored_lines(stack, build_id: str, offset: int, count: int, per_chunk: int = 100) -> None:
    """Lines appended to a finished build's stored log as the build worker's flush writes them (BuildLogChunk
    items, PK=BUILD#{id} SK=LOG#{offset:010d}, and the build's logLines): recording 100,000 lines through a real build takes minutes
    here (one DynamoDB write and one publish per 100-line flush), and the console reads them the same way."""
    ddb, now = stack.aws("dynamodb"), "2026-01-01T00:00:00.000000+0000"
    chunks = [{"PutRequest": {"Item": {
        "PK": {"S": f"BUILD#{build_id}"}, "SK": {"S": f"LOG#{offset + i:010d}"}, "kind": {"S": "BuildLogChunk"},
        "offset": {"N": str(offset + i)}, "createdAt": {"S": now}, "updatedAt": {"S": now},
        "lines": {"L": [{"S": f"stored line {n + 1} of {count}"} for n in range(i, min(i + per_chunk, count))]},
    }}} for i in range(0, count, per_chunk)]
    for i in range(0, len(chunks), 25):
        left = {"mastra-admin-local": chunks[i:i + 25]}
        while left:
            left = ddb.batch_write_item(RequestItems=left).get("UnprocessedItems")
    ddb.update_item(TableName="mastra-admin-local", Key={"PK": {"S": f"BUILD#{build_id}"}, "SK": {"S": "#META"}},
                    UpdateExpression="SET logLines = :n", ExpressionAttributeValues={":n": {"N": str(offset + count)}})


def test_a_100000_line_log_keeps_a_few_hundred_rows_and_reaches_its_last_line(signed_in, stack, owner, team,
                                                                             tmp_path_factory):
    ui, page = signed_in, signed_in.page
    src = copy_tiny(tmp_path_factory.mktemp("console-long") / "long")
    _, deployment = tiny_deployment(stack, owner, team, {"type": "local", "path": str(src)}, name="console-long")
    build = wait_build(stack, owner, start_build(stack, owner, deployment)["id"])
    assert build["status"] == "succeeded", build
    _append_stored_lines(stack, build["id"], build["logLines"], LINES)
    total = build["logLines"] + LINES
    assert owner.get(stack.url(f"/builds/{build['id']}/logs"), params={"since": total - 1}).json()["lines"] == [
        f"stored line {LINES} of {LINES}"]
    ui.goto(f"/builds/{build['id']}")
    log = page.get_by_role("log", name="Build log")
    expect(log).to_have_attribute("data-lines", str(total), timeout=120_000)
    assert log.locator(".line").count() <= 300
    log.focus()
    page.keyboard.press("End")
    expect(log.locator(f".line[data-line='{total}']")).to_contain_text(f"stored line {LINES} of {LINES}")
    expect(log.locator(f".line[data-line='{total}']")).to_be_in_viewport()
    expect(log.locator(".line[data-line='100000']")).to_be_attached()
    assert 0 < log.locator(".line").count() <= 300
    ui.shot("build-100k")


def test_a_dropped_connection_resumes_the_live_log_without_gap_or_duplicate(signed_in, stack, owner, team,
                                                                           tmp_path_factory):
    ui, page = signed_in, signed_in.page
    src = copy_tiny(tmp_path_factory.mktemp("console-drop") / "drop")
    _, deployment = tiny_deployment(stack, owner, team, {"type": "local", "path": str(src)},
                                    env={"BUILD_SLEEP_SECONDS": "6"}, name="console-drop")
    build = start_build(stack, owner, deployment)
    ui.goto(f"/builds/{build['id']}")
    log = page.get_by_role("log", name="Build log")
    expect(log).to_contain_text("working 1", timeout=60_000)
    connects = page.evaluate("window.__live.connects")
    ui.click(page.get_by_role("button", name="Reconnect"))
    wait_for(lambda: page.evaluate("window.__live.connects"), until=lambda n: n > connects, what="reconnected")
    done = wait_build(stack, owner, build["id"])
    assert done["status"] == "succeeded", done
    expect(log).to_have_attribute("data-lines", str(done["logLines"]))
    stored = owner.get(stack.url(f"/builds/{build['id']}/logs"), params={"since": 0}).json()["lines"]
    shown = log.locator(".line").evaluate_all("els => els.map(e => e.textContent.slice(e.querySelector('.n').textContent.length))")
    assert shown == stored[-len(shown):] and len(shown) == min(len(stored), len(shown))
