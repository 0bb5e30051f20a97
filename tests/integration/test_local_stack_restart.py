"""The local stack keeps its state across restarts, even a SIGKILL, and reports component health."""
from __future__ import annotations

import base64
import os
import signal
import stat

import psutil

from tests.support.stack import start_stack, stop_stack


def _seed(stack):
    s = stack.session(stack.owner_key)
    team = s.get(stack.url("/teams")).json()["items"][0]
    project = s.post(stack.url(f"/teams/{team['id']}/projects"),
                     json={"name": "keep me", "source": {"type": "github", "repo": "a/b"}}).json()
    assert s.put(stack.url(f"/projects/{project['id']}/env/SECRET"), json={"value": "survives"}).status_code == 200
    return team, project


def _ciphertext(stack, project_id):
    return stack.stored_item(f"PROJECT#{project_id}", "ENV#SECRET")["ciphertext"]["S"]


def test_first_start_prints_the_owner_key_once_and_keeps_it_private(tmp_path):
    stack = start_stack(tmp_path / "home")
    try:
        key_file = tmp_path / "home" / "owner-key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert any(stack.owner_key in line for line in stack.lines)
        assert stack.session(stack.owner_key).get(stack.url("/teams")).json()["items"][0]["role"] == "owner"
    finally:
        assert stop_stack(stack) == 0  # Ctrl-C / SIGTERM stops cleanly
    again = start_stack(tmp_path / "home")
    try:
        assert not any(again.owner_key in line for line in again.lines)  # shown once only
    finally:
        stop_stack(again)


def test_state_survives_a_clean_restart_and_a_sigkill(tmp_path):
    home = tmp_path / "home"
    stack = start_stack(home)
    try:
        team, project = _seed(stack)
        key = stack.owner_key
    finally:
        stop_stack(stack)

    stack = start_stack(home)
    try:
        s = stack.session(key)  # the same owner key still works
        assert s.get(stack.url(f"/projects/{project['id']}")).json()["name"] == "keep me"
        assert [v["name"] for v in s.get(stack.url(f"/projects/{project['id']}/env")).json()["items"]] == ["SECRET"]
        second = s.post(stack.url(f"/teams/{team['id']}/projects"),
                        json={"name": "after restart", "source": {"type": "github", "repo": "a/c"}}).json()
        blob = _ciphertext(stack, project["id"])
    finally:
        stop_stack(stack, sig=signal.SIGKILL)

    stack = start_stack(home)
    try:
        s = stack.session(key)
        names = {p["name"] for p in s.get(stack.url(f"/teams/{team['id']}/projects")).json()["items"]}
        assert names == {"keep me", "after restart"} and second["id"]
        # The env value written before two restarts still decrypts with the persisted KMS key.
        kms = stack.aws("kms")
        _, wrapped, _ = blob.split(".")
        kms.decrypt(CiphertextBlob=base64.b64decode(wrapped),
                    EncryptionContext={"teamId": team["id"], "projectId": project["id"], "name": "SECRET"})
    finally:
        stop_stack(stack)


def test_health_is_503_and_names_the_component_when_one_is_down(tmp_path):
    stack = start_stack(tmp_path / "home")
    try:
        r = stack.session().get(stack.url("/health"))
        assert r.status_code == 200
        assert {k: v["status"] for k, v in r.json()["components"].items()} == {
            "dynamodb": "up", "sqs": "up", "s3": "up", "kms": "up", "clickhouse": "up"}
        moto = [c for c in psutil.Process(stack.proc.pid).children(recursive=True) if "moto_launcher" in " ".join(c.cmdline())]
        assert moto, "moto server is a child of the supervisor"
        for child in moto:
            os.kill(child.pid, signal.SIGKILL)
        r = stack.session().get(stack.url("/health"))
        assert r.status_code == 503
        components = r.json()["components"]
        assert components["dynamodb"]["status"] == "down" and components["clickhouse"]["status"] == "up"
    finally:
        stop_stack(stack)


def test_a_revoked_owner_key_is_not_bootstrapped_again_and_the_start_says_how_to_mint_one(tmp_path):
    import subprocess
    import sys

    from tests.support.stack import ROOT

    home = tmp_path / "home"
    stack = start_stack(home)
    try:
        s = stack.session(stack.owner_key)
        team = s.get(stack.url("/teams")).json()["items"][0]
        key_id = s.get(stack.url(f"/teams/{team['id']}/api-keys")).json()["items"][0]["id"]
        assert s.delete(stack.url(f"/api-keys/{key_id}")).status_code == 204
        revoked = stack.owner_key
    finally:
        stop_stack(stack)

    stack = start_stack(home)
    try:
        assert stack.owner_key == revoked  # no fresh key, no second `default` team
        warning = [line for line in stack.lines if line.startswith("warning:")]
        assert warning and "revoked" in warning[0] and "python -m local_stack.owner_key" in warning[0], stack.lines
        minted = subprocess.run([sys.executable, "-m", "local_stack.owner_key"], cwd=ROOT, env=stack.env,
                                capture_output=True, text=True, timeout=120)
        assert minted.returncode == 0, minted.stderr[-2000:]
        fresh = stack.owner_key
        assert fresh != revoked and fresh in minted.stdout
        assert stat.S_IMODE((home / "owner-key").stat().st_mode) == 0o600
        teams = stack.session(fresh).get(stack.url("/teams")).json()["items"]
        assert [(t["id"], t["name"], t["role"]) for t in teams] == [(team["id"], "default", "owner")]
        assert stack.session(revoked).get(stack.url("/teams")).status_code == 401
    finally:
        stop_stack(stack)

    stack = start_stack(home)  # and with a valid key on file again, nothing to say
    try:
        assert not any(line.startswith("warning:") for line in stack.lines)
        assert stack.session(fresh).get(stack.url("/teams")).status_code == 200
    finally:
        stop_stack(stack)
