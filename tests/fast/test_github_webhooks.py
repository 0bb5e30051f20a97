"""GitHub App webhooks in-process: signatures, dedupe, what each event does, what GitHub is told.

The app runs behind chalice's test client with AWS in moto's mock; GitHub is the fake
(tests/support/github_fake.py) over real HTTP, with an App key made per module.
"""
from __future__ import annotations

import json
import urllib.parse
import uuid

import pytest

from tests.support import github_webhooks as gh
from tests.support.github_fake import FakeGitHub, rsa_key_pem

SECRET = "whsec-" + "x" * 32
APP_ID = "424242"
INSTALLATION = 41234567
REPO = "octo-org/weather-agent"
PATH = "/webhooks/github"


@pytest.fixture(scope="module")
def app_key():
    return rsa_key_pem()


@pytest.fixture
def github(app_key, api, monkeypatch, tmp_path):
    """The fake GitHub with the App installed on REPO; the app's settings pointed at it. The webhook
    secret comes from $MA_HOME/github-webhook-secret, as the local stack reads it."""
    from chalicelib.services.github import client, credentials
    from chalicelib.settings import get_settings

    private, public = app_key
    fake = FakeGitHub(app_id=APP_ID, app_public_key=public).start()
    fake.install(INSTALLATION, REPO)
    (tmp_path / "github-webhook-secret").write_text(SECRET + "\n")
    (tmp_path / "github-app.pem").write_text(private)
    monkeypatch.setenv("MA_HOME", str(tmp_path))
    monkeypatch.setenv("MA_GITHUB_APP_ID", APP_ID)
    monkeypatch.setenv("MA_GITHUB_API_URL", fake.url)
    get_settings.cache_clear()
    credentials.forget()
    client.forget_tokens()
    for queue in (api.settings.github_webhook_queue_name, api.settings.github_writes_queue_name):
        api.drop_messages(queue)
    yield fake
    fake.stop()
    monkeypatch.undo()
    get_settings.cache_clear()
    credentials.forget()
    client.forget_tokens()


def send(api, event: str, body: dict, *, secret: str = SECRET, delivery_id: str | None = None, headers=None):
    hdrs, raw = gh.delivery(event, body, secret, delivery_id=delivery_id)
    hdrs.update(headers or {})
    return api.session().post(api.url(PATH), data=raw, headers=hdrs)


def run_webhooks(api) -> int:
    from app import github_webhook_consumer

    return api.deliver(api.settings.github_webhook_queue_name, github_webhook_consumer)


def run_writes(api) -> int:
    from app import github_writes_consumer

    return api.deliver(api.settings.github_writes_queue_name, github_writes_consumer)


def run_all(api) -> None:
    """Webhooks, builds and deploys, then the writes they queued."""
    run_webhooks(api)
    api.run_queues()
    run_writes(api)


def stored(api, pk: str) -> bool:
    key = {"PK": {"S": pk}, "SK": {"S": "#META"}}
    return "Item" in api.aws("dynamodb").get_item(TableName=api.settings.table_name, Key=key)


def queued(api, queue: str) -> int:
    attrs = api.aws("sqs").get_queue_attributes(QueueUrl=api.queue_url(queue),
                                                AttributeNames=["ApproximateNumberOfMessages"])
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def linked_project(owner, api, **settings) -> str:
    source = {"type": "github", "repository": REPO, "installationId": INSTALLATION, "branch": "main", **settings}
    teams = owner.get(api.url("/teams")).json()["items"]
    r = owner.post(api.url(f"/teams/{teams[0]['id']}/projects"), json={"name": f"weather-{uuid.uuid4().hex[:4]}",
                                                                      "source": source})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def deployment(owner, api, project: str, kind: str = "production", branch: str = "main") -> str:
    r = owner.post(api.url(f"/projects/{project}/deployments"), json={"type": kind, "branch": branch})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def builds_of(owner, api, deployment_id: str) -> list[dict]:
    return owner.get(api.url(f"/deployments/{deployment_id}/builds")).json()["items"]


# --- the endpoint ----------------------------------------------------------------------------


@pytest.mark.parametrize("forgery", ["missing", "forged", "sha1-only", "wrong-secret", "body-changed"])
def test_a_delivery_without_a_valid_sha256_signature_is_401_and_leaves_no_trace(api, github, forgery):
    body = gh.push(REPO, INSTALLATION, "main", "a" * 40)
    headers, raw = gh.delivery("push", body, SECRET)
    if forgery == "missing":
        del headers["X-Hub-Signature-256"], headers["X-Hub-Signature"]
    elif forgery == "forged":
        headers["X-Hub-Signature-256"] = "sha256=" + "0" * 64
    elif forgery == "sha1-only":
        del headers["X-Hub-Signature-256"]
    elif forgery == "wrong-secret":
        headers["X-Hub-Signature-256"] = gh.sign("not-the-secret", raw)
    else:
        raw = raw.replace(b'"main"', b'"prod"')
    r = api.session().post(api.url(PATH), data=raw, headers=headers)
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "invalid_signature"
    assert not stored(api, f"WEBHOOK#{headers['X-GitHub-Delivery']}")
    assert queued(api, api.settings.github_webhook_queue_name) == 0


def test_ping_answers_200(api, github):
    r = send(api, "ping", {"zen": "Keep it logically awesome.", "hook_id": 1})
    assert r.status_code == 200 and r.json()["event"] == "ping"


def test_a_redelivered_id_is_a_duplicate_and_queues_nothing_twice(api, github):
    body = gh.push(REPO, INSTALLATION, "main", "b" * 40)
    delivery_id = str(uuid.uuid4())
    first = send(api, "push", body, delivery_id=delivery_id)
    again = send(api, "push", body, delivery_id=delivery_id)
    assert first.status_code == 202 and first.json()["queued"] is True
    assert again.status_code == 200 and again.json() == {"duplicate": True, "deliveryId": delivery_id}
    assert queued(api, api.settings.github_webhook_queue_name) == 1


@pytest.mark.parametrize("event,body,reason", [
    ("push", gh.push(REPO, INSTALLATION, "v1.0.0", "c" * 40, tag=True), "tag"),
    ("push", gh.push(REPO, INSTALLATION, "main", "0" * 40, deleted=True), "deleted the branch"),
    ("issues", {"action": "opened", "issue": {"number": 1}}, "event 'issues' is not handled"),
    ("pull_request", {**gh.pull_request(REPO, INSTALLATION, "labeled", 3, "d" * 40)}, "'labeled' is not handled"),
])
def test_events_and_actions_not_handled_are_202_ignored_with_the_reason_and_counted(api, github, event, body,
                                                                                     reason):
    from chalicelib.db import github as store

    before = store.counts()
    r = send(api, event, body)
    assert r.status_code == 202 and r.json()["ignored"] is True and reason in r.json()["reason"], r.text
    assert queued(api, api.settings.github_webhook_queue_name) == 0
    after = store.counts()
    assert sum(after.values()) == sum(before.values()) + 1


def test_a_form_encoded_delivery_carries_its_payload_field(api, github):
    body = gh.push(REPO, INSTALLATION, "main", "e" * 40)
    raw = urllib.parse.urlencode({"payload": json.dumps(body)}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-GitHub-Event": "push",
               "X-GitHub-Delivery": str(uuid.uuid4()), "X-Hub-Signature-256": gh.sign(SECRET, raw)}
    r = api.session().post(api.url(PATH), data=raw, headers=headers)
    assert r.status_code == 202 and r.json()["queued"] is True, r.text


def test_the_route_is_in_the_openapi_document_as_signature_authenticated(api, github):
    doc = api.session().get(api.url("/openapi.json")).json()
    op = doc["paths"][PATH]["post"]
    assert op["security"] == [{"githubSignature": []}] and "x-permission" not in op
    assert doc["components"]["securitySchemes"]["githubSignature"]["name"] == "X-Hub-Signature-256"
    assert {"200", "202", "401"} <= set(op["responses"])


# --- push deploys ----------------------------------------------------------------------------


def test_a_push_builds_exactly_the_pushed_commit_deploys_it_and_github_shows_success(api, owner, github, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "package.json").write_text('{"name": "weather"}')
    sha = github.publish(REPO, "main", tmp_path / "src")
    github.publish(REPO, "main", tmp_path / "src")  # the branch moved on: the push's commit is still built
    project = linked_project(owner, api)
    production = deployment(owner, api, project)
    staging_elsewhere = deployment(owner, api, project, "staging", "develop")

    r = send(api, "push", gh.push(REPO, INSTALLATION, "main", sha, message="Forecast tool", pusher="mona"))
    assert r.status_code == 202, r.text
    run_all(api)

    [build] = builds_of(owner, api, production)
    assert build["status"] == "succeeded" and build["commit"] == sha and build["trigger"] == "push"
    assert build["github"]["pusher"] == "mona" and build["github"]["message"] == "Forecast tool"
    assert build["github"]["deliveryId"] == r.json()["deliveryId"]
    assert builds_of(owner, api, staging_elsewhere) == []
    states = [s["state"] for s in github.statuses_for(sha)]
    assert states == ["pending", "success"], github.statuses
    public_url = owner.get(api.url(f"/deployments/{production}")).json()["publicUrl"]
    assert github.statuses_for(sha)[-1]["target_url"] == public_url


def test_a_burst_of_pushes_supersedes_queued_builds(api, owner, github):
    project = linked_project(owner, api)
    production = deployment(owner, api, project)
    for sha in ("1" * 40, "2" * 40, "3" * 40):
        assert send(api, "push", gh.push(REPO, INSTALLATION, "main", sha)).status_code == 202
    run_webhooks(api)
    statuses = {b["commit"]: b["status"] for b in builds_of(owner, api, production)}
    assert statuses == {"1" * 40: "superseded", "2" * 40: "superseded", "3" * 40: "queued"}


def test_an_uninstalled_app_marks_the_project_and_its_builds_fail_with_that_reason(api, owner, github):
    project = linked_project(owner, api)
    production = deployment(owner, api, project)
    assert send(api, "installation", gh.installation("deleted", INSTALLATION, [REPO])).status_code == 202
    run_webhooks(api)
    assert owner.get(api.url(f"/projects/{project}")).json()["source"]["installationStatus"] == "uninstalled"
    build = owner.post(api.url(f"/deployments/{production}/builds"), json={}).json()
    api.run_builds()
    build = owner.get(api.url(f"/builds/{build['id']}")).json()
    assert build["status"] == "failed" and "uninstalled" in build["reason"], build


def test_a_removed_repository_marks_only_its_projects(api, owner, github):
    github.install(INSTALLATION, "octo-org/other")
    project = linked_project(owner, api)
    body = gh.installation_repositories("removed", INSTALLATION, [REPO])
    assert send(api, "installation_repositories", body).status_code == 202
    run_webhooks(api)
    assert owner.get(api.url(f"/projects/{project}")).json()["source"]["installationStatus"] == "repository_removed"


def test_a_project_cannot_link_a_repository_outside_the_installation(api, owner, github):
    teams = owner.get(api.url("/teams")).json()["items"]
    r = owner.post(api.url(f"/teams/{teams[0]['id']}/projects"), json={"name": "stranger", "source": {
        "type": "github", "repository": "someone/else", "installationId": INSTALLATION}})
    assert r.status_code == 422 and r.json()["error"]["code"] == "repository_not_installed", r.text


# --- pull request previews -------------------------------------------------------------------


def _preview_builds(owner, api, project):
    deployments = owner.get(api.url(f"/projects/{project}/deployments")).json()["items"]
    return [d for d in deployments if d["type"] == "preview"]


def test_a_pull_request_gets_one_preview_rebuilt_on_push_and_one_comment_edited_in_place(api, owner, github,
                                                                                          tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "package.json").write_text('{"name": "weather"}')
    first = github.publish(REPO, "feature/forecast", tmp_path / "src")
    second = github.publish(REPO, "feature/forecast", tmp_path / "src")
    project = linked_project(owner, api)

    assert send(api, "pull_request", gh.pull_request(REPO, INSTALLATION, "opened", 7, first)).status_code == 202
    run_all(api)
    [preview] = _preview_builds(owner, api, project)
    assert preview["status"] == "running" and preview["slug"].endswith("pr-7")
    [comment] = github.comments_on(REPO, 7)
    assert preview["publicUrl"] in comment["body"]

    assert send(api, "pull_request", gh.pull_request(REPO, INSTALLATION, "synchronize", 7, second)).status_code == 202
    run_all(api)
    [again] = _preview_builds(owner, api, project)
    assert again["id"] == preview["id"] and again["slug"] == preview["slug"]
    assert [b["commit"] for b in builds_of(owner, api, preview["id"])] == [second, first]
    [comment] = github.comments_on(REPO, 7)
    assert second[:7] in comment["body"] and comment["edits"] >= 2

    assert send(api, "pull_request", gh.pull_request(REPO, INSTALLATION, "closed", 7, second)).status_code == 202
    run_all(api)
    assert _preview_builds(owner, api, project) == []
    assert owner.get(api.url(f"/builds/{builds_of_id(preview)}")).status_code in (200, 404)
    [comment] = github.comments_on(REPO, 7)
    assert "stopped" in comment["body"].lower()
    assert api.deploys.stopped, "the preview's server was stopped"


def builds_of_id(deployment: dict) -> str:
    return deployment["currentBuildId"]


def test_a_fork_pull_request_is_not_built_and_the_comment_says_why(api, owner, github):
    project = linked_project(owner, api)
    body = gh.pull_request(REPO, INSTALLATION, "opened", 9, "f" * 40, fork_of="mallory/weather-agent")
    assert send(api, "pull_request", body).status_code == 202
    run_all(api)
    assert _preview_builds(owner, api, project) == []
    [comment] = github.comments_on(REPO, 9)
    assert "forks are not built" in comment["body"]


def test_drafts_wait_for_ready_for_review_when_the_project_skips_them(api, owner, github):
    project = linked_project(owner, api, skipDraftPullRequests=True)
    send(api, "pull_request", gh.pull_request(REPO, INSTALLATION, "opened", 11, "9" * 40, draft=True))
    run_webhooks(api)
    assert _preview_builds(owner, api, project) == []
    send(api, "pull_request", gh.pull_request(REPO, INSTALLATION, "ready_for_review", 11, "9" * 40))
    run_webhooks(api)
    assert len(_preview_builds(owner, api, project)) == 1


# --- writes to GitHub ------------------------------------------------------------------------


def test_github_failing_status_writes_never_fails_the_build_and_the_status_is_written_later(api, owner, github,
                                                                                             tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "package.json").write_text('{"name": "weather"}')
    sha = github.publish(REPO, "main", tmp_path / "src")
    project = linked_project(owner, api)
    production = deployment(owner, api, project)
    github.fail_statuses = 4  # more than one consumer run retries in place
    send(api, "push", gh.push(REPO, INSTALLATION, "main", sha))
    run_webhooks(api)
    api.run_queues()
    [build] = builds_of(owner, api, production)
    assert build["status"] == "succeeded"
    api.deliver(api.settings.github_writes_queue_name, _returned_to_the_queue_when_failed(api))
    states = [s["state"] for s in github.statuses_for(sha)]
    assert states[-1] == "success" and github.fail_statuses == 0, github.statuses
    assert "pending" not in states[states.index("success"):], "a late retry never overwrites a newer status"


def _returned_to_the_queue_when_failed(api):
    """The writes consumer as the event source mapping runs it: a failed record is visible again
    (its visibility timeout elapsed at once, as time would), and it retries."""
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
    from app import github_writes_consumer

    def handler(event, context):
        try:
            return github_writes_consumer(event, context)
        except BatchProcessingError:
            record = event["Records"][0]
            api.aws("sqs").change_message_visibility(QueueUrl=api.queue_url(api.settings.github_writes_queue_name),
                                                     ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0)
            return {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}

    return handler


def test_a_fork_pull_request_the_project_allows_is_built_and_served_without_the_projects_secrets(
        api, owner, github, monkeypatch, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "package.json").write_text('{"name": "weather"}')
    sha = github.publish(REPO, "refs/pull/21/head", tmp_path / "src")
    project = linked_project(owner, api, buildForkPullRequests=True)
    assert owner.put(api.url(f"/projects/{project}/env/OPENAI_API_KEY"), json={"value": "sk-secret"}).status_code == 200
    seen = []
    real_run, real_start = api.builds.run, api.deploys.start
    monkeypatch.setattr(api.builds, "run", lambda job, log, cancel: (seen.append(dict(job.env)),
                                                                      real_run(job, log, cancel))[1])
    monkeypatch.setattr(api.deploys, "start", lambda spec: (seen.append(dict(spec.env)), real_start(spec))[1])

    body = gh.pull_request(REPO, INSTALLATION, "opened", 21, sha, fork_of="mallory/weather-agent")
    assert send(api, "pull_request", body).status_code == 202
    run_all(api)
    [preview] = _preview_builds(owner, api, project)
    assert preview["status"] == "running"
    assert len(seen) == 2 and all("OPENAI_API_KEY" not in env for env in seen), seen


def test_an_installation_linked_by_one_team_cannot_be_used_by_another(api, owner, github):
    linked_project(owner, api)
    other = owner.post(api.url("/teams"), json={"name": "elsewhere"}).json()["id"]
    r = owner.post(api.url(f"/teams/{other}/projects"), json={"name": "borrowed", "source": {
        "type": "github", "repository": REPO, "installationId": INSTALLATION}})
    assert r.status_code == 403 and r.json()["error"]["code"] == "installation_claimed", r.text
