"""Authentication: API keys (hash only, revocable, last use recorded) and JWTs (algorithm pinned)."""
from __future__ import annotations

import hashlib
import time
import uuid

import jwt

from tests.support.jwts import HS256_SECRET, token_for


def test_requests_without_valid_credentials_get_401(api):
    anon = api.session()
    r = anon.get(api.url("/teams"))
    assert r.status_code == 401 and r.json()["error"]["code"] == "missing_credentials"
    for bad in ("Basic abc", "Bearer ", "Bearer ma_garbage", "Bearer " + token_for("x", secret="wrong-secret-but-long-enough-32b!")):
        r = anon.get(api.url("/teams"), headers={"Authorization": bad})
        assert r.status_code == 401, bad
        assert r.json()["error"]["code"] in {"invalid_credentials", "invalid_token"}


def test_jwt_algorithm_is_pinned_and_expiry_enforced(api):
    anon = api.session()
    none_alg = jwt.encode({"sub": "x", "exp": int(time.time()) + 60}, None, algorithm="none")
    assert anon.get(api.url("/teams"), headers={"Authorization": f"Bearer {none_alg}"}).status_code == 401
    hs512 = jwt.encode({"sub": "x", "exp": int(time.time()) + 60}, HS256_SECRET, algorithm="HS512")
    assert anon.get(api.url("/teams"), headers={"Authorization": f"Bearer {hs512}"}).status_code == 401
    expired = token_for("x", ttl=-10)
    r = anon.get(api.url("/teams"), headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_expired"


def test_api_key_is_shown_once_stored_as_hash_and_revocable(api, as_user):
    uid = f"kim-{uuid.uuid4().hex[:6]}"
    kim = as_user(uid)
    team = kim.post(api.url("/teams"), json={"name": "keys"}).json()
    created = kim.post(api.url(f"/teams/{team['id']}/api-keys"), json={"name": "laptop"})
    assert created.status_code == 201
    key = created.json()
    secret = key["secret"]
    assert secret.startswith("ma_") and key["hint"].endswith(secret[-4:])

    # The key works, and its use is recorded.
    via_key = api.session(secret)
    assert via_key.get(api.url(f"/teams/{team['id']}")).status_code == 200
    listed = kim.get(api.url(f"/teams/{team['id']}/api-keys")).json()["items"]
    assert [k["id"] for k in listed] == [key["id"]]
    assert "secret" not in listed[0] and secret not in str(listed)
    assert listed[0]["lastUsedAt"] is not None

    # Only the SHA-256 of the token is in the table.
    item = api.stored_item(f"APIKEY#{key['id']}", "#META")
    assert secret not in str(item)
    assert item["tokenHash"]["S"] == hashlib.sha256(secret.encode()).hexdigest()

    assert kim.delete(api.url(f"/api-keys/{key['id']}")).status_code == 204
    r = via_key.get(api.url(f"/teams/{team['id']}"))
    assert r.status_code == 401
    assert kim.delete(api.url(f"/api-keys/{key['id']}")).status_code == 409


def test_a_key_minted_for_a_machine_user_acts_only_in_its_team(api, as_user):
    uid = f"olga-{uuid.uuid4().hex[:6]}"
    olga = as_user(uid)
    team_a = olga.post(api.url("/teams"), json={"name": "a"}).json()
    team_b = olga.post(api.url("/teams"), json={"name": "b"}).json()
    r = olga.post(api.url(f"/teams/{team_a['id']}/api-keys"), json={"name": "ci", "machineUser": "ci-bot", "role": "viewer"})
    assert r.status_code == 201
    bot = api.session(r.json()["secret"])
    assert r.json()["userId"] == "machine:ci-bot" and r.json()["scopeTeamId"] == team_a["id"]
    assert bot.get(api.url(f"/teams/{team_a['id']}")).json()["role"] == "viewer"
    assert bot.get(api.url(f"/teams/{team_b['id']}")).status_code == 404
    r = bot.post(api.url(f"/teams/{team_a['id']}/projects"), json={"name": "p", "source": {"type": "github", "repo": "a/b"}})
    assert r.status_code == 403  # a viewer machine user cannot create projects
