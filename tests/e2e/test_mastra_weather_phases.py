"""End to end: build the mastra-weather example, inject observability, run it, read its JSONL.

Runs the same phases as a real build and deploy, in an isolated copy of the example:
npm ci -> mastra build -> inject.mjs -> `node mastra-admin-entry.mjs` -> one agent call -> SIGTERM.
Needs the npm registry (npm ci, mastra build's own install, Node 22 on first use). Phase timings
are printed (run with -s to see them) and written to <tmp>/timings.json.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from chalicelib.runners.injection import ENTRY_NAME, inject_command, read_manifest
from chalicelib.runners.node_toolchain import ensure_node

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "mastra-weather"
SCHEMA_FILE = REPO / "chalicelib" / "contracts" / "observability-record.v1.schema.json"
PLANTED = "sk-weather-PLANTED-5f0c1d9e7a"
STAMP = {
    "teamId": "team_e2e",
    "projectId": "proj_e2e",
    "deploymentId": "dep_e2e",
    "buildId": "bld_e2e",
    "commit": "0123456789abcdef0123456789abcdef01234567",
    "environment": "preview",
    "serviceName": "mastra-weather",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _phase(timings: dict, name: str, argv: list[str], cwd: Path, env: dict, timeout: int) -> None:
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    timings[name] = round(time.monotonic() - started, 1)
    assert proc.returncode == 0, f"{name} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


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


def _wait_for(predicate, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


@pytest.mark.timeout(900)
@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_build_inject_run_and_read_observability(tmp_path):
    timings: dict[str, float] = {}
    project = tmp_path / "mastra-weather"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("node_modules", ".mastra", ".git"))

    started = time.monotonic()
    node_bin = ensure_node(Path(os.environ.get("MA_NODE_CACHE") or REPO / ".cache" / "node22"))
    timings["ensure_node"] = round(time.monotonic() - started, 1)
    env = {
        **os.environ,
        "PATH": f"{node_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "MASTRA_TELEMETRY_DISABLED": "1",
        "npm_config_update_notifier": "false",
        "npm_config_fund": "false",
        "npm_config_audit": "false",
    }
    env.pop("WEATHER_API_KEY", None)

    _phase(timings, "npm_ci", ["npm", "ci", "--no-audit", "--no-fund"], project, env, 600)
    _phase(timings, "mastra_build", ["npx", "--no-install", "mastra", "build"], project, env, 600)
    output = project / ".mastra" / "output"
    stamp_file = tmp_path / "stamp.json"
    stamp_file.write_text(json.dumps(STAMP))
    _phase(timings, "inject", inject_command(node_bin, project, output, stamp_file), project, env, 300)

    manifest = read_manifest(output)
    assert manifest["mastra"] is True and manifest["start"] == ["node", ENTRY_NAME]
    assert manifest["stamp"] == STAMP

    port = _free_port()
    server_env = {**env, "PORT": str(port), "WEATHER_API_KEY": PLANTED, "NODE_ENV": "production"}
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

        assert _wait_for(healthy, 60), "no /health within 60 s"
        timings["server_start_to_health"] = round(time.monotonic() - started, 1)

        started = time.monotonic()
        status, answer = _http("POST", f"http://127.0.0.1:{port}/api/agents/weatherAgent/generate",
                               {"messages": [{"role": "user", "content": "Weather in Paris?"}]})
        timings["agent_call"] = round(time.monotonic() - started, 2)
        assert status == 200
        assert "18°C" in answer["text"] and "Paris" in answer["text"]

        # Spans are exported when they end, just after the response: wait for the root span.
        assert _wait_for(lambda: any(r["spanType"] == "agent_run" for r in _records(obs, "spans")), 15)
        assert (obs / "spans" / "current.jsonl").stat().st_size > 0, "rotation waits 30 s by default"

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
    lines = 0
    for path in closed_files:
        text = path.read_text()
        assert text.endswith("\n"), f"{path} ends with a half line"
        for line in text.splitlines():
            record = json.loads(line)
            errors = [e.message for e in validator.iter_errors(record)]
            assert not errors, f"{path.name}: {errors}"
            lines += 1

    spans = _records(obs, "spans")
    by_type: dict[str, list[dict]] = {}
    for span in spans:
        by_type.setdefault(span["spanType"], []).append(span)
        for key, value in STAMP.items():
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
    assert logs and all(all(log[k] == v for k, v in STAMP.items()) for log in logs)
    fetching = [log for log in logs if log["message"] == "fetching weather"]
    assert len(fetching) == 1, "one logger call, one record (no duplicate from Mastra's log export)"
    assert fetching[0]["attributes"]["token"] == "[REDACTED]"
    assert fetching[0]["traceId"] == root["traceId"], "logger calls inside a run carry its trace id"

    metrics = _records(obs, "metrics")
    assert any(m["name"] == "mastra_model_total_input_tokens" and m["value"] == 40 for m in metrics)

    timings["observability_lines"] = lines
    (tmp_path / "timings.json").write_text(json.dumps(timings, indent=2))
    print("\nmastra-weather phases:", json.dumps(timings))
