"""Teams and members through the console (create, switch, invite, change role, remove), what a viewer may not
do disabled with the reason, and signing out."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.support.waiting import wait_for


def test_create_a_team_then_invite_change_role_and_remove_a_member(signed_in, stack, owner):
    ui, page = signed_in, signed_in.page
    ui.goto("/projects")
    ui.click(page.get_by_role("navigation", name="Main").get_by_role("link", name="Teams"))
    form = page.get_by_role("form", name="New team")
    form.get_by_label("Team name").fill("console-team")
    ui.click(form.get_by_role("button", name="Create team"))
    team = wait_team(owner, stack, "console-team")
    row = page.locator("table[aria-label='Your teams'] tr").filter(has_text="console-team")
    ui.click(row.get_by_role("button", name="Open"))
    expect(page.get_by_role("heading", name="Members of console-team")).to_be_visible()

    invite = page.get_by_role("form", name="Invite a member")
    invite.get_by_label("User id").fill("alice")
    invite.get_by_label("Role").select_option("developer")
    ui.click(invite.get_by_role("button", name="Invite"))
    alice = page.locator("tr[data-member='alice']")
    expect(alice).to_be_visible()
    assert member_role(owner, stack, team, "alice") == "developer"
    alice.get_by_label("Role of alice").select_option("viewer")
    ui.click(alice.get_by_role("button", name="Change role"))
    wait_for(lambda: member_role(owner, stack, team, "alice"), until=lambda role: role == "viewer", what="role changed")
    expect(alice.get_by_role("button", name="Change role")).to_be_disabled()  # the row shows the stored role
    ui.shot("teams")
    page.once("dialog", lambda d: d.accept())
    ui.click(alice.get_by_role("button", name="Remove"))
    expect(alice).to_have_count(0)
    wait_for(lambda: member_role(owner, stack, team, "alice"), until=lambda role: role is None, what="removed")


def wait_team(owner, stack, name):
    teams = wait_for(lambda: owner.get(stack.url("/teams")).json()["items"],
                     until=lambda items: any(t["name"] == name for t in items), what=f"team {name}")
    return next(t["id"] for t in teams if t["name"] == name)


def member_role(owner, stack, team, user):
    members = owner.get(stack.url(f"/teams/{team}/members")).json()["items"]
    return next((m["role"] for m in members if m["userId"] == user), None)


def test_a_viewer_sees_what_it_may_not_do_disabled_with_the_reason_then_signs_out(ui, stack, owner, world, viewer_key):
    ui.sign_in(viewer_key)
    page = ui.page
    ui.goto(f"/projects/{world['project']}")
    build_now = page.locator("button[data-action='build-now']")
    expect(build_now).to_be_disabled()
    expect(page.get_by_text("Your role (viewer) lacks build:create").first).to_be_visible()
    setter = page.get_by_role("form", name="Set a variable")
    expect(setter.get_by_role("button", name="Set")).to_be_disabled()
    ui.goto(f"/deployments/{world['deployment']}")
    expect(page.locator("button[data-action='stop']")).to_be_disabled()
    expect(page.get_by_text("Your role (viewer) lacks deployment:deploy").first).to_be_visible()
    ui.shot("viewer-deployment")
    builds = owner.get(stack.url(f"/deployments/{world['deployment']}/builds")).json()["items"]
    ui.click(page.get_by_role("button", name="Sign out"))
    expect(page.get_by_role("form", name="Sign in")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
    assert owner.get(stack.url(f"/deployments/{world['deployment']}/builds")).json()["items"] == builds
