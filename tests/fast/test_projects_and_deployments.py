"""Projects, encrypted env vars and deployments: the app in-process, AWS in moto's mock."""
from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def team(api, as_user):
    uid = f"pat-{uuid.uuid4().hex[:6]}"
    s = as_user(uid)
    return s, s.post(api.url("/teams"), json={"name": "projects"}).json()


def _project(session, api, team_id, **source):
    body = {"name": "Weather Agent", "source": source or {"type": "github", "repo": "acme/weather", "branch": "main"}}
    r = session.post(api.url(f"/teams/{team_id}/projects"), json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_project_lifecycle_create_get_list_update_delete(api, team):
    s, t = team
    p = _project(s, api, t["id"])
    assert p["slug"] == "weather-agent" and p["source"] == {"type": "github", "repo": "acme/weather", "branch": "main"}
    assert s.get(api.url(f"/projects/{p['id']}")).json() == p
    assert [x["id"] for x in s.get(api.url(f"/teams/{t['id']}/projects")).json()["items"]] == [p["id"]]
    r = s.patch(api.url(f"/projects/{p['id']}"), json={"name": "Renamed", "defaultBranch": "develop"})
    assert r.status_code == 200 and r.json()["name"] == "Renamed" and r.json()["defaultBranch"] == "develop"
    assert s.delete(api.url(f"/projects/{p['id']}")).status_code == 204
    assert s.get(api.url(f"/projects/{p['id']}")).status_code == 404


def test_local_sources_must_live_under_the_allowed_roots(api, team, tmp_path):
    s, t = team
    ok = _project(s, api, t["id"], type="local", path=str(tmp_path))
    assert ok["source"]["path"] == str(tmp_path.resolve())
    r = s.post(api.url(f"/teams/{t['id']}/projects"), json={"name": "x", "source": {"type": "local", "path": "/etc"}})
    assert r.status_code == 422 and r.json()["error"]["code"] == "local_source_outside_roots"
    r = s.post(api.url(f"/teams/{t['id']}/projects"), json={"name": "x", "source": {"type": "local", "path": "/tmp/../etc"}})
    assert r.status_code == 422


def test_env_values_are_encrypted_at_rest_and_never_returned(api, team):
    s, t = team
    p = _project(s, api, t["id"])
    secret = f"sk-live-{uuid.uuid4().hex}"
    r = s.put(api.url(f"/projects/{p['id']}/env/OPENAI_API_KEY"), json={"value": secret})
    assert r.status_code == 200 and r.json()["value"] == "********"
    listed = s.get(api.url(f"/projects/{p['id']}/env"))
    assert [v["name"] for v in listed.json()["items"]] == ["OPENAI_API_KEY"] and secret not in listed.text

    item = api.stored_item(f"PROJECT#{p['id']}", "ENV#OPENAI_API_KEY")
    assert secret not in str(item) and item["ciphertext"]["S"].startswith("v1.")

    # The blob decrypts (KMS envelope) only with its own context, as a deploy would.
    from chalicelib import secrets_box

    ctx = {"teamId": t["id"], "projectId": p["id"], "name": "OPENAI_API_KEY"}
    assert secrets_box.decrypt(item["ciphertext"]["S"], ctx) == secret
    with pytest.raises(Exception):
        secrets_box.decrypt(item["ciphertext"]["S"], {**ctx, "name": "OTHER"})

    assert s.delete(api.url(f"/projects/{p['id']}/env/OPENAI_API_KEY")).status_code == 204
    assert s.get(api.url(f"/projects/{p['id']}/env")).json()["items"] == []
    r = s.put(api.url(f"/projects/{p['id']}/env/1BAD"), json={"value": "x"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_name"


def test_deployments_get_unique_sanitized_slugs_and_one_per_slot(api, team):
    s, t = team
    p = _project(s, api, t["id"])
    url = api.url(f"/projects/{p['id']}/deployments")
    prod = s.post(url, json={"type": "production"}).json()
    assert prod["slug"] == "weather-agent" and prod["status"] == "pending" and prod["branch"] == "main"
    assert prod["publicUrl"].startswith("http://weather-agent.")
    r = s.post(url, json={"type": "production"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "deployment_exists"
    preview = s.post(url, json={"type": "preview", "branch": "Feature/Big_Thing"}).json()
    assert preview["slug"] == "weather-agent-feature-big-thing"
    # Another project with the same name: its production slug must differ.
    p2 = _project(s, api, t["id"])
    prod2 = s.post(api.url(f"/projects/{p2['id']}/deployments"), json={"type": "production"}).json()
    assert prod2["slug"] != prod["slug"] and prod2["slug"].startswith("weather-agent-")
    listed = s.get(url).json()["items"]
    assert {d["id"] for d in listed} == {prod["id"], preview["id"]}


def test_deployment_env_overrides_are_masked_and_removable(api, team):
    s, t = team
    p = _project(s, api, t["id"])
    d = s.post(api.url(f"/projects/{p['id']}/deployments"), json={"type": "staging"}).json()
    r = s.patch(api.url(f"/deployments/{d['id']}"), json={"envOverrides": {"LOG_LEVEL": "debug", "TOKEN": "t0ps3cret"}})
    assert r.status_code == 200
    assert r.json()["envOverrides"] == [{"name": "LOG_LEVEL", "value": "********"}, {"name": "TOKEN", "value": "********"}]
    assert "t0ps3cret" not in s.get(api.url(f"/deployments/{d['id']}")).text
    r = s.patch(api.url(f"/deployments/{d['id']}"), json={"envOverrides": {"TOKEN": None}})
    assert [v["name"] for v in r.json()["envOverrides"]] == ["LOG_LEVEL"]
    assert s.delete(api.url(f"/deployments/{d['id']}")).status_code == 204
    assert s.get(api.url(f"/deployments/{d['id']}")).status_code == 404
    # The slot is free again.
    assert s.post(api.url(f"/projects/{p['id']}/deployments"), json={"type": "staging"}).status_code == 201


def test_bad_input_gets_a_clear_4xx_and_loses_nothing(api, team):
    s, t = team
    p = _project(s, api, t["id"])
    purl = api.url(f"/projects/{p['id']}")
    cases = [
        (s.patch(purl, data="{not json", headers={"Content-Type": "application/json"}), 400, "invalid_json"),
        (s.patch(purl, json={"name": "ok", "unknown": 1}), 422, "validation_error"),
        (s.patch(purl, json={"name": ""}), 422, "validation_error"),
        (s.patch(purl, json={"name": "x" * 300_000}), 413, "payload_too_large"),
        (s.get(api.url("/projects/prj_nope")), 400, "invalid_id"),
        (s.post(api.url(f"/teams/{t['id']}/projects"), data=b"", headers={"Content-Type": "application/json"}), 400, "missing_body"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code
    assert s.get(purl).json() == p  # nothing stored was changed
