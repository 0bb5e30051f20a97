"""Planted secrets (API key, env values, JWT secret) never show up in responses or logs."""
from __future__ import annotations

import uuid

from tests.support.jwts import HS256_SECRET


def test_planted_secrets_appear_only_in_the_one_time_key_response(api, as_user, caplog):
    uid = f"sec-{uuid.uuid4().hex[:6]}"
    s = as_user(uid)
    env_value = f"planted-env-{uuid.uuid4().hex}"
    override = f"planted-override-{uuid.uuid4().hex}"
    bodies = []

    def call(method, path, **kw):
        r = s.request(method, api.url(path), **kw)
        bodies.append(r.text)
        return r

    team = call("POST", "/teams", json={"name": "secrets"}).json()
    created = s.post(api.url(f"/teams/{team['id']}/api-keys"), json={"name": "k"})  # the one-time response
    api_key = created.json()["secret"]
    project = call("POST", f"/teams/{team['id']}/projects", json={"name": "p", "source": {"type": "github", "repo": "a/b"}}).json()
    call("PUT", f"/projects/{project['id']}/env/TOKEN", json={"value": env_value})
    call("PUT", f"/projects/{project['id']}/env/BAD-NAME", json={"value": env_value})  # rejected: must not echo
    call("PUT", f"/projects/{project['id']}/env/TOKEN", json={"value": env_value, "extra": env_value})
    deployment = call("POST", f"/projects/{project['id']}/deployments", json={"type": "production"}).json()
    call("PATCH", f"/deployments/{deployment['id']}", json={"envOverrides": {"X": override}})
    call("PATCH", f"/deployments/{deployment['id']}", json={"envOverrides": {"1bad": override}})
    for path in ("/teams", f"/teams/{team['id']}/api-keys", f"/projects/{project['id']}/env",
                 f"/deployments/{deployment['id']}", f"/projects/{project['id']}/deployments"):
        call("GET", path)
    via_key = api.session(api_key)
    bodies.append(via_key.get(api.url(f"/teams/{team['id']}")).text)
    bodies.append(api.session("ma_" + "x" * 70).get(api.url("/teams")).text)

    planted = [api_key, env_value, override, HS256_SECRET]
    # Every record the app logged, with every field it carries (the JSON line is made of them).
    logs = caplog.text + "".join(repr(vars(record)) for record in caplog.records)
    assert "request" in logs  # the request log is really captured
    for secret in planted:
        for body in bodies:
            assert secret not in body
        assert secret not in logs, "a planted secret reached the logs"
