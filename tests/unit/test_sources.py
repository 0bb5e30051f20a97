"""Sources stay inside their roots, and git runs with none of the operator's identity.

Each test names the escape it pins; all of them passed (were not refused) before the fix.
"""
from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from chalicelib import sources
from chalicelib.settings import Settings
from chalicelib.sources import SourceError


@pytest.fixture
def world(tmp_path):
    """A source root with one project in it, a directory outside every root, and the control
    plane's state beside them."""
    root = tmp_path / "root"
    project = root / "proj"
    project.mkdir(parents=True)
    (project / "package.json").write_text('{"name": "proj"}')
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("operator's")
    settings = Settings(local_sources_enabled=True, local_source_roots=(str(root),),
                        build_root=str(tmp_path / "state" / "builds"), server_root=str(tmp_path / "state" / "servers"),
                        protected_paths=(str(tmp_path / "state"),))
    return root, project, outside, settings


def _git_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    for args in (["init", "-q", "-b", "main"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q",
                                                 "--allow-empty", "-m", "x"]):
        subprocess.run(["git", *args], cwd=path, check=True, env=env)
    return path


def _fetch(source: dict, dest: Path, settings: Settings) -> sources.Fetched:
    return sources.fetch(source, None, dest, lambda _line: None, settings=settings)


def test_a_file_url_escaping_its_root_with_encoded_dots_is_refused(world, tmp_path):
    root, _, outside, settings = world
    _git_repo(outside / "repo")
    (root / "%2e%2e").mkdir()  # what the creation-time check resolved the undecoded path against
    for url in (f"file://{root}/%2e%2e/outside/repo", f"file://{root}/%2E%2E/outside/repo",
                f"file://{root}/proj%2f..%2f..%2foutside/repo", f"file://{root}/proj/../../outside/repo"):
        with pytest.raises(SourceError):
            _fetch({"type": "git", "url": url}, tmp_path / "dest", settings)
        assert not (tmp_path / "dest").exists(), url


def test_a_file_url_inside_its_root_still_clones(world, tmp_path):
    root, _, _, settings = world
    repo = _git_repo(root / "repo with space")
    fetched = _fetch({"type": "git", "url": f"file://{repo}".replace(" ", "%20")}, tmp_path / "dest", settings)
    assert fetched.commit and len(fetched.commit) == 40


def test_a_root_itself_is_refused_as_a_source(world, tmp_path):
    root, _, _, settings = world
    for path in (str(root), f"{root}/", f"{root}/proj/..", "/"):
        with pytest.raises(SourceError):
            _fetch({"type": "local", "path": path}, tmp_path / "dest", settings)
    with pytest.raises(SourceError, match="root itself"):
        _fetch({"type": "git", "url": f"file://{root}"}, tmp_path / "dest", settings)


def test_the_control_planes_state_is_never_copied(world, tmp_path):
    root, project, _, settings = world
    state_inside = Settings(**{**vars(settings), "protected_paths": (str(project / "home"),),
                               "build_root": str(root / "builds")})
    for path in (project, root / "builds", root / "builds" / "b1"):  # holds a protected path, or inside one
        path.mkdir(parents=True, exist_ok=True)
        with pytest.raises(SourceError, match="control plane"):
            _fetch({"type": "local", "path": str(path)}, tmp_path / "dest", state_inside)


def test_a_symlink_swapped_in_after_creation_is_refused_at_fetch(world, tmp_path):
    root, project, outside, settings = world
    assert _fetch({"type": "local", "path": str(project)}, tmp_path / "first", settings).path.is_dir()
    project.rename(root / "was-proj")
    project.symlink_to(outside)  # the project's stored path now resolves outside the roots
    with pytest.raises(SourceError, match="not under MA_LOCAL_SOURCE_ROOTS"):
        _fetch({"type": "local", "path": str(project)}, tmp_path / "second", settings)


def test_a_fifo_in_a_local_source_fails_with_a_reason_instead_of_hanging(world, tmp_path):
    _, project, _, settings = world
    os.mkfifo(project / "pipe")
    outcome: list[BaseException | None] = []

    def copy() -> None:
        try:
            _fetch({"type": "local", "path": str(project)}, tmp_path / "dest", settings)
            outcome.append(None)
        except BaseException as e:  # noqa: BLE001 - handed to the test thread
            outcome.append(e)

    worker = threading.Thread(target=copy, daemon=True)
    worker.start()
    worker.join(10)
    assert outcome, "the copy hung on the FIFO"
    assert isinstance(outcome[0], SourceError) and "FIFO" in str(outcome[0])


def test_a_socket_in_a_local_source_fails_with_a_reason(world, tmp_path):
    import socket

    _, project, _, settings = world
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(project / "sock"))
        with pytest.raises(SourceError, match="socket"):
            _fetch({"type": "local", "path": str(project)}, tmp_path / "dest", settings)


def test_git_gets_an_environment_built_from_scratch(world, tmp_path, monkeypatch):
    root, _, _, settings = world
    repo = _git_repo(root / "repo")
    for name in ("SSH_AUTH_SOCK", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_CONFIG_PARAMETERS", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "/operator/" + name.lower())
    calls = []
    real_run = subprocess.run

    def spy(args, **kw):
        calls.append((args, kw))
        return real_run(args, **kw)

    monkeypatch.setattr(sources.subprocess, "run", spy)
    _fetch({"type": "git", "url": f"file://{repo}"}, tmp_path / "dest", settings)
    assert calls
    for args, kw in calls:
        env = kw["env"]
        assert not any(value.startswith("/operator/") for value in env.values()), env
        assert env["GIT_CONFIG_NOSYSTEM"] == "1" and env["GIT_CONFIG_GLOBAL"] == "/dev/null"
        assert env["GIT_TERMINAL_PROMPT"] == "0"
        assert env["HOME"] != os.environ.get("HOME") and not os.path.exists(env["HOME"])  # a temp dir, gone
        assert "credential.helper=" in args


def test_git_does_not_use_the_operators_credential_helper(world, tmp_path, monkeypatch):
    operator_home = tmp_path / "operator"
    operator_home.mkdir()
    (operator_home / ".gitconfig").write_text("[credential]\n\thelper = store --file /operator/creds\n"
                                              "[url \"file:///operator/\"]\n\tinsteadOf = https://example.com/\n")
    monkeypatch.setenv("HOME", str(operator_home))
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    seen = sources._git(["config", "--list", "--show-origin"], lambda _line: None)
    assert "/operator/" not in seen and "store" not in seen
