"""A project's build settings (rootDirectory, install/build/start commands) over the API."""
from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def team(api, as_user):
    s = as_user(f"pbs-{uuid.uuid4().hex[:6]}")
    return s, s.post(api.url("/teams"), json={"name": "builds"}).json()


def _create(s, api, team_id, **settings):
    return s.post(api.url(f"/teams/{team_id}/projects"), json={
        "name": "agent", "source": {"type": "github", "repo": "acme/mono"}, **settings})


def test_build_settings_are_stored_returned_changed_and_cleared(api, team):
    s, t = team
    r = _create(s, api, t["id"], rootDirectory="/apps/agent/", installCommand="pnpm i", startCommand="node x.js")
    assert r.status_code == 201, r.text
    p = r.json()
    assert (p["rootDirectory"], p["installCommand"], p["buildCommand"], p["startCommand"]) == (
        "apps/agent", "pnpm i", None, "node x.js")
    stored = api.stored_item(f"PROJECT#{p['id']}", "#META")["buildSettings"]["M"]
    assert stored["root_directory"] == {"S": "apps/agent"}
    r = s.patch(api.url(f"/projects/{p['id']}"), json={"buildCommand": "make", "installCommand": None})
    assert r.status_code == 200, r.text
    assert (r.json()["rootDirectory"], r.json()["installCommand"], r.json()["buildCommand"]) == (
        "apps/agent", None, "make")
    assert s.get(api.url(f"/projects/{p['id']}")).json() == r.json()


@pytest.mark.parametrize("body,code", [
    ({"buildCommand": "npm run build\nrm -rf /"}, "validation_error"),
    ({"startCommand": "x" * 1001}, "validation_error"),
    ({"rootDirectory": "../other-repo"}, "invalid_root_directory"),
    ({"rootDirectory": "apps/../../etc"}, "invalid_root_directory"),
])
def test_bad_build_settings_are_refused_with_a_code(api, team, body, code):
    s, t = team
    r = _create(s, api, t["id"], **body)
    assert r.status_code in (400, 422) and r.json()["error"]["code"] == code, r.text
