"""An ECS server's command, run here with Node 22 against moto S3: fetch, start, ship, stop.

What the container does in Fargate, minus the container: the task definition's own command (the
public Node image runs nothing of ours) fetches the boot script the runner uploaded, checks its
digest and imports it; the artifact comes from a presigned URL,
the server starts from mastra-admin.json without the AWS_* environment, closed observability files
go to S3 under the ingest prefix (SigV4), and SIGTERM ships the leftovers before the exit.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
from pathlib import Path

import boto3
import psutil
import requests

from chalicelib.runners.ecs_deploy import EcsDeployRunner
from chalicelib.settings import Settings
from chalicelib.runners.node_toolchain import ensure_node
from tests.support.builds import ROOT, TINY
from tests.support.local_aws import free_port
from tests.support.waiting import wait_for


def _artifact(tmp_path: Path) -> bytes:
    app = tmp_path / "built"
    shutil.copytree(TINY, app)
    (app / "dist").mkdir()
    (app / "dist" / "build.json").write_text(json.dumps({"buildId": "bld_boot"}))
    (app / "mastra-admin.json").write_text(json.dumps(
        {"contract": 1, "start": ["node", "server.js"], "mastra": False, "stamp": {}}))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for entry in sorted(app.iterdir()):
            tar.add(entry, arcname=entry.name)
    return buf.getvalue()


def _spec():
    from chalicelib.runners.deploy_port import ServerSpec

    return ServerSpec(
        server_id="srv_boot", deploy_id="dpl_boot", deployment_id="dep_x", project_id="prj_x", team_id="team_x",
        build_id="bld_boot", slug="boot", environment="production", commit="abc1234",
        artifact_bucket="artifacts", artifact_key="artifacts/bld_boot.tgz", artifact_sha256=None, env={})


def test_the_task_command_fetches_the_boot_script_which_fetches_starts_ships_and_stops(moto_url, tmp_path):
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    s3.create_bucket(Bucket="artifacts")
    body = _artifact(tmp_path)
    s3.put_object(Bucket="artifacts", Key="artifacts/bld_boot.tgz", Body=body)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "artifacts", "Key": "artifacts/bld_boot.tgz"})
    runner = EcsDeployRunner(Settings(stage="test"), s3=s3)
    boot_url = runner._boot_url("artifacts")  # what start() hands the task, with the artifact's URL
    container = runner.task_definition(_spec())["containerDefinitions"][0]
    assert container["image"].startswith("public.ecr.aws/docker/library/node:22")
    command = container["command"]
    node = ensure_node(Path(os.environ.get("MA_NODE_CACHE") or ROOT / ".cache" / "node22")) / "node"
    port = free_port()
    app = tmp_path / "srv" / "app"
    env = {
        "PATH": os.environ["PATH"], "HOME": str(tmp_path), "PORT": str(port),
        "MASTRA_ADMIN_APP_DIR": str(app), "MASTRA_ADMIN_ARTIFACT_URL": url, "MASTRA_ADMIN_BOOT_URL": boot_url,
        "MASTRA_ADMIN_BOOT_SHA256": runner.boot_script[1],
        "MASTRA_ADMIN_ARTIFACT_SHA256": hashlib.sha256(body).hexdigest(),
        "MASTRA_ADMIN_OBSERVABILITY_BUCKET": "artifacts", "MASTRA_ADMIN_S3_ENDPOINT": moto_url,
        "MASTRA_ADMIN_TEAM_ID": "team_x", "MASTRA_ADMIN_PROJECT_ID": "prj_x", "MASTRA_ADMIN_DEPLOYMENT_ID": "dep_x",
        "MASTRA_ADMIN_SHIP_SECONDS": "0.5", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1", "GREETING": "hi",
    }
    log = open(tmp_path / "boot.log", "w")
    assert command[0] == "node"
    boot = subprocess.Popen([str(node), *command[1:]], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        def answers():
            try:
                return requests.get(f"http://127.0.0.1:{port}/x", timeout=1).json()
            except requests.RequestException:
                assert boot.poll() is None, (tmp_path / "boot.log").read_text()
                return None

        assert wait_for(answers, 20, what="the server") == {"buildId": "bld_boot", "path": "/x"}
        child = psutil.Process(boot.pid).children()[0]
        child_env = child.environ()
        assert child_env["GREETING"] == "hi" and child_env["PORT"] == str(port)
        assert not [k for k in child_env if k.startswith("AWS_")]
        assert "MASTRA_ADMIN_ARTIFACT_URL" not in child_env and "MASTRA_ADMIN_BOOT_URL" not in child_env

        closed = app / "observability" / "spans" / "closed"
        closed.mkdir(parents=True)
        (closed / "20261123T120000Z_a.jsonl").write_text('{"n":1}\n')
        key = "observability/spans/team_x/prj_x/dep_x/20261123T120000Z_a.jsonl"
        wait_for(lambda: s3.list_objects_v2(Bucket="artifacts", Prefix=key).get("KeyCount"), 10, what="shipped")
        assert s3.get_object(Bucket="artifacts", Key=key)["Body"].read() == b'{"n":1}\n'

        (app / "observability" / "logs").mkdir()
        (app / "observability" / "logs" / "current.jsonl").write_text('{"n":1}\n{"half')
        os.kill(boot.pid, signal.SIGTERM)
        boot.wait(timeout=20)
        logs = s3.list_objects_v2(Bucket="artifacts", Prefix="observability/logs/team_x/prj_x/dep_x/")["Contents"]
        assert len(logs) == 1
        assert s3.get_object(Bucket="artifacts", Key=logs[0]["Key"])["Body"].read() == b'{"n":1}\n'
    finally:
        if boot.poll() is None:
            os.killpg(boot.pid, signal.SIGKILL)
            boot.wait()
        log.close()
