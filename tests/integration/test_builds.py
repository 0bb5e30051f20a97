"""Builds through the real local stack: API -> SQS (moto) -> worker process -> local runner -> S3.

The tiny fixture has no dependencies, so these builds need no registry (Node 22 is fetched once
into the shared cache).
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import tarfile
import time

import pytest

from tests.support.builds import (
    build_processes, copy_tiny, handled_messages, log_lines, start_build, tiny_deployment, wait_build, wait_log,
)
from tests.support.waiting import wait_for

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")


@pytest.fixture(scope="module")
def team(stack):
    return stack.session(stack.owner_key).get(stack.url("/teams")).json()["items"][0]["id"]


def _artifact(stack, key: str) -> tuple[dict, tarfile.TarFile, bytes]:
    obj = stack.aws("s3").get_object(Bucket="mastra-admin-local-123456789012-artifacts", Key=key)
    body = obj["Body"].read()
    return obj["Metadata"], tarfile.open(fileobj=io.BytesIO(body), mode="r:gz"), body


def test_a_tiny_project_builds_end_to_end_with_a_stored_masked_log(stack, owner, team, tmp_path):
    src = copy_tiny(tmp_path / "tiny")
    before = sorted(p.name for p in src.iterdir())
    _, deployment = tiny_deployment(stack, owner, team, {"type": "local", "path": str(src)},
                                    env={"TINY_SECRET": "s3cr3t-planted-value", "PRINT_ENV_KEYS": "1"})
    queued = start_build(stack, owner, deployment)
    assert queued["status"] == "queued"

    build = wait_build(stack, owner, queued["id"])
    assert build["status"] == "succeeded", build
    assert build["attempt"] == 1 and build["runner"] == "local"

    lines = log_lines(stack, owner, build["id"])
    assert all(STAMP.match(line) for line in lines)
    texts = [line[25:] for line in lines]
    assert [t for t in texts if t.startswith("build line")] == [f"build line {i} of 20" for i in range(1, 21)]
    assert "using secret *** for the build" in texts
    assert not any("s3cr3t-planted-value" in line for line in lines)
    assert build["logLines"] == len(lines)
    env_keys = next(t for t in texts if t.startswith("env keys: "))[len("env keys: "):].split(",")
    assert "TINY_SECRET" in env_keys and "MASTRA_ADMIN_BUILD_ID" in env_keys
    leaked = [k for k in env_keys if k.startswith(("MA_", "AWS_")) or "SECRET" in k and k != "TINY_SECRET"]
    assert leaked == [], "the control plane's settings and credentials must not reach user code"

    stored = stack.aws("s3").get_object(Bucket="mastra-admin-local-123456789012-artifacts", Key=f"builds/{build['id']}/build.log")
    assert stored["Body"].read().decode().splitlines() == lines
    assert stored["Metadata"]["deployment-id"] == deployment

    meta, tar, body = _artifact(stack, build["artifactKey"])
    assert build["artifactKey"] == f"artifacts/{build['id']}.tgz"
    assert meta["sha256"] == build["artifactSha256"] == hashlib.sha256(body).hexdigest()
    names = tar.getnames()
    assert "dist/build.json" in names and "mastra-admin.json" in names and "server.js" in names
    assert json.load(tar.extractfile("dist/build.json"))["buildId"] == build["id"]
    manifest = json.load(tar.extractfile("mastra-admin.json"))
    assert manifest["mastra"] is False and manifest["stamp"]["deploymentId"] == deployment

    # Built in an isolated copy: the project's own directory is exactly as it was.
    assert sorted(p.name for p in src.iterdir()) == before


def test_a_failing_build_fails_with_the_phase_and_exit_code_as_reason(stack, owner, team, tmp_path):
    src = copy_tiny(tmp_path / "tiny")
    _, deployment = tiny_deployment(stack, owner, team, {"type": "local", "path": str(src)}, env={"BUILD_FAIL": "1"})
    build = wait_build(stack, owner, start_build(stack, owner, deployment)["id"])
    assert build["status"] == "failed"
    assert build["reason"] == "build failed with exit code 3"
    assert build["artifactKey"] is None
    assert any(line.endswith("failing on purpose") for line in log_lines(stack, owner, build["id"]))


def _git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin"})


def test_a_git_source_builds_the_requested_commit(stack, owner, team, tmp_path):
    repo = copy_tiny(tmp_path / "repo")
    _git("init", "-q", "-b", "main", cwd=repo)
    _git("add", ".", cwd=repo)
    _git("commit", "-q", "-m", "first", cwd=repo)
    first = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    (repo / "build.js").write_text((repo / "build.js").read_text().replace("build line", "second line"))
    _git("commit", "-q", "-am", "second", cwd=repo)

    _, deployment = tiny_deployment(stack, owner, team, {"type": "git", "url": f"file://{repo}", "branch": "main"})
    at_first = wait_build(stack, owner, start_build(stack, owner, deployment, commit=first)["id"])
    assert at_first["status"] == "succeeded", at_first
    assert at_first["commit"] == first
    assert any("build line 1 of 20" in line for line in log_lines(stack, owner, at_first["id"]))

    at_head = wait_build(stack, owner, start_build(stack, owner, deployment)["id"])
    assert at_head["status"] == "succeeded" and at_head["commit"] != first
    assert any("second line 1 of 20" in line for line in log_lines(stack, owner, at_head["id"]))
    _, tar, _ = _artifact(stack, at_head["artifactKey"])
    assert not any(name == ".git" or name.startswith(".git/") for name in tar.getnames())


def test_a_github_source_is_downloaded_with_the_stored_token(stack, owner, team, tmp_path, github):
    sha = github.publish("acme/agent", "main", copy_tiny(tmp_path / "gh"))
    project, deployment = tiny_deployment(stack, owner, team, {"type": "github", "repo": "acme/agent"})

    without = wait_build(stack, owner, start_build(stack, owner, deployment)["id"])
    assert without["status"] == "failed" and "GitHub refused the token" in without["reason"]

    r = owner.put(stack.url(f"/projects/{project}/source-token"), json={"token": github.token})
    assert r.status_code == 200 and github.token not in r.text
    build = wait_build(stack, owner, start_build(stack, owner, deployment)["id"])
    assert build["status"] == "succeeded", build
    assert build["commit"] == sha
    assert any(path.startswith(f"/repos/acme/agent/tarball/{sha}") and auth == f"Bearer {github.token}"
               for path, auth in github.requests)
    assert not any(github.token in line for line in log_lines(stack, owner, build["id"]))


def test_cancel_kills_the_build_process_tree(stack, owner, team, tmp_path):
    src = copy_tiny(tmp_path / "tiny")
    _, deployment = tiny_deployment(stack, owner, team, {"type": "local", "path": str(src)},
                                    env={"BUILD_SLEEP_SECONDS": "120"})
    build_id = start_build(stack, owner, deployment)["id"]
    wait_log(stack, owner, build_id, "working 2")
    assert build_processes(build_id), "the build's processes should be running"

    r = owner.post(stack.url(f"/builds/{build_id}/cancel"))
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    deadline = time.monotonic() + 20
    while build_processes(build_id) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert build_processes(build_id) == []
    assert owner.get(stack.url(f"/builds/{build_id}")).json()["status"] == "cancelled"
    again = owner.post(stack.url(f"/builds/{build_id}/cancel"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "build_not_active"


def test_a_duplicated_message_runs_the_build_once(stack, owner, team, tmp_path):
    src = copy_tiny(tmp_path / "tiny")
    _, deployment = tiny_deployment(stack, owner, team, {"type": "local", "path": str(src)},
                                    env={"BUILD_SLEEP_SECONDS": "3"})
    build_id = start_build(stack, owner, deployment)["id"]
    sqs = stack.aws("sqs")
    url = sqs.get_queue_url(QueueName="mastra-admin-local-builds")["QueueUrl"]
    for _ in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"buildId": build_id}))
    wait_build(stack, owner, build_id)
    # The original message and the three duplicates were all consumed (each logs one line).
    wait_for(lambda: handled_messages(stack, "build", "buildId", build_id) >= 4, 30, what="every message handled")
    build = owner.get(stack.url(f"/builds/{build_id}")).json()
    assert build["status"] == "succeeded" and build["attempt"] == 1
    installs = [line for line in log_lines(stack, owner, build_id) if "==> install" in line]
    assert len(installs) == 1


def test_a_message_that_keeps_failing_lands_in_the_dlq(stack):
    sqs = stack.aws("sqs")
    url = sqs.get_queue_url(QueueName="mastra-admin-local-builds")["QueueUrl"]
    dlq = sqs.get_queue_url(QueueName="mastra-admin-local-builds-dlq")["QueueUrl"]
    poison = "not a build message " + str(time.time())
    sqs.send_message(QueueUrl=url, MessageBody=poison)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if any(m["Body"] == poison for m in got):
            return
    raise AssertionError("the poison message never reached the DLQ")


def test_killing_the_worker_mid_build_leaves_no_build_stuck(stack, owner, team, tmp_path):
    src = copy_tiny(tmp_path / "tiny")
    _, deployment = tiny_deployment(stack, owner, team, {"type": "local", "path": str(src)},
                                    env={"BUILD_SLEEP_SECONDS": "6"})
    build_id = start_build(stack, owner, deployment)["id"]
    wait_log(stack, owner, build_id, "working 1")
    import os
    import signal

    os.kill(int((stack.home / "worker.pid").read_text()), signal.SIGKILL)

    # The lease expires, the reaper kills what is left and re-queues; a new worker finishes it.
    build = wait_build(stack, owner, build_id, timeout=120)
    assert build["status"] == "succeeded", build
    assert build["attempt"] == 2
    lines = log_lines(stack, owner, build_id)
    assert any("reaper: the worker of attempt 1 stopped renewing its lease; re-queued" in line for line in lines)
    assert any("--- attempt 2 of 2" in line for line in lines)
    assert build_processes(build_id) == []
    # The whole log in S3 is every attempt's, as the API reads it: attempt 2 wrote it from its own
    # lines and the stored ones before them.
    stored = stack.aws("s3").get_object(Bucket="mastra-admin-local-123456789012-artifacts", Key=f"builds/{build_id}/build.log")
    assert stored["Body"].read().decode().splitlines() == lines and build["logLines"] == len(lines)


def test_a_newer_build_supersedes_older_ones_still_in_the_queue(stack, owner, team, tmp_path):
    src = copy_tiny(tmp_path / "tiny")
    _, deployment = tiny_deployment(stack, owner, team, {"type": "local", "path": str(src)},
                                    env={"BUILD_SLEEP_SECONDS": "10"})  # slots stay busy while 4 are queued
    # Two builds take both worker slots; the third waits in the queue until the fourth arrives. The
    # second is posted once the first is building (else it supersedes the first, as it should, and a
    # slot stays free for the third: what a loaded machine once did here), the third once both are.
    ids = []
    for _ in range(2):
        ids.append(start_build(stack, owner, deployment)["id"])
        wait_for(lambda: owner.get(stack.url(f"/builds/{ids[-1]}")).json(), timeout=120,
                 until=lambda b: b["status"] != "queued", what="the build claimed")
    ids += [start_build(stack, owner, deployment)["id"] for _ in range(2)]
    builds = [wait_build(stack, owner, build_id) for build_id in ids]
    assert [b["status"] for b in builds] == ["succeeded", "succeeded", "superseded", "succeeded"], builds
    superseded = [b for b in builds if b["status"] == "superseded"]
    assert all(b["attempt"] == 0 and b["reason"].startswith("superseded by bld_") for b in superseded)
    assert all(b["status"] in ("succeeded", "superseded") for b in builds)
