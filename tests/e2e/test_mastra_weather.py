"""End to end: the mastra-weather example built by the real stack, then run, then its JSONL read.

The build goes through the API, the build queue, the worker and the local runner (npm ci ->
mastra build -> inject -> pack to S3), exactly as a user's would. The test then unpacks the
artifact from S3 into a directory of its own, starts it as the deploy runner will
(`mastra-admin.json` says how), calls the agent, and checks the observability files it wrote.
Needs the npm registry (npm ci and mastra build's own install).
"""
from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import time
import urllib.request
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from chalicelib.runners.injection import ENTRY_NAME, INJECTION_DIR, read_manifest
from chalicelib.runners.node_toolchain import ensure_node
from tests.e2e.trace_api import assert_shipped_spans_reach_the_trace_api, listed_trace_ids
from tests.support.builds import log_lines, start_build, wait_build
from tests.support.local_aws import free_port
from tests.support.waiting import wait_for
from tests.support.weather import QUESTION, build_weather, weather_deployment

REPO = Path(__file__).resolve().parents[2]
SCHEMA_FILE = REPO / "chalicelib" / "contracts" / "observability-record.v1.schema.json"
PLANTED = "sk-weather-PLANTED-5f0c1d9e7a"
BUILT: dict = {}  # the build of the first test (a succeeded build is deployed by itself)


def _http(method: str, url: str, body: dict | None = None, timeout: float = 30) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.status, json.loads(resp.read() or b"null")


def _records(obs_dir: Path, kind: str) -> list[dict]:
    out = []
    for path in sorted((obs_dir / kind).rglob("*.jsonl")):
        out.extend(json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return out


@pytest.mark.timeout(1200)
@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_the_example_builds_runs_and_writes_stamped_redacted_observability(stack, tmp_path):
    timings: dict[str, float] = {}
    owner = stack.session(stack.owner_key)
    team = owner.get(stack.url("/teams")).json()["items"][0]["id"]
    project, deployment, source = weather_deployment(stack, owner, team, tmp_path)

    started = time.monotonic()
    build = wait_build(stack, owner, start_build(stack, owner, deployment)["id"], timeout=900)
    timings["build"] = round(time.monotonic() - started, 1)
    BUILT.update(project=project, deployment=deployment, build=build, team=team)  # the deploy test reuses it
    assert build["status"] == "succeeded", (build, log_lines(stack, owner, build["id"])[-40:])
    lines = log_lines(stack, owner, build["id"])
    assert any("==> build: npx --no-install mastra build" in line for line in lines)
    assert not (source / "node_modules").exists() and not (source / ".mastra").exists(), "built in place"
    stamp = {"teamId": team, "projectId": project, "deploymentId": deployment, "buildId": build["id"],
             "commit": None, "environment": "production"}

    output = tmp_path / "server"
    output.mkdir()
    body = stack.aws("s3").get_object(Bucket="mastra-admin-local-123456789012-artifacts", Key=build["artifactKey"])["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        tar.extractall(output, filter="tar")
    manifest = read_manifest(output)
    assert manifest["mastra"] is True and manifest["start"] == ["node", ENTRY_NAME]
    assert {k: manifest["stamp"][k] for k in stamp} == stamp
    locked = json.loads((INJECTION_DIR / "package-lock.json").read_text())["packages"]["node_modules/@mastra/observability"]
    assert manifest["observability"] == {"package": "@mastra/observability", "version": locked["version"],
                                         "source": "lockfile"}, "copied from the npm ci of the injection's lockfile"

    node_bin = ensure_node(Path(os.environ.get("MA_NODE_CACHE") or REPO / ".cache" / "node22"))
    env = {**os.environ, "PATH": f"{node_bin}{os.pathsep}{os.environ.get('PATH', '')}",
           "MASTRA_TELEMETRY_DISABLED": "1"}
    port = free_port()
    # Rotation far off: this test reads current.jsonl, then checks that SIGTERM closes it.
    server_env = {**env, "PORT": str(port), "WEATHER_API_KEY": PLANTED, "NODE_ENV": "production",
                  "MASTRA_ADMIN_ROTATE_SECONDS": "600"}
    server_env.pop("MASTRA_ADMIN_OBSERVABILITY_DIR", None)
    log_file = (tmp_path / "server.log").open("w")
    started = time.monotonic()
    server = subprocess.Popen(
        [str(node_bin / "node"), *manifest["start"][1:]], cwd=output, env=server_env,
        stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
    )
    obs = output / "observability"
    try:
        def healthy():
            if server.poll() is not None:
                raise AssertionError(f"server exited {server.returncode}: {(tmp_path / 'server.log').read_text()[-3000:]}")
            try:
                return _http("GET", f"http://127.0.0.1:{port}/health", timeout=2) == (200, {"success": True})
            except OSError:
                return False

        wait_for(healthy, 60, what="/health answering")
        timings["server_start_to_health"] = round(time.monotonic() - started, 1)

        started = time.monotonic()
        status, answer = _http("POST", f"http://127.0.0.1:{port}/api/agents/weatherAgent/generate",
                               {"messages": [{"role": "user", "content": "Weather in Paris?"}]})
        timings["agent_call"] = round(time.monotonic() - started, 2)
        assert status == 200
        assert "18°C" in answer["text"] and "Paris" in answer["text"]

        # Spans are exported when they end, just after the response: wait for the root span.
        wait_for(lambda: any(r["spanType"] == "agent_run" for r in _records(obs, "spans")), 15, what="an agent_run span")
        assert (obs / "spans" / "current.jsonl").stat().st_size > 0, "not rotated yet (600 s)"

        started = time.monotonic()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        timings["sigterm_to_exit"] = round(time.monotonic() - started, 2)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log_file.close()

    # After SIGTERM every current file was rotated into closed/.
    for kind in ("spans", "logs", "metrics", "scores"):
        current = obs / kind / "current.jsonl"
        assert not current.exists() or current.stat().st_size == 0, f"{kind}/current.jsonl was not rotated"
    closed_files = list(obs.glob("*/closed/*.jsonl"))
    assert {p.parent.parent.name for p in closed_files} >= {"spans", "logs", "metrics"}

    # The planted secret is nowhere in any observability file (it is in the tool-call args and
    # in the tool's log line).
    for path in obs.rglob("*"):
        if path.is_file():
            assert PLANTED not in path.read_text(errors="replace"), f"secret leaked into {path}"

    validator = Draft202012Validator(json.loads(SCHEMA_FILE.read_text()),
                                     format_checker=Draft202012Validator.FORMAT_CHECKER)
    count = 0
    for path in closed_files:
        text = path.read_text()
        assert text.endswith("\n"), f"{path} ends with a half line"
        for line in text.splitlines():
            record = json.loads(line)
            errors = [e.message for e in validator.iter_errors(record)]
            assert not errors, f"{path.name}: {errors}"
            count += 1

    spans = _records(obs, "spans")
    by_type: dict[str, list[dict]] = {}
    for span in spans:
        by_type.setdefault(span["spanType"], []).append(span)
        for key, value in stamp.items():
            assert span[key] == value, (key, span[key])
        assert span["recordId"] == f"{span['traceId']}:{span['spanId']}"
    assert {"agent_run", "model_generation", "tool_call"} <= set(by_type), sorted(by_type)
    gen = by_type["model_generation"][0]
    assert gen["model"] == "gpt-4o-mini" and gen["provider"] == "openai"
    assert gen["inputTokens"] == 40 and gen["outputTokens"] == 20 and gen["totalTokens"] == 60  # 2 steps x (20, 10)
    tool = by_type["tool_call"][0]
    assert json.loads(tool["input"])["apiKey"] == "[REDACTED]"
    assert len({s["traceId"] for s in by_type["agent_run"]}) == 1
    root = by_type["agent_run"][0]
    assert root["isRoot"] is True and all(s["traceId"] == root["traceId"] for s in spans)

    logs = _records(obs, "logs")
    assert logs and all(all(log[k] == v for k, v in stamp.items()) for log in logs)
    fetching = [log for log in logs if log["message"] == "fetching weather"]
    assert len(fetching) == 1, "one logger call, one record (no duplicate from Mastra's log export)"
    assert fetching[0]["attributes"]["token"] == "[REDACTED]"
    assert fetching[0]["traceId"] == root["traceId"], "logger calls inside a run carry its trace id"

    metrics = _records(obs, "metrics")
    assert any(m["name"] == "mastra_model_total_input_tokens" and m["value"] == 40 for m in metrics)

    # Shipped to S3, ingested by the stack's own pipeline, served by the trace API.
    assert_shipped_spans_reach_the_trace_api(stack, owner, team, project, deployment, obs, spans, timings)

    timings["observability_lines"] = count
    (tmp_path / "timings.json").write_text(json.dumps(timings, indent=2))
    print("\nmastra-weather phases:", json.dumps(timings))


@pytest.mark.timeout(1200)
@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_the_example_deploys_and_its_agent_answers_through_the_router(stack, tmp_path):
    from tests.support.deploys import via_host, via_path, wait_deploy_of_build

    owner = stack.session(stack.owner_key)
    if not BUILT:  # run alone: build it here
        team = owner.get(stack.url("/teams")).json()["items"][0]["id"]
        project, deployment, build = build_weather(stack, owner, team, tmp_path)
        BUILT.update(project=project, deployment=deployment, build=build, team=team)
    deployment_id, build = BUILT["deployment"], BUILT["build"]
    assert owner.put(stack.url(f"/projects/{BUILT['project']}/env/WEATHER_API_KEY"),
                     json={"value": PLANTED}).status_code == 200

    timings: dict[str, float] = {}
    started = time.monotonic()
    deploy = wait_deploy_of_build(stack, owner, deployment_id, build["id"], timeout=300)
    timings["build_to_deployed"] = round(time.monotonic() - started, 1)
    assert deploy["status"] == "succeeded", deploy
    deployment = owner.get(stack.url(f"/deployments/{deployment_id}")).json()
    assert deployment["status"] == "running" and deployment["currentBuildId"] == build["id"]

    # The variable set after the first deploy reaches the server with a redeploy (no rebuild).
    r = owner.post(stack.url(f"/deployments/{deployment_id}/redeploy"), json={})
    assert r.status_code == 202, r.text
    from tests.support.deploys import wait_deploy

    started = time.monotonic()
    redeploy = wait_deploy(stack, owner, r.json()["id"], timeout=300)
    timings["redeploy"] = round(time.monotonic() - started, 1)
    assert redeploy["status"] == "succeeded", redeploy
    deployment = owner.get(stack.url(f"/deployments/{deployment_id}")).json()

    r = via_host(stack, deployment["slug"], "/health")
    assert r.status_code == 200 and r.json() == {"success": True}
    before = listed_trace_ids(stack, owner, BUILT["project"])
    started = time.monotonic()
    r = via_path(stack, deployment["slug"], "/api/agents/weatherAgent/generate", method="POST",
                 json=QUESTION, timeout=60)
    timings["agent_call_via_router"] = round(time.monotonic() - started, 2)
    assert r.status_code == 200, r.text[:500]
    assert "18°C" in r.json()["text"] and "Paris" in r.json()["text"]

    # The running server's spans reach the trace API by themselves: the writer closes its file, the
    # stack ships it, the ingest pump takes it (no stop needed; bench/freshness.py times this).
    listed = wait_for(lambda: [i for i in owner.get(stack.url(f"/projects/{BUILT['project']}/traces")).json()["items"]
                               if i["traceId"] not in before] or None, 120, what="the agent call's trace listed")
    assert [(i["spanType"], i["deploymentId"], i["status"]) for i in listed] == [("agent_run", deployment_id, "ok")]
    timings["answer_to_trace_listed"] = round(time.monotonic() - started, 1)

    server_id = deployment["serverId"]
    lines = wait_for(lambda: owner.get(stack.url(f"/servers/{server_id}/logs"), params={"tail": 200}).json()["lines"],
                     10, what="server log lines")
    assert lines, "the server's output is readable"
    assert not any(PLANTED in line for line in lines), "the logger tap redacts the planted secret"

    # Stopping ships the server's observability files to S3 under the ingest worker's prefix.
    r = owner.post(stack.url(f"/deployments/{deployment_id}/stop"))
    assert wait_deploy(stack, owner, r.json()["id"], timeout=120)["status"] == "succeeded"
    prefix = f"observability/spans/{BUILT['team']}/{BUILT['project']}/{deployment_id}/"
    keys = [o["Key"] for o in stack.aws("s3").list_objects_v2(
        Bucket="mastra-admin-local-123456789012-artifacts", Prefix=prefix).get("Contents", [])]
    assert keys and all(k.endswith(".jsonl") for k in keys), keys
    print("\nmastra-weather deploy:", json.dumps(timings))
