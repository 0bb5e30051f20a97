"""Settings a stage's templates deliver: the public URL's scheme, and the secrets read from Secrets
Manager at first use (the app in-process, AWS in moto's mock)."""
from __future__ import annotations

import dataclasses
import json
import uuid

import pytest

from tests.support.jwts import token_for

STAGE_JWT_SECRET = "a-stage-secret-from-secrets-manager-0123"


@pytest.fixture
def stage_settings(api, monkeypatch):
    """Replaces the settings with `changes` applied where the code under test reads them."""
    from chalicelib.api import routing
    from chalicelib.secret_settings import clear_cache
    from chalicelib.services.deploys import deployments

    def apply(**changes):
        replaced = dataclasses.replace(api.settings, **changes)
        for module in (routing, deployments):  # authentication; public URLs
            monkeypatch.setattr(module, "get_settings", lambda: replaced)
        clear_cache()
        return replaced

    yield apply
    clear_cache()


def test_public_urls_are_https_when_the_stage_listener_is_https(api, owner, stage_settings):
    stage_settings(public_url_scheme="https", public_domain="apps.example.com")  # ecs.yaml's PublicUrlScheme
    team_id = owner.get(api.url("/teams")).json()["items"][0]["id"]
    project = owner.post(api.url(f"/teams/{team_id}/projects"), json={
        "name": "Secure", "source": {"type": "github", "repo": "acme/secure", "branch": "main"}}).json()
    deployment = owner.post(api.url(f"/projects/{project['id']}/deployments"), json={"type": "production"}).json()
    assert deployment["publicUrl"] == "https://secure.apps.example.com"


def test_the_jwt_secret_is_read_from_the_stage_settings_secret_once(api, as_user, stage_settings):
    from chalicelib.aws import client
    from chalicelib.errors import Unavailable
    from chalicelib.secret_settings import secret_setting

    sm = client("secretsmanager")
    name = f"mastra-admin/test-{uuid.uuid4().hex[:6]}/settings"
    sm.create_secret(Name=name, SecretString=json.dumps({"jwt_hs256_secret": STAGE_JWT_SECRET}))
    settings = stage_settings(settings_secret=name, jwt_hs256_secret="")
    user = as_user("stage-user")
    user.headers["Authorization"] = f"Bearer {token_for('stage-user', secret=STAGE_JWT_SECRET)}"
    assert user.get(api.url("/teams")).status_code == 200
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    assert user.get(api.url("/teams")).status_code == 200, "cached: one read per process"

    gone = stage_settings(settings_secret=name)  # a new process, say, whose secret is gone
    with pytest.raises(Unavailable) as caught:
        secret_setting("jwt_hs256_secret", gone)
    assert caught.value.code == "settings_unavailable" and STAGE_JWT_SECRET not in str(caught.value)
    assert secret_setting("clickhouse_url", dataclasses.replace(settings, settings_secret="")) == ""


def test_the_stage_bootstrap_enrols_a_jwt_subject_as_first_owner_once(api, as_user):
    from chalicelib.services.accounts.bootstrap import bootstrap_stage

    subject = f"idp|{uuid.uuid4().hex[:8]}"
    first = bootstrap_stage(subject)
    assert first.founded and first.token
    by_key, by_jwt = as_user(subject), as_user(subject)
    by_key.headers["Authorization"] = f"Bearer {first.token}"
    assert [t["id"] for t in by_key.get(api.url("/teams")).json()["items"]] == [first.team_id]
    assert [t["id"] for t in by_jwt.get(api.url("/teams")).json()["items"]] == [first.team_id], "the JWT's subject owns it"

    again = bootstrap_stage(subject)  # the next make deploy
    assert (again.founded, again.token, again.team_id) == (False, None, first.team_id)
    minted = bootstrap_stage(subject, mint_again=True)
    assert minted.team_id == first.team_id and minted.token and minted.token != first.token
