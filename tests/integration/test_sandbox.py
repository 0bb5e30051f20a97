"""Tenant code is sandboxed: escapes tried from inside a real build and a real deployed server.

A generated variant of the tiny fixture carries `probe.js`, which tries to read the environment of
the supervisor and the worker (/proc/<pid>/environ, and of every process it can see), to read
$MA_HOME/owner-key and $MA_HOME/moto/kms-keys.json, to connect to moto's port, the WebSocket
management port and the API on 127.0.0.1, and to use an SSH agent socket the stack was started
with. The build prints the results into its log; the server answers them on GET /probe, through the
router (which must still reach the sandboxed server). Every attempt must fail, while the package
registry stays reachable from the build. Skipped only where the sandbox cannot be had (not root,
bubblewrap or iptables missing: `make install-sandbox`).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess

import pytest

from tests.support.builds import copy_tiny, log_lines, start_build, tiny_deployment, wait_build
from tests.support.deploys import DEPLOY_ENV, kill_servers, server_processes, via_path, wait_deploy_of_build
from tests.support.stack import start_stack, stop_stack

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not (shutil.which("bwrap") and shutil.which("setpriv") and shutil.which("iptables")),
    reason="the sandbox needs root, bubblewrap and iptables (make install-sandbox)")

PROBE_JS = r"""
// Tries every way out of the sandbox it was given (PROBE_*), returns {attempt: {escaped, detail}}.
const fs = require("node:fs");
const net = require("node:net");

function connect(opts) {
  return new Promise((resolve) => {
    const s = net.connect(opts);
    const timer = setTimeout(() => { s.destroy(); resolve({ escaped: false, detail: "timeout" }); }, 3000);
    s.on("connect", () => { clearTimeout(timer); s.destroy(); resolve({ escaped: true, detail: "connected" }); });
    s.on("error", (e) => { clearTimeout(timer); resolve({ escaped: false, detail: e.code || String(e) }); });
  });
}
const list = (name) => (process.env[name] || "").split(",").filter(Boolean);
const CONTROL_PLANE = /(^|\0)(MA_[A-Z_]+|AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID)=/;

module.exports = async function probe() {
  const out = {};
  for (const pid of list("PROBE_PIDS")) {
    try {
      const text = fs.readFileSync(`/proc/${pid}/environ`, "utf8");
      out[`environ:${pid}`] = { escaped: CONTROL_PLANE.test(text), detail: `read ${text.length} bytes` };
    } catch (e) { out[`environ:${pid}`] = { escaped: false, detail: e.code }; }
  }
  const pids = fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  const leaking = pids.filter((d) => { try { return CONTROL_PLANE.test(fs.readFileSync(`/proc/${d}/environ`, "utf8")); } catch (e) { return false; } });
  out["environ:any"] = { escaped: leaking.length > 0, detail: `${pids.length} pids visible, leaking: ${leaking}` };
  out["processes"] = { escaped: pids.length > 10, detail: `${pids.length} pids visible` };
  for (const file of list("PROBE_FILES")) {
    try { fs.readFileSync(file); out[`read:${file}`] = { escaped: true, detail: "read" }; }
    catch (e) { out[`read:${file}`] = { escaped: false, detail: e.code }; }
  }
  for (const port of list("PROBE_PORTS")) out[`connect:${port}`] = await connect({ host: "127.0.0.1", port: Number(port) });
  if (process.env.PROBE_SOCK) out["ssh-agent:path"] = await connect({ path: process.env.PROBE_SOCK });
  out["ssh-agent:env"] = { escaped: Boolean(process.env.SSH_AUTH_SOCK), detail: String(process.env.SSH_AUTH_SOCK) };
  const cp = Object.keys(process.env).filter((k) => /^(MA_|AWS_)/.test(k) || k === "SSH_AUTH_SOCK");
  out["env:control-plane"] = { escaped: cp.length > 0, detail: cp.join(",") };
  out["uid"] = { escaped: process.getuid() === 0, detail: String(process.getuid()) };
  return out;
};
"""

BUILD_JS = r"""
const fs = require("node:fs");
require("./probe.js")().then(async (result) => {
  console.log("PROBE " + JSON.stringify(result));
  try { const r = await fetch("https://registry.npmjs.org/left-pad"); console.log(`REGISTRY ${r.status}`); }
  catch (e) { console.log(`REGISTRY ${e.cause ? e.cause.code : e}`); }
  fs.mkdirSync("dist", { recursive: true });
  fs.writeFileSync("dist/build.json", JSON.stringify({ buildId: process.env.MASTRA_ADMIN_BUILD_ID || null }));
});
"""

SERVER_JS = r"""
const http = require("node:http");
const probe = require("./probe.js");
http.createServer(async (req, res) => {
  res.setHeader("content-type", "application/json");
  if (req.url === "/probe") return res.end(JSON.stringify(await probe()));
  res.end(JSON.stringify({ success: true }));
}).listen(Number(process.env.PORT || 3000));
"""


@pytest.fixture(scope="module")
def agent_socket(tmp_path_factory):
    """A listening unix socket standing in for the operator's SSH agent."""
    path = tmp_path_factory.mktemp("agent") / "agent.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.listen(8)
    try:
        yield path
    finally:
        sock.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, agent_socket):
    home = tmp_path_factory.mktemp("ma-sandbox")
    s = start_stack(home, {**DEPLOY_ENV, "MA_SANDBOX": "required", "SSH_AUTH_SOCK": str(agent_socket)})
    try:
        yield s
    finally:
        stop_stack(s)
        left = server_processes(home)
        kill_servers(home)
        assert left == [], f"deployed servers outlived the stack: {left}"
        assert f"mastra-admin-sandbox:{s.proc.pid}" not in _rules(), "the stack's loopback rule outlived it"


@pytest.fixture(scope="module")
def owner(stack):
    return stack.session(stack.owner_key)


@pytest.fixture(scope="module")
def team(stack, owner):
    return owner.get(stack.url("/teams")).json()["items"][0]["id"]


def _rules() -> str:
    return subprocess.run(["iptables", "-w", "5", "-S", "OUTPUT"], capture_output=True, text=True).stdout


def _probe_env(stack, agent_socket) -> dict[str, str]:
    worker_pid = (stack.home / "worker.pid").read_text().strip()
    return {
        "PROBE_PIDS": f"{stack.proc.pid},{worker_pid},1",
        "PROBE_FILES": f"{stack.home / 'owner-key'},{stack.home / 'moto' / 'kms-keys.json'},/etc/shadow",
        "PROBE_PORTS": ",".join(stack.env[k] for k in ("MA_MOTO_PORT", "MA_WS_MGMT_PORT", "MA_API_PORT")),
        "PROBE_SOCK": str(agent_socket),
    }


def _assert_contained(result: dict, stack) -> None:
    moto, mgmt = stack.env["MA_MOTO_PORT"], stack.env["MA_WS_MGMT_PORT"]
    expected = {f"connect:{moto}", f"connect:{mgmt}", f"read:{stack.home / 'owner-key'}",
                f"read:{stack.home / 'moto' / 'kms-keys.json'}", f"environ:{stack.proc.pid}",
                "environ:any", "ssh-agent:path", "ssh-agent:env", "env:control-plane", "uid", "processes"}
    assert expected <= set(result), result
    escaped = {k: v for k, v in result.items() if v["escaped"]}
    assert escaped == {}, f"escaped the sandbox: {escaped}"
    for port in (moto, mgmt):
        assert result[f"connect:{port}"]["detail"] == "ECONNREFUSED", result


def test_the_stack_says_the_sandbox_is_on_and_adds_its_loopback_rule(stack):
    assert any(line.startswith("sandbox: tenant builds and servers run as") for line in stack.lines), stack.lines
    rules = [line for line in _rules().splitlines() if f"mastra-admin-sandbox:{stack.proc.pid}" in line]
    assert any("-o lo" in line for line in rules), rules  # the control plane's ports
    assert any("169.254.169.254" in line for line in rules), rules  # the instance's role credentials
    assert (stack.home / "moto" / "kms-keys.json").exists()  # the file the probes try to read is real


def test_escapes_from_a_build_and_a_deployed_server_all_fail(stack, owner, team, tmp_path, agent_socket):
    src = copy_tiny(tmp_path / "escape")
    (src / "probe.js").write_text(PROBE_JS)
    (src / "build.js").write_text(BUILD_JS)
    (src / "server.js").write_text(SERVER_JS)
    _, deployment_id = tiny_deployment(stack, owner, team, {"type": "local", "path": str(src)},
                                       env=_probe_env(stack, agent_socket), name="escape")
    build = wait_build(stack, owner, start_build(stack, owner, deployment_id)["id"])
    assert build["status"] == "succeeded", build

    texts = [line[25:] for line in log_lines(stack, owner, build["id"])]
    assert any(t.startswith("sandbox: running as mastra-tenant") for t in texts), texts
    probe = next((t for t in texts if t.startswith("PROBE ")), None)
    assert probe is not None, texts
    _assert_contained(json.loads(probe[len("PROBE "):]), stack)
    registry = next(t for t in texts if t.startswith("REGISTRY "))
    assert registry == "REGISTRY 200", "the package registry must stay reachable from a build"

    deploy = wait_deploy_of_build(stack, owner, deployment_id, build["id"])
    assert deploy["status"] == "succeeded", deploy
    slug = owner.get(stack.url(f"/deployments/{deployment_id}")).json()["slug"]
    r = via_path(stack, slug, "/probe", timeout=30)  # the router reaches the sandboxed server
    assert r.status_code == 200, r.text
    _assert_contained(r.json(), stack)

    # The server runs as the tenant user; its directory is the tenant's, its log the operator's.
    import psutil

    users = {psutil.Process(pid).username() for pid in server_processes(stack.home)
             if psutil.Process(pid).name() == "node"}
    assert users == {"mastra-tenant"}, users
    workdir = next(p for p in (stack.home / "servers").iterdir() if p.is_dir())
    assert (workdir / "app").stat().st_uid != 0 and (workdir / "server.log").stat().st_uid == 0
