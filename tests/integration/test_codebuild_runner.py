"""CodeBuildRunner against moto server (S3, CodeBuild, Secrets Manager over the real wire protocol).

moto's CodeBuild runs nothing, reports SUCCEEDED on the first batch_get_builds and drops the
environment overrides: so what CodeBuild would receive is asserted on the request itself (a
botocore `before-call` hook), and moto's "success" is only used to exercise check()'s plumbing.
The runner gets an explicit Settings and its own clients: nothing here depends on the process's
environment or on chalicelib's cached settings, and DynamoDB is not involved.
"""
from __future__ import annotations

import io
import json
import shutil
import threading
import zipfile
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from botocore.config import Config

from chalicelib.runners.build_port import BuildJob, artifact_key
from chalicelib.runners.codebuild import CodeBuildRunner, source_key
from chalicelib.settings import Settings
from tests.support.local_aws import moto_server

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny-node"
PROJECT = "mastra-admin-itest-builds"
BUCKET = "mastra-admin-itest-artifacts"
SECRET_VALUE = "sk-live-never-in-a-request-0123456789"
SETTINGS = Settings(stage="itest", region="us-east-1", bucket_name=BUCKET, codebuild_project=PROJECT,
                    build_timeout_seconds=1200, build_queue_limit_seconds=900)


@pytest.fixture(scope="module")
def moto_url():
    with moto_server() as url:
        yield url


@pytest.fixture(scope="module")
def clients(moto_url):
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                    region_name="us-east-1")
    config = Config(retries={"max_attempts": 1})  # an unimplemented call fails at once, not after retries
    made = {name: session.client(name, endpoint_url=moto_url, config=config)
            for name in ("codebuild", "s3", "secretsmanager")}
    made["s3"].create_bucket(Bucket=BUCKET)
    made["codebuild"].create_project(
        name=PROJECT,
        # moto wants a location even for NO_SOURCE (AWS does not); the runner overrides it anyway
        source={"type": "S3", "location": f"{BUCKET}/sources/placeholder.zip"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                     "computeType": "BUILD_GENERAL1_MEDIUM"},
        serviceRole="arn:aws:iam::123456789012:role/mastra-admin-itest-codebuild",
    )
    return SimpleNamespace(**made)


@pytest.fixture
def requests_seen(clients):
    """Parameters of every CodeBuild call, as botocore is about to send them."""
    seen: list[tuple[str, dict]] = []

    def record(model, params, **_):
        seen.append((model.name, json.loads(params["body"]) if params.get("body") else {}))

    clients.codebuild.meta.events.register("before-call.codebuild.*", record)
    yield seen
    clients.codebuild.meta.events.unregister("before-call.codebuild.*", record)


@pytest.fixture
def runner(clients):
    return CodeBuildRunner(SETTINGS, codebuild=clients.codebuild, s3=clients.s3, secrets_manager=clients.secretsmanager)


def new_job(tmp_path: Path, build_id: str, **env: str) -> BuildJob:
    workspace = tmp_path / build_id / "attempt-1"
    shutil.copytree(TINY, workspace / "src")
    return BuildJob(build_id=build_id, team_id="team_1", project_id="prj_1", deployment_id="dep_1",
                    environment="production", commit="c0ffee1", workspace=workspace, env=env,
                    artifact_bucket=BUCKET, artifact_key=artifact_key(build_id))


def record(build_id: str, external_id: str | None):
    return SimpleNamespace(build_id=build_id, external_id=external_id, status="building", attempt=1)


def start(runner, tmp_path, build_id, **env):
    lines: list[str] = []
    outcome = runner.run(new_job(tmp_path, build_id, **env), lines.append, threading.Event())
    return outcome, lines


def test_run_uploads_a_zip_of_the_source_and_the_injection_step(runner, clients, tmp_path):
    outcome, lines = start(runner, tmp_path, "bld_itest_bundle")
    assert outcome.status == "started", outcome.reason
    body = clients.s3.get_object(Bucket=BUCKET, Key=source_key("bld_itest_bundle"))["Body"].read()
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        names = set(zf.namelist())
        stamp = json.loads(zf.read(".mastra-admin/stamp.json"))
        assert zf.read("package.json") == (TINY / "package.json").read_bytes()
    assert {"package.json", "package-lock.json", "build.js", "server.js"} <= names
    assert {".mastra-admin/injection/inject.mjs", ".mastra-admin/injection/runtime/runtime.mjs",
            ".mastra-admin/injection/runtime/records.mjs", ".mastra-admin/injection/package.json",
            ".mastra-admin/injection/package-lock.json", ".mastra-admin/injection/.npmrc"} <= names
    assert not any(n.endswith(".py") or "/tests/" in n or "node_modules" in n for n in names)
    assert stamp["buildId"] == "bld_itest_bundle" and stamp["commit"] == "c0ffee1"
    assert any("source bundle s3://" in line for line in lines)


def test_run_starts_the_build_with_the_overrides_codebuild_needs(runner, clients, tmp_path, requests_seen):
    outcome, _ = start(runner, tmp_path, "bld_itest_start", OPENAI_API_KEY=SECRET_VALUE, CODEBUILD_X="no")
    assert outcome.status == "started" and outcome.external_id.startswith(f"{PROJECT}:")
    [(op, params)] = [r for r in requests_seen if r[0] == "StartBuild"]
    assert params["projectName"] == PROJECT
    assert params["sourceTypeOverride"] == "S3"
    assert params["sourceLocationOverride"] == f"{BUCKET}/sources/bld_itest_start.zip"
    assert params["timeoutInMinutesOverride"] == 20 and params["queuedTimeoutInMinutesOverride"] == 15
    assert params["idempotencyToken"].startswith("bld_itest_start-")
    spec = json.loads(params["buildspecOverride"])
    assert spec["phases"]["build"]["commands"][0] == "npm run build"
    env = {v["name"]: v for v in params["environmentVariablesOverride"]}
    assert env["MASTRA_ADMIN_BUILD_ID"] == {"name": "MASTRA_ADMIN_BUILD_ID", "value": "bld_itest_start",
                                            "type": "PLAINTEXT"}
    secret_id = env["MASTRA_ADMIN_SECRET_ID"]["value"]
    assert secret_id.startswith("mastra-admin/itest/builds/bld_itest_start/")
    assert env["OPENAI_API_KEY"] == {"name": "OPENAI_API_KEY", "value": f"{secret_id}:OPENAI_API_KEY",
                                     "type": "SECRETS_MANAGER"}
    assert "CODEBUILD_X" not in env  # reserved by CodeBuild: it would refuse the whole build
    assert SECRET_VALUE not in json.dumps(params)
    stored = clients.secretsmanager.get_secret_value(SecretId=secret_id)["SecretString"]
    assert json.loads(stored) == {"OPENAI_API_KEY": SECRET_VALUE}


def test_a_project_without_variables_gets_no_secret(runner, tmp_path, requests_seen):
    outcome, _ = start(runner, tmp_path, "bld_itest_noenv")
    assert outcome.status == "started"
    [(_, params)] = [r for r in requests_seen if r[0] == "StartBuild"]
    assert [v["name"] for v in params["environmentVariablesOverride"]] == ["MASTRA_ADMIN_BUILD_ID"]


def test_check_after_codebuild_reports_success_reads_the_artifact_digest_and_deletes_the_secret(
        runner, clients, tmp_path):
    from botocore.exceptions import ClientError

    outcome, _ = start(runner, tmp_path, "bld_itest_check", API_TOKEN=SECRET_VALUE)
    secret_id = next(s["Name"] for s in clients.secretsmanager.list_secrets()["SecretList"]
                     if "/bld_itest_check/" in s["Name"])
    # What the buildspec's upload command does in a real build:
    clients.s3.put_object(Bucket=BUCKET, Key=artifact_key("bld_itest_check"), Body=b"x" * 321,
                          Metadata={"sha256": "cd" * 32, "build-id": "bld_itest_check", "node-major": "24"})
    check = runner.check(record("bld_itest_check", outcome.external_id))  # moto: SUCCEEDED at once
    assert check.state == "finished"
    assert (check.outcome.status, check.outcome.artifact_sha256, check.outcome.artifact_bytes,
            check.outcome.node_major) == ("succeeded", "cd" * 32, 321, 24)
    # moto drops the override, so the runner cannot learn the secret's id from the build here; the
    # deletion itself is covered by the Stubber tests. Delete by id to prove the call shape works.
    runner.forget(secret_id)
    with pytest.raises(ClientError):
        clients.secretsmanager.get_secret_value(SecretId=secret_id)


def test_check_of_a_success_without_an_artifact_is_a_failure(runner, tmp_path):
    outcome, _ = start(runner, tmp_path, "bld_itest_noartifact")
    check = runner.check(record("bld_itest_noartifact", outcome.external_id))
    assert check.state == "finished" and check.outcome.status == "failed"
    assert "uploaded no artifact" in check.outcome.reason


def test_check_of_an_unknown_or_unstarted_build_is_lost(runner):
    assert runner.check(record("bld_itest_unknown", f"{PROJECT}:00000000-0000-0000-0000-000000000000")).state == "lost"
    assert runner.check(record("bld_itest_unknown", None)).state == "lost"


def test_stop_stops_the_codebuild_build_and_ignores_unknown_ones(runner, tmp_path, requests_seen):
    outcome, _ = start(runner, tmp_path, "bld_itest_stop")
    runner.stop(record("bld_itest_stop", outcome.external_id))
    assert ("StopBuild", {"id": outcome.external_id}) in requests_seen
    runner.stop(record("bld_itest_stop", f"{PROJECT}:00000000-0000-0000-0000-000000000000"))  # not found: ignored
    runner.stop(record("bld_itest_stop", None))  # never started: no call


def test_a_start_codebuild_refuses_is_a_failed_outcome_and_leaves_no_secret(clients, tmp_path):
    settings = Settings(stage="itest", bucket_name=BUCKET, codebuild_project="mastra-admin-itest-missing")
    runner = CodeBuildRunner(settings, codebuild=clients.codebuild, s3=clients.s3,
                             secrets_manager=clients.secretsmanager)
    outcome, _ = start(runner, tmp_path, "bld_itest_refused", API_TOKEN=SECRET_VALUE)
    assert outcome.status == "failed"
    assert outcome.reason.startswith("codebuild: could not start the build (ResourceNotFoundException")
    assert not (tmp_path / "bld_itest_refused" / "attempt-1" / "source.zip").exists()
    names = [s["Name"] for s in clients.secretsmanager.list_secrets()["SecretList"]]
    assert not any("/bld_itest_refused/" in n for n in names)


def test_a_project_that_cannot_be_planned_fails_before_anything_is_uploaded(runner, clients, tmp_path):
    job = new_job(tmp_path, "bld_itest_noplan")
    (job.source_dir / "package.json").unlink()
    outcome = runner.run(job, lambda _: None, threading.Event())
    assert outcome.status == "failed" and "package.json" in outcome.reason
    listed = clients.s3.list_objects_v2(Bucket=BUCKET, Prefix=source_key("bld_itest_noplan"))
    assert listed.get("KeyCount", 0) == 0


def test_a_build_cancelled_before_start_is_not_started(runner, tmp_path, requests_seen):
    cancel = threading.Event()
    cancel.set()
    outcome = runner.run(new_job(tmp_path, "bld_itest_cancel", API_TOKEN=SECRET_VALUE), lambda _: None, cancel)
    assert outcome.status == "cancelled"
    assert not [r for r in requests_seen if r[0] == "StartBuild"]
    names = [s["Name"] for s in runner.client("secretsmanager").list_secrets()["SecretList"]]
    assert not any("/bld_itest_cancel/" in n for n in names)


def test_the_bundle_keeps_file_modes_and_symlinks_and_replaces_a_projects_own_mastra_admin_dir(
        runner, clients, tmp_path):
    import stat

    job = new_job(tmp_path, "bld_itest_modes")
    (job.source_dir / "bin").mkdir()
    (job.source_dir / "bin" / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (job.source_dir / "bin" / "run.sh").chmod(0o755)
    (job.source_dir / "current").symlink_to("bin")
    (job.source_dir / ".mastra-admin").mkdir()
    (job.source_dir / ".mastra-admin" / "stamp.json").write_text('{"buildId": "forged"}')
    lines: list[str] = []
    assert runner.run(job, lines.append, threading.Event()).status == "started"
    body = clients.s3.get_object(Bucket=BUCKET, Key=source_key("bld_itest_modes"))["Body"].read()
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        mode = zf.getinfo("bin/run.sh").external_attr >> 16
        link = zf.getinfo("current")
        assert stat.S_ISREG(mode) and mode & 0o111
        assert stat.S_ISLNK(link.external_attr >> 16) and zf.read(link) == b"bin"
        assert [n for n in zf.namelist() if n == ".mastra-admin/stamp.json"] == [".mastra-admin/stamp.json"]
        assert json.loads(zf.read(".mastra-admin/stamp.json"))["buildId"] == "bld_itest_modes"
    assert any("own .mastra-admin/ is replaced" in line for line in lines)
    assert not (job.workspace / "source.zip").exists()


# --- sources fetched in CodeBuild ----------------------------------------------------------------
# The runner gets the source spec, not a fetched tree; the fetch step of the buildspec is then run
# here as CodeBuild would run it: the bundle unpacked into CODEBUILD_SRC_DIR, the secret's values
# as the environment, the install phase's fetch command in bash.


@pytest.fixture(scope="module")
def git_remote(tmp_path_factory):
    """TINY as a git repository served over (dumb) HTTP, as a remote git host serves it."""
    import functools
    import subprocess
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    root = tmp_path_factory.mktemp("git-remote")
    work = root / "work"
    shutil.copytree(TINY, work)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "tiny"]):
        subprocess.run([*git, *args], cwd=work, check=True)
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=work, check=True, capture_output=True, text=True).stdout
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(root / "served" / "tiny.git")], check=True)
    subprocess.run(["git", "update-server-info"], cwd=root / "served" / "tiny.git", check=True)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root / "served")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_address[1]}/tiny.git", sha=sha.strip())
    server.shutdown()
    server.server_close()


def remote_job(tmp_path: Path, build_id: str, source: dict, **env: str) -> BuildJob:
    return BuildJob(build_id=build_id, team_id="team_1", project_id="prj_1", deployment_id="dep_1",
                    environment="production", commit=None, workspace=tmp_path / build_id / "attempt-1", env=env,
                    artifact_bucket=BUCKET, artifact_key=artifact_key(build_id), remote_source=source)


def start_remote(runner, clients, requests_seen, tmp_path, build_id, source, **env):
    """Run the job; returns the StartBuild parameters and the secret's values (as CodeBuild resolves them)."""
    (tmp_path / build_id / "attempt-1").mkdir(parents=True)
    outcome = runner.run(remote_job(tmp_path, build_id, source, **env), lambda _: None, threading.Event())
    assert outcome.status == "started", outcome.reason
    [(_, params)] = [r for r in requests_seen if r[0] == "StartBuild"]
    overrides = {v["name"]: v for v in params["environmentVariablesOverride"]}
    secret_id = overrides["MASTRA_ADMIN_SECRET_ID"]["value"]
    values = json.loads(clients.secretsmanager.get_secret_value(SecretId=secret_id)["SecretString"])
    return params, overrides, values


def run_fetch_step(clients, params, values, build_dir: Path):
    """The install phase's fetch command in bash, in CODEBUILD_SRC_DIR holding the uploaded bundle."""
    import os
    import subprocess

    body = clients.s3.get_object(Bucket=BUCKET, Key=params["sourceLocationOverride"].split("/", 1)[1])["Body"]
    with zipfile.ZipFile(io.BytesIO(body.read())) as zf:
        zf.extractall(build_dir)
    fetch = json.loads(params["buildspecOverride"])["phases"]["install"]["commands"][1]
    env = {"PATH": os.environ["PATH"], "CODEBUILD_SRC_DIR": str(build_dir), **values}
    return subprocess.run(["bash", "-c", fetch], cwd=build_dir, env=env, capture_output=True, text=True, timeout=120)


def test_a_git_source_is_fetched_by_codebuild_from_the_spec_in_the_builds_secret(
        runner, clients, tmp_path, requests_seen, git_remote):
    from chalicelib.runners.codebuild_fetch import COMMIT_MARK

    source = {"type": "git", "url": git_remote.url, "ref": "main"}
    params, overrides, values = start_remote(runner, clients, requests_seen, tmp_path, "bld_itest_git", source,
                                             API_TOKEN=SECRET_VALUE)
    secret_id = overrides["MASTRA_ADMIN_SECRET_ID"]["value"]
    assert overrides["MASTRA_ADMIN_SOURCE"] == {"name": "MASTRA_ADMIN_SOURCE", "type": "SECRETS_MANAGER",
                                                "value": f"{secret_id}:MASTRA_ADMIN_SOURCE"}
    assert json.loads(values["MASTRA_ADMIN_SOURCE"]) == source
    assert git_remote.url not in json.dumps(params)  # a URL may hold credentials: only in the secret
    spec = json.loads(params["buildspecOverride"])
    assert spec["phases"]["install"]["commands"][1:] == [
        'PYTHONPATH="$CODEBUILD_SRC_DIR"/.mastra-admin/py python3 -m chalicelib.runners.codebuild_fetch',
        "unset MASTRA_ADMIN_SOURCE", 'bash "$CODEBUILD_SRC_DIR"/.mastra-admin/install.sh']
    assert spec["phases"]["build"]["commands"] == ['bash "$CODEBUILD_SRC_DIR"/.mastra-admin/build.sh']

    build_dir = tmp_path / "codebuild-src"
    done = run_fetch_step(clients, params, values, build_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (build_dir / "package.json").read_bytes() == (TINY / "package.json").read_bytes()
    assert not (build_dir / ".git").exists()
    assert json.loads((build_dir / ".mastra-admin" / "stamp.json").read_text())["commit"] == git_remote.sha
    assert f"{COMMIT_MARK}{git_remote.sha}" in done.stdout.splitlines()
    assert "npm ci --no-audit --no-fund" in (build_dir / ".mastra-admin" / "install.sh").read_text()
    build_script = (build_dir / ".mastra-admin" / "build.sh").read_text()
    assert "npm run build" in build_script and ".mastra-admin/injection/inject.mjs" in build_script
    assert "package manager: npm (from package-lock.json)" in done.stdout


def test_a_github_source_is_fetched_by_codebuild_with_the_token_from_the_secret(
        runner, clients, tmp_path, requests_seen, github):
    from tests.conftest import GITHUB_TOKEN

    sha = github.publish("acme/tiny", "main", TINY)
    source = {"type": "github", "repo": "acme/tiny", "ref": "main", "token": GITHUB_TOKEN, "apiUrl": github.url}
    params, _, values = start_remote(runner, clients, requests_seen, tmp_path, "bld_itest_gh", source)
    assert GITHUB_TOKEN not in json.dumps(params)
    build_dir = tmp_path / "codebuild-src"
    done = run_fetch_step(clients, params, values, build_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (build_dir / "server.js").exists()
    assert json.loads((build_dir / ".mastra-admin" / "stamp.json").read_text())["commit"] == sha
    assert GITHUB_TOKEN not in done.stdout + done.stderr


def test_a_source_codebuild_cannot_fetch_fails_the_install_phase_with_its_reason(
        runner, clients, tmp_path, requests_seen, git_remote):
    from chalicelib.runners.codebuild_fetch import FAILURE_MARK

    source = {"type": "git", "url": git_remote.url.replace("tiny.git", "gone.git"), "ref": "main"}
    params, _, values = start_remote(runner, clients, requests_seen, tmp_path, "bld_itest_gone", source)
    build_dir = tmp_path / "codebuild-src"
    done = run_fetch_step(clients, params, values, build_dir)
    assert done.returncode == 1
    assert done.stdout.splitlines()[-1] == f"{FAILURE_MARK}git clone failed (exit 128)"
    assert sorted(p.name for p in build_dir.iterdir()) == [".mastra-admin"]
    assert not (build_dir / ".mastra-admin" / "install.sh").exists()  # the next command fails too
