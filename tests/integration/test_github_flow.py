"""GitHub end to end through the local stack: signed deliveries over HTTP, the webhook and writes
queues run by the worker, real builds of the tiny fixture, servers behind the router, and the fake
GitHub (App token exchange, tarballs, statuses, comments) recording what it was sent."""
from __future__ import annotations

import pytest
import requests

from tests.support import github_webhooks as gh
from tests.support.builds import copy_tiny, wait_build
from tests.support.deploys import DEPLOY_ENV, stack_serving, via_host
from tests.support.github_fake import FakeGitHub, rsa_key_pem
from tests.support.waiting import wait_for

SECRET = "integration-webhook-secret-0123456789"
APP_ID = "777"
INSTALLATION = 99001
REPO = "octo-org/weather-agent"


@pytest.fixture(scope="module")
def github():
    private, public = rsa_key_pem()
    fake = FakeGitHub(app_id=APP_ID, app_public_key=public).start()
    fake.install(INSTALLATION, REPO)
    fake.private_key = private
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, github):
    home = tmp_path_factory.mktemp("ma-github")
    key = home / "github-app.pem"  # where the local stack looks for the App's key
    key.write_text(github.private_key)
    key.chmod(0o600)
    with stack_serving(home, {**DEPLOY_ENV, "MA_GITHUB_API_URL": github.url, "MA_GITHUB_APP_ID": APP_ID,
                              "MA_GITHUB_WEBHOOK_SECRET": SECRET}) as s:
        yield s


@pytest.fixture(scope="module")
def owner(stack):
    return stack.session(stack.owner_key)


@pytest.fixture(scope="module")
def project(stack, owner):
    team = owner.get(stack.url("/teams")).json()["items"][0]["id"]
    r = owner.post(stack.url(f"/teams/{team}/projects"), json={"name": "weather", "source": {
        "type": "github", "repository": REPO, "installationId": INSTALLATION, "branch": "main"}})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def deliver(stack, event: str, body: dict) -> dict:
    headers, raw = gh.delivery(event, body, SECRET)
    r = requests.post(stack.url("/webhooks/github"), data=raw, headers=headers, timeout=10)
    assert r.status_code == 202, r.text
    return r.json()


def publish(github, tmp_path, ref: str, marker: str) -> str:
    src = copy_tiny(tmp_path / marker)
    (src / "marker.txt").write_text(marker)
    return github.publish(REPO, ref, src)


def builds(stack, owner, deployment: str) -> list[dict]:
    return owner.get(stack.url(f"/deployments/{deployment}/builds")).json()["items"]


def previews(stack, owner, project: str) -> list[dict]:
    items = owner.get(stack.url(f"/projects/{project}/deployments")).json()["items"]
    return [d for d in items if d["type"] == "preview"]


def test_a_push_builds_the_pushed_commit_deploys_it_and_the_commit_shows_success_despite_github_errors(
        stack, owner, project, github, tmp_path):
    r = owner.post(stack.url(f"/projects/{project}/deployments"), json={"type": "production"})
    production = r.json()["id"]
    sha = publish(github, tmp_path, "main", "push-1")
    publish(github, tmp_path, "main", "push-2")  # the branch moved on before the build ran
    github.fail_statuses = 2  # GitHub answers 500 to the first status writes
    delivery = deliver(stack, "push", gh.push(REPO, INSTALLATION, "main", sha, pusher="mona"))

    build = wait_for(lambda: next(iter(builds(stack, owner, production)), None), 30, what="the push's build")
    build = wait_build(stack, owner, build["id"])
    assert build["status"] == "succeeded" and build["commit"] == sha, build
    assert build["trigger"] == "push" and build["github"]["deliveryId"] == delivery["deliveryId"]
    deployment = wait_for(lambda: (lambda d: d if d["status"] == "running" else None)(
        owner.get(stack.url(f"/deployments/{production}")).json()), 60, what="the deployment running")
    wait_for(lambda: [s["state"] for s in github.statuses_for(sha)][-1:] == ["success"], 60,
             what="the success status")
    assert github.fail_statuses == 0, "the failed writes were retried"
    assert github.statuses_for(sha)[-1]["target_url"] == deployment["publicUrl"]
    assert github.statuses_for(sha)[-1]["context"] == "mastra-admin/production"


def test_a_pull_request_preview_is_served_commented_rebuilt_in_place_and_removed_when_closed(
        stack, owner, project, github, tmp_path):
    first = publish(github, tmp_path, "feature/forecast", "pr-1")
    deliver(stack, "pull_request", gh.pull_request(REPO, INSTALLATION, "opened", 12, first))
    preview = wait_for(lambda: (lambda p: p[0] if p and p[0]["status"] == "running" else None)(
        previews(stack, owner, project)), 120, what="the preview running")
    served = via_host(stack, preview["slug"], "/api/hello")
    assert served.status_code == 200 and served.json()["buildId"] == preview["currentBuildId"]
    wait_for(lambda: next((c for c in github.comments_on(REPO, 12) if preview["publicUrl"] in c["body"]), None),
             30, what="the comment with the preview's URL")

    second = publish(github, tmp_path, "feature/forecast", "pr-2")
    deliver(stack, "pull_request", gh.pull_request(REPO, INSTALLATION, "synchronize", 12, second))
    rebuilt = wait_for(lambda: (lambda p: p[0] if p and p[0]["currentBuildId"] != preview["currentBuildId"]
                                and p[0]["status"] == "running" else None)(previews(stack, owner, project)),
                       120, what="the preview rebuilt")
    assert rebuilt["id"] == preview["id"] and rebuilt["slug"] == preview["slug"]
    assert via_host(stack, preview["slug"], "/x").json()["buildId"] == rebuilt["currentBuildId"]
    wait_for(lambda: second[:7] in github.comments_on(REPO, 12)[0]["body"], 30, what="the comment edited")
    assert len(github.comments_on(REPO, 12)) == 1

    deliver(stack, "pull_request", gh.pull_request(REPO, INSTALLATION, "closed", 12, second))
    wait_for(lambda: previews(stack, owner, project) == [], 60, what="the preview deployment deleted")
    assert via_host(stack, preview["slug"], "/x").status_code == 404
    server = owner.get(stack.url(f"/servers/{rebuilt['serverId']}"))
    assert server.status_code == 404 or server.json()["status"] in ("stopping", "stopped")
    wait_for(lambda: "stopped" in github.comments_on(REPO, 12)[0]["body"].lower(), 30, what="comment says stopped")
    assert len(github.comments_on(REPO, 12)) == 1


def test_a_fork_pull_request_is_not_built_and_the_comment_says_why(stack, owner, project, github):
    deliver(stack, "pull_request", gh.pull_request(REPO, INSTALLATION, "opened", 13, "f" * 40,
                                                   fork_of="mallory/weather-agent"))
    comment = wait_for(lambda: next(iter(github.comments_on(REPO, 13)), None), 30, what="the fork's comment")
    assert "forks are not built" in comment["body"]
    assert previews(stack, owner, project) == []


def test_the_replay_script_signs_a_recorded_delivery_and_a_second_replay_of_the_id_is_a_duplicate(stack):
    import json
    import subprocess
    import sys
    import uuid

    from tests.support.builds import ROOT

    delivery = str(uuid.uuid4())
    command = [sys.executable, "-m", "local_stack.github_replay", "push", "tests/fixtures/github/push.json",
               "--repository", REPO, "--installation", str(INSTALLATION), "--ref", "refs/heads/nobody-follows",
               "--delivery", delivery, "--api", stack.api_url]
    env = {"PATH": "/usr/bin:/bin", "MA_GITHUB_WEBHOOK_SECRET": SECRET}
    first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert first.returncode == 0, first.stdout + first.stderr
    status, _, body = first.stdout.strip().partition(" ")
    assert status == "202" and json.loads(body)["queued"] is True
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    status, _, body = again.stdout.strip().partition(" ")
    assert status == "200" and json.loads(body)["duplicate"] is True
    wrong = subprocess.run(command[:-4] + ["--api", stack.api_url], cwd=ROOT, capture_output=True, text=True,
                           env={**env, "MA_GITHUB_WEBHOOK_SECRET": "not-the-secret"}, timeout=30)
    assert wrong.returncode == 1 and wrong.stdout.startswith("401 ")
