"""The `mastra-admin` CLI, run as a real command against one local stack: every call goes through the
public REST API and the WebSocket API (tickets), exactly as a team's terminal does."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from tests.support.builds import copy_tiny
from tests.support.deploys import DEPLOY_ENV, kill_servers, via_path
from tests.support.observability_stack import ingest_one_trace
from tests.support.stack import ROOT, start_stack, stop_stack
from tests.support.waiting import wait_for

SECRET = "cli-planted-secret-4f1e"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    home = tmp_path_factory.mktemp("ma-cli")
    s = start_stack(home, DEPLOY_ENV)
    try:
        yield s
    finally:
        stop_stack(s)
        kill_servers(home)


@pytest.fixture(scope="module")
def config_home(tmp_path_factory):
    return tmp_path_factory.mktemp("cli-config")


def _env(stack, config_home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTRA_ADMIN_")}
    return env | {"XDG_CONFIG_HOME": str(config_home), "MASTRA_ADMIN_API_URL": stack.api_url,
                  "PYTHONUNBUFFERED": "1"} | extra


def cli(stack, config_home: Path, *args: str, stdin: str | None = None, timeout: float = 120,
        **env: str) -> subprocess.CompletedProcess:
    """`mastra-admin ARGS` (the console script's module) as a subprocess."""
    return subprocess.run([sys.executable, "-m", "chalicelib.cli", *args], input=stdin, capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT, env=_env(stack, config_home, **env))


def ok_json(result: subprocess.CompletedProcess):
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class Follow:
    """A long-running CLI command (`logs --follow`) whose stdout lines are collected as they come."""

    def __init__(self, stack, config_home: Path, *args: str, **env: str):
        self.proc = subprocess.Popen([sys.executable, "-m", "chalicelib.cli", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True,
                                     env=_env(stack, config_home, **env))
        self.lines: list[dict] = []
        self.stderr = ""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(json.loads(line))

    def stop(self) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)  # Ctrl-C
        try:
            code = self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            code = self.proc.wait()
        self.stderr = self.proc.stderr.read()
        return code


@pytest.fixture(scope="module")
def logged_in(stack, config_home):
    result = cli(stack, config_home, "login", "--json", stdin=stack.owner_key + "\n")
    assert ok_json(result)["apiUrl"] == stack.api_url
    path = config_home / "mastra-admin" / "config.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text())["token"] == stack.owner_key
    return config_home


@pytest.fixture(scope="module")
def deployed(stack, logged_in, tmp_path_factory):
    """A project created from a local path, deployed twice with `deploy` (two builds, for rollback)."""
    src = copy_tiny(tmp_path_factory.mktemp("cli-src") / "tiny")
    project = ok_json(cli(stack, logged_in, "projects", "create", "tiny-cli", "--path", str(src),
                          "--deployment", "production", "--json"))
    assert project["source"] == {"type": "local", "path": str(src)}
    deployment = project["deployment"]["id"]
    r = cli(stack, logged_in, "env", "set", project["id"], stdin=f"# the build prints it\nTINY_SECRET={SECRET}\n")
    assert r.returncode == 0, r.stderr
    first = cli(stack, logged_in, "deploy", deployment, "--json", timeout=240)
    assert first.returncode == 0, first.stdout + first.stderr
    second = cli(stack, logged_in, "deploy", deployment, timeout=240)
    assert second.returncode == 0, second.stdout + second.stderr
    return {"project": project["id"], "deployment": deployment, "first": jsonl(first.stdout),
            "second": second.stdout}


def test_a_bad_key_is_refused_with_the_apis_message_and_exit_code_3(stack, tmp_path):
    key = stack.owner_key
    wrong = key[:-1] + ("A" if key[-1] != "A" else "B")  # well formed, but no such key
    bad = cli(stack, tmp_path, "teams", "list", MASTRA_ADMIN_TOKEN=wrong)
    assert bad.returncode == 3
    assert "Invalid or revoked API key (invalid_token)" in bad.stderr, bad.stderr
    assert "Traceback" not in bad.stderr + bad.stdout
    as_json = cli(stack, tmp_path, "teams", "list", "--json", MASTRA_ADMIN_TOKEN=wrong)
    assert as_json.returncode == 3 and json.loads(as_json.stdout)["error"]["status"] == 401
    login = cli(stack, tmp_path, "login", "--token", wrong)
    assert login.returncode == 3 and not (tmp_path / "mastra-admin" / "config.json").exists()
    nobody = cli(stack, tmp_path, "teams", "list")
    assert nobody.returncode == 3 and "mastra-admin login" in nobody.stderr


def test_deploy_follows_the_build_live_and_ends_with_the_url_that_serves_it(stack, deployed):
    events = deployed["first"]
    logs = [e for e in events if e["event"] == "log"]
    assert [e["offset"] for e in logs] == list(range(len(logs))), "every build line once, in order"
    assert any("build line 20 of 20" in e["line"] for e in logs)
    assert not any(SECRET in e["line"] for e in logs) and any("using secret ***" in e["line"] for e in logs)
    phases = [e["phase"] for e in events if e["event"] == "phase"]
    assert {"install", "build", "deploying"} <= set(phases)
    done = events[-1]
    assert done["event"] == "done" and done["status"] == "running" and done["url"].startswith("http://")
    slug = done["url"].split("//")[1].split(".")[0]
    second_build = deployed["second"].strip().splitlines()[-1]
    assert second_build.startswith(f"✓ {deployed['deployment']} serves build bld_") and done["url"] in second_build
    serving = via_path(stack, slug, "/api/hello").json()["buildId"]
    assert serving == second_build.split("serves build ")[1].split()[0] != done["buildId"]


def test_lists_and_env_answer_json_that_scripts_can_parse(stack, logged_in, deployed):
    projects = ok_json(cli(stack, logged_in, "projects", "list", "--json"))
    assert deployed["project"] in [p["id"] for p in projects]
    env = ok_json(cli(stack, logged_in, "env", "list", deployed["project"], "--json"))
    assert [(v["name"], SECRET in v["value"]) for v in env] == [("TINY_SECRET", False)]
    builds = ok_json(cli(stack, logged_in, "builds", "list", deployed["deployment"], "--json"))
    assert len(builds) == 2 and {b["status"] for b in builds} == {"succeeded"}
    table = cli(stack, logged_in, "builds", "list", deployed["deployment"])
    assert table.returncode == 0 and all(b["id"] in table.stdout for b in builds)
    missing = cli(stack, logged_in, "deployments", "show", "dep_00000000000000000000000000")
    assert missing.returncode == 4 and "(not_found)" in missing.stderr


def test_logs_follow_receives_a_new_server_line(stack, logged_in, deployed):
    deployment = ok_json(cli(stack, logged_in, "deployments", "show", deployed["deployment"], "--json"))
    follow = Follow(stack, logged_in, "logs", deployed["deployment"], "--follow", "--tail", "5", "--json")
    try:
        wait_for(lambda: follow.proc.poll() is not None or follow.lines, what="the tail printed")
        assert via_path(stack, deployment["slug"], "/api/after-follow").status_code == 200
        wait_for(lambda: any("GET /api/after-follow" in e["line"] for e in follow.lines),
                 what="the new server line followed")
    finally:
        assert follow.stop() == 130, follow.stderr


def test_rollback_serves_the_previous_build_and_traces_show_the_agent_call(stack, logged_in, deployed):
    builds = ok_json(cli(stack, logged_in, "builds", "list", deployed["deployment"], "--json"))
    previous = builds[1]["id"]  # newest first: the one before the current build
    done = ok_json(cli(stack, logged_in, "rollback", deployed["deployment"], "--json"))
    assert done["status"] == "succeeded" and done["buildId"] == previous
    assert done["deployment"]["currentBuildId"] == previous
    slug = done["deployment"]["slug"]
    wait_for(lambda: via_path(stack, slug, "/x").json()["buildId"] == previous, what="the rollback served")

    owner = stack.session(stack.owner_key)
    trace_id = ingest_one_trace(stack, owner, done["teamId"], deployed["project"], deployed["deployment"])
    listed = ok_json(cli(stack, logged_in, "traces", "list", deployed["project"], "--json"))
    assert trace_id in [t["traceId"] for t in listed]
    tree = cli(stack, logged_in, "traces", "show", deployed["project"], trace_id)
    assert tree.returncode == 0, tree.stderr
    assert "[agent_run]" in tree.stdout and "[model_generation]" in tree.stdout and "tok (" in tree.stdout
    assert " ms" in tree.stdout and "$" in tree.stdout
    usage = ok_json(cli(stack, logged_in, "usage", "--json", "--since", "1d"))
    assert any(row["projectId"] == deployed["project"] for row in usage["items"])
    metrics = cli(stack, logged_in, "metrics", deployed["project"], "--since", "2h")
    assert metrics.returncode == 0 and "requests" in metrics.stdout


class DroppingProxy:
    """A TCP proxy in front of the WebSocket gateway that can cut every open connection for real."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.open: list[socket.socket] = []
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.accepted += 1
            self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def drop_all(self) -> None:
        for s in self.open:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.open = []

    def close(self) -> None:
        self.drop_all()
        self.server.close()


def test_a_dropped_websocket_during_logs_follow_resumes_with_no_gap_or_duplicate(stack, logged_in, deployed):
    slug = ok_json(cli(stack, logged_in, "deployments", "show", deployed["deployment"], "--json"))["slug"]
    proxy = DroppingProxy(int(stack.env["MA_WS_PORT"]))
    follow = Follow(stack, logged_in, "logs", deployed["deployment"], "--follow", "--tail", "1", "--json",
                    MASTRA_ADMIN_WS_URL=f"ws://127.0.0.1:{proxy.port}")
    try:
        wait_for(lambda: proxy.accepted >= 1 and follow.lines, what="following through the proxy")
        session = requests.Session()
        for i in range(40):
            assert session.get(f"http://127.0.0.1:{stack.env['MA_ROUTER_PORT']}/d/{slug}/n/{i}").status_code == 200
            if i == 15:
                wait_for(lambda: any("GET /n/15" in e["line"] for e in follow.lines), what="line 15 streamed")
                proxy.drop_all()
        wait_for(lambda: any("GET /n/39" in e["line"] for e in follow.lines), timeout=60, what="line 39 followed")
        assert proxy.accepted >= 2, "the follow reconnected"
    finally:
        code = follow.stop()
        proxy.close()
    assert code == 130, follow.stderr
    assert "resuming" in follow.stderr
    offsets = [e["offset"] for e in follow.lines]
    assert offsets == list(range(offsets[0], offsets[0] + len(offsets))), "no gap, no duplicate"
    numbered = [int(e["line"].split("GET /n/")[1].split()[0]) for e in follow.lines if "GET /n/" in e["line"]]
    assert numbered == list(range(40))


GENERATED_CALLS = """
import json, sys
from mastra_admin_client import AuthenticatedClient
from mastra_admin_client.api.projects import create_project, get_project
from mastra_admin_client.api.teams import list_teams
from mastra_admin_client.models import Error, GithubSource, PageTeam, ProjectCreate, ProjectOut

client = AuthenticatedClient(base_url=sys.argv[1], token=sys.argv[2], raise_on_unexpected_status=True)
teams = list_teams.sync(client=client)
assert isinstance(teams, PageTeam), teams
created = create_project.sync(teams.items[0].id, client=client, body=ProjectCreate(
    name="from-generated", source=GithubSource(type_="github", repo="acme/generated")))
assert isinstance(created, ProjectOut), created
read = get_project.sync(created.id, client=client)
missing = get_project.sync("prj_00000000000000000000000000", client=client)
assert isinstance(missing, Error), missing
print(json.dumps({"team": teams.items[0].id, "created": created.id, "read": read.id, "name": read.name,
                  "createdAt": read.created_at.isoformat(), "missing": missing.error.code}))
"""


def test_a_client_generated_from_the_document_is_grouped_by_resource_and_calls_the_api(stack, tmp_path):
    """openapi-python-client, in a virtualenv of its own (`make openapi-client-venv`, hashed lock)."""
    from chalicelib.api.openapi import TAGS

    subprocess.run(["make", "-s", "openapi-client-venv"], cwd=ROOT, check=True, timeout=600)
    venv_bin = ROOT / ".cache" / "openapi-client-venv" / "bin"
    (tmp_path / "openapi.json").write_bytes(requests.get(stack.url("/openapi.json"), timeout=10).content)
    env = {**os.environ, "PATH": f"{venv_bin}:{os.environ['PATH']}"}
    generated = subprocess.run([venv_bin / "openapi-python-client", "generate", "--path", "openapi.json", "--meta", "none",
                                "--output-path", "mastra_admin_client"], cwd=tmp_path, env=env, capture_output=True,
                               text=True, timeout=120)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    groups = {p.name for p in (tmp_path / "mastra_admin_client" / "api").iterdir() if p.is_dir()}
    assert groups == set(TAGS), "one module per resource tag, no `default`"
    run = subprocess.run([venv_bin / "python", "-c", GENERATED_CALLS, stack.api_url, stack.owner_key], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    out = json.loads(run.stdout)
    assert out["read"] == out["created"] and out["name"] == "from-generated" and out["missing"] == "not_found"
    owner = stack.session(stack.owner_key)
    assert owner.get(stack.url(f"/projects/{out['created']}")).json()["source"]["repo"] == "acme/generated"


def test_the_api_reference_page_is_served_by_the_stack(stack):
    page = requests.get(stack.url("/docs"), timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="tag-observability"' in page.text and "/projects/{projectId}/traces/{traceId}" in page.text


def test_ctrl_c_detaches_from_a_deploy_and_cancel_on_interrupt_cancels_its_build(stack, logged_in, tmp_path):
    src = copy_tiny(tmp_path / "slow")
    project = ok_json(cli(stack, logged_in, "projects", "create", "slow-cli", "--path", str(src),
                          "--deployment", "production", "--json"))
    assert cli(stack, logged_in, "env", "set", project["id"], "BUILD_SLEEP_SECONDS=120").returncode == 0
    deployment = project["deployment"]["id"]
    build_of = lambda follow: next(e["buildId"] for e in follow.lines if e["event"] == "build")  # noqa: E731

    # "working 1" comes while the build still runs (it is `building` after the detach): a live line, which
    # only the WebSocket delivers (the REST catch-up runs once the build has ended).
    detached = Follow(stack, logged_in, "deploy", deployment, "--json")
    try:
        wait_for(lambda: any(e.get("line", "").endswith("working 1") for e in detached.lines), timeout=120,
                 what="the slow build phase followed")
    finally:
        assert detached.stop() == 130 and "detached" in detached.stderr
    build = build_of(detached)
    assert ok_json(cli(stack, logged_in, "builds", "show", build, "--json"))["status"] == "building"
    assert ok_json(cli(stack, logged_in, "builds", "cancel", build, "--json"))["id"] == build

    cancelling = Follow(stack, logged_in, "deploy", deployment, "--json", "--cancel-on-interrupt")
    try:
        wait_for(lambda: any(e.get("line", "").endswith("working 1") for e in cancelling.lines), timeout=120,
                 what="the second slow build followed")
    finally:
        assert cancelling.stop() == 130
    second = build_of(cancelling)
    wait_for(lambda: ok_json(cli(stack, logged_in, "builds", "show", second, "--json"))["status"] == "cancelled",
             what="the build cancelled by Ctrl-C")
