"""Traces (filters, search, the waterfall with tokens and cost per span), metrics charts drawn from data,
and the team's usage, for the deployment the main flow built (ingested spans through S3, as a server ships them)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.observability_stack import ingest_one_trace


@pytest.fixture(scope="module")
def trace_id(stack, owner, world) -> str:
    trace = ingest_one_trace(stack, owner, world["team"], world["project"], world["deployment"])
    world["trace"] = trace
    return trace


def test_traces_filter_and_search_then_open_one_as_a_tree(signed_in, stack, owner, world, trace_id):
    ui, page = signed_in, signed_in.page
    ui.goto(f"/projects/{world['project']}")
    ui.click(page.get_by_role("link", name="Traces", exact=True))
    row = page.locator("table[aria-label='Traces'] tbody tr")
    expect(row).to_have_count(1)
    form = page.get_by_role("form", name="Filter traces")
    form.get_by_label("Status").select_option("error")
    ui.click(form.get_by_role("button", name="Apply filters"))
    expect(page.get_by_text("No trace in that window.")).to_be_visible()
    form.get_by_label("Status").select_option("")
    form.get_by_label("Search").fill("weather")
    form.get_by_label("Deployment").select_option(world["deployment"])
    ui.click(form.get_by_role("button", name="Apply filters"))
    expect(row).to_have_count(1)
    ui.shot("traces")
    ui.click(row.get_by_role("link").first)
    expect(page).to_have_url(re.compile(f"/traces/{trace_id}$"))
    detail = owner.get(stack.url(f"/projects/{world['project']}/traces/{trace_id}")).json()
    items = page.get_by_role("treeitem")
    expect(items).to_have_count(detail["spanCount"])
    generation = next(s for s in detail["spans"][0]["children"] if s["spanType"] == "model_generation")
    span = page.locator(f"[data-span='{generation['spanId']}']")
    expect(span).to_have_attribute("aria-level", "2")
    expect(span).to_contain_text(f"{generation['totalTokens']} tok")
    expect(span).to_contain_text(f"${generation['costUsd']:.6f}")
    ui.click(span.get_by_role("button"))
    expect(span.locator("pre")).to_contain_text('"output"')
    ui.shot("trace")
    ui.click(page.get_by_role("link", name="all traces"))
    ui.click(page.get_by_role("link", name="back to the project"))
    expect(page).to_have_url(re.compile(f"#/projects/{world['project']}$"))


def test_metrics_charts_render_with_data(signed_in, stack, owner, world, trace_id):
    ui, page = signed_in, signed_in.page
    ui.goto(f"/projects/{world['project']}")
    ui.click(page.get_by_role("link", name="Metrics", exact=True))
    data = owner.get(stack.url(f"/projects/{world['project']}/metrics"), params={"groupBy": "none"}).json()
    assert data["series"] and sum(p["requests"] for p in data["series"][0]["points"]) >= 1
    chart = page.locator("figure[data-chart='Requests']")
    expect(chart.locator("canvas")).to_have_count(1)
    expect(chart).to_have_attribute("data-points", str(len(data["series"][0]["points"])))
    page.get_by_label("Group by").select_option("model")
    model = detail_model(stack, owner, world)
    expect(page.locator("figure[data-chart='Tokens']")).to_contain_text(model)
    ui.shot("metrics")
    ui.click(page.get_by_role("link", name="back to the project"))


def detail_model(stack, owner, world) -> str:
    trace = owner.get(stack.url(f"/projects/{world['project']}/traces/{world['trace']}")).json()
    return next(s["model"] for s in trace["spans"][0]["children"] if s["model"])


def test_usage_per_team_lists_the_project_and_model(signed_in, stack, owner, world, trace_id):
    ui, page = signed_in, signed_in.page
    ui.goto("/projects")
    ui.click(page.get_by_role("navigation", name="Main").get_by_role("link", name="Usage"))
    usage = owner.get(stack.url(f"/teams/{world['team']}/usage")).json()
    row = usage["items"][0]
    line = page.locator("table[aria-label='Usage by project and model'] tbody tr").filter(has_text=row["model"])
    expect(line).to_contain_text(str(row["totalTokens"]))
    ui.shot("usage")
    ui.click(line.get_by_role("link"))
    expect(page).to_have_url(re.compile(f"#/projects/{row['projectId']}$"))
