"""Teams and members over the real wire: the app in-process, DynamoDB in moto's mock."""
from __future__ import annotations

import uuid


def _team(session, url, name="acme"):
    r = session.post(url("/teams"), json={"name": name})
    assert r.status_code == 201, r.text
    return r.json()


def test_creating_a_team_makes_the_creator_its_owner_and_lists_it(api, as_user):
    alice = as_user(f"alice-{uuid.uuid4().hex[:6]}")
    team = _team(alice, api.url)
    assert team["id"].startswith("team_") and team["role"] == "owner"
    listed = alice.get(api.url("/teams")).json()
    assert [t["id"] for t in listed["items"]] == [team["id"]]
    assert listed["nextCursor"] is None
    members = alice.get(api.url(f"/teams/{team['id']}/members")).json()["items"]
    assert [(m["role"]) for m in members] == ["owner"]


def test_an_outsider_gets_404_for_another_teams_resources(api, as_user):
    alice, mallory = as_user(f"alice-{uuid.uuid4().hex[:6]}"), as_user(f"mallory-{uuid.uuid4().hex[:6]}")
    team = _team(alice, api.url)
    r = mallory.get(api.url(f"/teams/{team['id']}"))
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    missing = mallory.get(api.url("/teams/team_" + "0" * 26))
    assert missing.status_code == 404 and missing.json() == r.json()  # same answer: nothing leaks


def test_the_last_owner_can_be_neither_removed_nor_demoted(api, as_user):
    uid = f"alice-{uuid.uuid4().hex[:6]}"
    alice = as_user(uid)
    team = _team(alice, api.url)
    r = alice.delete(api.url(f"/teams/{team['id']}/members/{uid}"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "last_owner"
    r = alice.patch(api.url(f"/teams/{team['id']}/members/{uid}"), json={"role": "admin"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "last_owner"
    # With a second owner, the first may step down.
    assert alice.post(api.url(f"/teams/{team['id']}/members"), json={"userId": "bob", "role": "owner"}).status_code == 201
    assert alice.patch(api.url(f"/teams/{team['id']}/members/{uid}"), json={"role": "admin"}).status_code == 200
    r = as_user("bob").delete(api.url(f"/teams/{team['id']}/members/bob"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "last_owner"


def test_an_admin_cannot_grant_owner_or_touch_an_owner(api, as_user):
    uid = f"alice-{uuid.uuid4().hex[:6]}"
    alice, admin = as_user(uid), as_user(f"adm-{uid}")
    team = _team(alice, api.url)
    alice.post(api.url(f"/teams/{team['id']}/members"), json={"userId": f"adm-{uid}", "role": "admin"})
    r = admin.post(api.url(f"/teams/{team['id']}/members"), json={"userId": "eve", "role": "owner"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "role_too_high"
    r = admin.delete(api.url(f"/teams/{team['id']}/members/{uid}"))
    assert r.status_code == 403
    assert admin.post(api.url(f"/teams/{team['id']}/members"), json={"userId": "eve", "role": "viewer"}).status_code == 201


def test_adding_the_same_member_twice_conflicts(api, as_user):
    alice = as_user(f"alice-{uuid.uuid4().hex[:6]}")
    team = _team(alice, api.url)
    url = api.url(f"/teams/{team['id']}/members")
    assert alice.post(url, json={"userId": "carol", "role": "viewer"}).status_code == 201
    r = alice.post(url, json={"userId": "carol", "role": "admin"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "member_exists"
    roles = {m["userId"]: m["role"] for m in alice.get(url).json()["items"]}
    assert roles["carol"] == "viewer"  # the stored member is untouched


def test_lists_paginate_with_a_cursor(api, as_user):
    alice = as_user(f"alice-{uuid.uuid4().hex[:6]}")
    team = _team(alice, api.url)
    url = api.url(f"/teams/{team['id']}/members")
    for i in range(4):
        alice.post(url, json={"userId": f"u{i}", "role": "viewer"})
    seen, cursor = [], None
    while True:
        page = alice.get(url, params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        assert len(page["items"]) <= 2
        seen += [m["userId"] for m in page["items"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 5
    r = alice.get(url, params={"cursor": "not-a-cursor"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_cursor"
    r = alice.get(url, params={"limit": 1000})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_limit"
