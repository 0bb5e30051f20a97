"""The console's main flow in a real browser, each action's effect checked through the API: sign in, create a
project, set a variable, build with the log streaming live (no layout shift), the deployment running and its
URL serving the build, a second build, rollback, redeploy/restart/stop, cancel."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.support.builds import copy_tiny, start_build, tiny_deployment, wait_build
from tests.support.console import LAYOUT_SHIFTS_JS
from tests.support.deploys import wait_deploy_of_build
from tests.support.waiting import wait_for


def _api(stack, owner, path, **params):
    r = owner.get(stack.url(path), params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_sign_in_refuses_a_bad_key_and_keeps_a_good_one_in_session_storage(ui, stack):
    ui.page.goto(f"{stack.api_url}/")
    ui.page.get_by_label("API key or JWT").fill("ma_not_a_real_key")
    ui.click(ui.page.get_by_role("button", name="Sign in"))
    expect(ui.page.get_by_role("alert")).to_contain_text("invalid_token")
    ui.shot("sign-in")
    ui.sign_in(stack.owner_key)
    assert ui.page.evaluate("sessionStorage.getItem('mastra-admin.token')") == stack.owner_key
    assert ui.page.evaluate("localStorage.length") == 0


def test_create_a_project_and_set_and_delete_variables(signed_in, stack, owner, team, tmp_path_factory, world):
    ui, page = signed_in, signed_in.page
    src = copy_tiny(tmp_path_factory.mktemp("console-src") / "app")
    ui.goto("/projects")
    form = page.get_by_role("form", name="New project")
    form.get_by_label("Name").fill("console-app")
    form.get_by_label("Source").select_option("local")
    form.get_by_label("Path or git URL").fill(str(src))
    ui.click(form.get_by_role("button", name="Create project"))
    expect(page).to_have_url(__import__("re").compile(r"#/projects/prj_"))
    project_id = page.url.rsplit("/", 1)[1]
    project = _api(stack, owner, f"/projects/{project_id}")
    assert project["name"] == "console-app" and project["source"] == {"type": "local", "path": str(src)}
    deployments = _api(stack, owner, f"/projects/{project_id}/deployments")["items"]
    assert [d["type"] for d in deployments] == ["production"]
    world.update(project=project_id, deployment=deployments[0]["id"], team=team)

    setter = page.get_by_role("form", name="Set a variable")
    for name, value in (("BUILD_LINES", "1000"), ("SCRATCH", "to-be-deleted-value")):
        setter.get_by_label("Name").fill(name)
        setter.get_by_label("Value").fill(value)
        ui.click(setter.get_by_role("button", name="Set"))
        expect(page.locator(f"tr[data-var='{name}']")).to_be_visible()
    env = {v["name"]: v["value"] for v in _api(stack, owner, f"/projects/{project_id}/env")["items"]}
    assert set(env) == {"BUILD_LINES", "SCRATCH"} and "to-be-deleted-value" not in page.content()
    ui.shot("project")
    ui.click(page.locator("tr[data-var='SCRATCH']").get_by_role("button", name="Delete"))
    expect(page.locator("tr[data-var='SCRATCH']")).to_have_count(0)
    assert [v["name"] for v in _api(stack, owner, f"/projects/{project_id}/env")["items"]] == ["BUILD_LINES"]


def test_a_build_streams_its_log_live_with_no_layout_shift(signed_in, stack, owner, world):
    ui, page = signed_in, signed_in.page
    ui.goto(f"/projects/{world['project']}")
    ui.click(page.locator(f"tr[data-deployment='{world['deployment']}']").get_by_role("button", name="Build now"))
    expect(page).to_have_url(__import__("re").compile(r"#/builds/bld_"))
    build_id = page.url.rsplit("/", 1)[1]
    log = page.get_by_role("log", name="Build log")
    log.wait_for()
    page.evaluate(LAYOUT_SHIFTS_JS)
    at_start = int(log.get_attribute("data-lines"))
    expect(page.locator(".status").first).to_have_text("succeeded", timeout=120_000)
    build = wait_build(stack, owner, build_id)
    assert build["status"] == "succeeded", build
    expect(log).to_have_attribute("data-lines", str(build["logLines"]))
    assert at_start < 1000 <= build["logLines"]  # the lines arrived while the page was open
    shifts = page.evaluate("window.__shifts")
    assert shifts == [], shifts
    stored = _api(stack, owner, f"/builds/{build_id}/logs", since=build["logLines"] - 1)["lines"][-1]
    log.focus()
    page.keyboard.press("End")
    expect(log.locator(f".line[data-line='{build['logLines']}']")).to_contain_text(stored[-40:])
    assert log.locator(".line").count() <= 300
    ui.shot("build")
    world["build1"] = build_id


def test_the_deployment_goes_running_and_its_url_serves_the_build(signed_in, stack, owner, world):
    ui, page = signed_in, signed_in.page
    ui.goto(f"/builds/{world['build1']}")
    ui.click(page.get_by_role("link", name="Deployment"))
    wait_deploy_of_build(stack, owner, world["deployment"], world["build1"])
    expect(page.locator(".card .status").first).to_have_text("running", timeout=60_000)
    deployment = _api(stack, owner, f"/deployments/{world['deployment']}")
    assert deployment["status"] == "running" and deployment["currentBuildId"] == world["build1"]
    expect(page.locator(f"tr[data-server='{deployment['serverId']}']")).to_contain_text("(current)")
    served = page.get_by_role("region", name="Releases").locator(f"tr[data-release='{world['build1']}']")
    expect(served).to_contain_text("(serving)")  # the first release, once its deploy is done
    with page.context.expect_page() as opened:
        ui.click(page.locator("a[data-link='public-url']"))
    agent = opened.value
    agent.wait_for_load_state()
    assert world["build1"] in agent.content()
    agent.close()
    expect(page.get_by_role("log", name="Server log")).to_contain_text("listening", timeout=30_000)
    ui.shot("deployment")


def test_rollback_to_an_earlier_build(signed_in, stack, owner, world):
    ui, page = signed_in, signed_in.page
    ui.goto(f"/deployments/{world['deployment']}")
    ui.click(page.locator("button[data-action='build-now']"))
    expect(page).to_have_url(__import__("re").compile(r"#/builds/bld_"))
    build2 = page.url.rsplit("/", 1)[1]
    assert wait_build(stack, owner, build2)["status"] == "succeeded"
    wait_deploy_of_build(stack, owner, world["deployment"], build2)
    ui.goto(f"/deployments/{world['deployment']}")
    expect(page.get_by_role("link", name="Current build")).to_have_attribute("href", f"#/builds/{build2}")
    ui.click(page.get_by_role("link", name="Current build"))
    expect(page.get_by_role("heading", name=f"Build {build2}")).to_be_visible()
    ui.goto(f"/deployments/{world['deployment']}")
    expect(page.locator(f"tr[data-build='{build2}']")).to_contain_text("(serving)", timeout=30_000)
    ui.click(page.locator(f"tr[data-build='{world['build1']}']").get_by_role("button", name="Roll back to this build"))
    wait_for(lambda: _api(stack, owner, f"/deployments/{world['deployment']}"),
             until=lambda d: d["currentBuildId"] == world["build1"] and d["status"] == "running", what="rolled back")
    expect(page.locator(f"tr[data-build='{world['build1']}']")).to_contain_text("(serving)", timeout=30_000)
    world["build2"] = build2


def test_redeploy_restart_and_stop(signed_in, stack, owner, world):
    ui, page = signed_in, signed_in.page
    dep = world["deployment"]
    ui.goto(f"/deployments/{dep}")

    def server_after(action):
        before = _api(stack, owner, f"/deployments/{dep}")["serverId"]
        ui.click(page.locator(f"button[data-action='{action}']"))
        return wait_for(lambda: _api(stack, owner, f"/deployments/{dep}"), timeout=60,
                        until=lambda d: d["serverId"] != before and d["status"] == "running", what=f"{action} done")

    assert server_after("redeploy")["currentBuildId"] == world["build1"]
    server_after("restart")
    ui.click(page.locator("button[data-action='stop']"))
    wait_for(lambda: _api(stack, owner, f"/deployments/{dep}"), until=lambda d: d["status"] == "stopped",
             timeout=60, what="stopped")
    expect(page.locator("button[data-action='stop']")).to_be_disabled(timeout=10_000)
    expect(page.get_by_text("The deployment is stopped")).to_be_visible()
    server_after("restart")


def test_cancel_a_running_build(signed_in, stack, owner, team, tmp_path_factory):
    ui, page = signed_in, signed_in.page
    src = copy_tiny(tmp_path_factory.mktemp("console-slow") / "slow")
    _, deployment = tiny_deployment(stack, owner, team, {"type": "local", "path": str(src)},
                                    env={"BUILD_SLEEP_SECONDS": "120"}, name="console-slow")
    build = start_build(stack, owner, deployment)
    wait_build(stack, owner, build["id"], until=lambda b: b["status"] == "building")
    ui.goto(f"/builds/{build['id']}")
    expect(page.get_by_role("log", name="Build log")).to_contain_text("working", timeout=60_000)
    ui.click(page.locator("button[data-action='cancel-build']"))
    assert wait_build(stack, owner, build["id"])["status"] == "cancelled"
    expect(page.locator("button[data-action='cancel-build']")).to_be_disabled(timeout=15_000)


def test_the_keyboard_reaches_the_skip_link_and_the_navigation(signed_in, stack):
    ui, page = signed_in, signed_in.page
    ui.goto("/usage")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    ui.press_enter(skip)
    expect(page.locator("main")).to_be_focused()
    projects = page.get_by_role("navigation", name="Main").get_by_role("link", name="Projects")
    ui.press_enter(projects)
    expect(page.get_by_role("heading", name="Projects of default")).to_be_visible()
    labelled = page.locator("input, select").evaluate_all(
        "els => els.filter(e => !e.labels.length && !e.getAttribute('aria-label')).map(e => e.name)")
    assert labelled == []


def test_add_a_deployment_then_delete_it_and_the_project(signed_in, stack, owner, team, tmp_path_factory):
    ui, page = signed_in, signed_in.page
    src = copy_tiny(tmp_path_factory.mktemp("console-del") / "del")
    project, _ = tiny_deployment(stack, owner, team, {"type": "local", "path": str(src)}, name="console-del")
    ui.goto(f"/projects/{project}")
    form = page.get_by_role("form", name="New deployment")
    form.get_by_label("Type").select_option("staging")
    ui.click(form.get_by_role("button", name="Add deployment"))
    staging = wait_for(lambda: _api(stack, owner, f"/projects/{project}/deployments")["items"],
                       until=lambda items: any(d["type"] == "staging" for d in items), what="staging deployment")
    staging = next(d for d in staging if d["type"] == "staging")
    ui.click(page.locator(f"tr[data-deployment='{staging['id']}'] a[href^='#/deployments/']"))
    page.once("dialog", lambda d: d.accept())
    ui.click(page.locator("button[data-action='delete-deployment']"))
    expect(page).to_have_url(__import__("re").compile(f"#/projects/{project}$"))
    wait_for(lambda: owner.get(stack.url(f"/deployments/{staging['id']}")).status_code, until=lambda c: c == 404,
             what="deployment deleted")
    page.once("dialog", lambda d: d.accept())
    ui.click(page.locator("button[data-action='delete-project']"))
    expect(page).to_have_url(__import__("re").compile("#/projects$"))
    assert owner.get(stack.url(f"/projects/{project}")).status_code == 404
