"""The sandbox's decisions without running it: settings, the environment, the bwrap command line."""
from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.errors import SettingsError
from chalicelib.runners import sandbox
from chalicelib.settings import Settings


def test_ma_sandbox_takes_auto_off_or_required():
    assert Settings.from_env({}).sandbox == "auto"
    assert Settings.from_env({"MA_SANDBOX": "Required"}).sandbox == "required"
    assert Settings.from_env({}).sandbox_user == "mastra-tenant"
    with pytest.raises(SettingsError, match="MA_SANDBOX"):
        Settings.from_env({"MA_SANDBOX": "maybe"})


def test_off_means_no_sandbox_and_required_without_one_refuses(monkeypatch):
    assert sandbox.for_settings(Settings.from_env({"MA_SANDBOX": "off"})) is None
    assert sandbox.setup("off", "mastra-tenant", 1)[0] is None
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)
    sandbox._cached.clear()
    with pytest.raises(sandbox.SandboxError, match="not running as root"):
        sandbox.for_settings(Settings.from_env({"MA_SANDBOX": "required", "MA_SANDBOX_USER": "nobody-here"}))
    with pytest.raises(sandbox.SandboxError):
        sandbox.setup("required", "mastra-tenant", 1)
    box, tag, why = sandbox.setup("auto", "mastra-tenant", 1)
    assert box is None and tag is None and "not running as root" in why
    sandbox._cached.clear()


def test_the_tenant_environment_is_clean(monkeypatch):
    monkeypatch.setenv("SSH_AUTH_SOCK", "/run/agent.sock")
    monkeypatch.setenv("MA_JWT_HS256_SECRET", "x" * 40)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy:3128")
    env = sandbox.clean_env({"PATH": "/usr/bin", "PROJECT_VAR": "1"}, "/work/home")
    assert env["HOME"] == "/work/home" and env["HTTPS_PROXY"] == "http://proxy:3128" and env["PROJECT_VAR"] == "1"
    assert not {"SSH_AUTH_SOCK", "MA_JWT_HS256_SECRET", "AWS_SECRET_ACCESS_KEY"} & set(env)


def test_the_command_line_binds_only_what_is_given(tmp_path):
    box = sandbox.Sandbox("mastra-tenant", 999, 995, "/usr/bin/bwrap", "/usr/bin/setpriv", "/usr/bin/env")
    work, tools = tmp_path / "src", tmp_path / "node"
    work.mkdir()
    tools.mkdir()
    launch = box.wrap(["node", "build.js"], work, rw=[work], ro=[tools])
    argv = launch.argv
    assert argv[argv.index(box.setpriv) + 1:argv.index(box.bwrap)] == [
        "--reuid=999", "--regid=995", "--clear-groups", "--pdeathsig=KILL", "--"]
    for flag in ("--die-with-parent", "--unshare-pid"):
        assert flag in argv
    assert argv[argv.index("--proc") + 1] == "/proc" and argv[argv.index("--tmpfs") + 1] == "/tmp"
    binds = [(argv[i], argv[i + 1], argv[i + 2]) for i, a in enumerate(argv) if a in ("--bind", "--ro-bind")]
    assert ("--ro-bind", "/usr", "/usr") in binds
    assert [(kind, dest) for kind, _, dest in binds if dest != "/usr"] == [("--ro-bind", str(tools)), ("--bind", str(work))]
    etc = [argv[i + 1] for i, a in enumerate(argv) if a == "--ro-bind-try"]
    assert "/etc/passwd" in etc and not {"/etc", "/etc/shadow", "/root", "/home"} & set(etc)
    assert argv[-3:] == ["--default-signal=TERM,INT,HUP", "node", "build.js"]
    assert Path(launch.stage).is_absolute() and [s for s, _, _ in launch.staged] == [str(tools), str(work)]


class _S3:
    def __init__(self):
        self.bodies: dict[str, bytes] = {}

    def put_object(self, Bucket, Key, Body, **_):
        self.bodies[Key] = Body.read()


def test_shipping_follows_no_link_the_tenant_planted(tmp_path):
    from types import SimpleNamespace

    from chalicelib.runners.local_deploy import LocalDeployRunner

    secret = tmp_path / "owner-key"
    secret.write_text("operator secret\n")
    spans = tmp_path / "srv" / "app" / "observability" / "spans"
    (spans / "closed").mkdir(parents=True)
    (spans / "closed" / "a.jsonl").symlink_to(secret)
    (spans / "closed" / "b.jsonl").write_text('{"n":1}\n')
    (spans / "current.jsonl").symlink_to(secret)
    logs = spans.parent / "logs"
    logs.mkdir()
    (logs / "closed").symlink_to(tmp_path)  # a directory link: nothing written or read through it
    (logs / "current.jsonl").write_text('{"n":2}\n{"half')

    s3 = _S3()
    runner = LocalDeployRunner(Settings.from_env({}), s3=s3)
    server = SimpleNamespace(workdir=str(tmp_path / "srv"), server_id="srv", team_id="t", project_id="p",
                             deployment_id="d", build_id="b")
    assert runner.ship(server, final=True) == 1
    assert list(s3.bodies.values()) == [b'{"n":1}\n']
    assert secret.read_text() == "operator secret\n" and sorted(p.name for p in tmp_path.iterdir()) == [
        "owner-key", "srv"]
