"""The CLI's pure parts: following a log without gaps or duplicates, .env parsing, what it prints."""
from __future__ import annotations

import ast
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from chalicelib.cli import config, render
from chalicelib.cli.client import ApiError
from chalicelib.cli.live import Gap, LogAssembler

CHALICELIB = Path(__file__).resolve().parents[2] / "chalicelib"


def test_a_resumed_log_drops_lines_already_printed_and_never_skips_one():
    log = LogAssembler(next_offset=3)
    assert log.feed(0, ["a", "b", "c", "d", "e"]) == ["d", "e"]  # a resume replays from an older offset
    assert log.feed(3, ["d", "e"]) == []  # the same batch twice (live and resume paths)
    assert log.feed(5, ["f"]) == ["f"]
    with pytest.raises(Gap) as gap:
        log.feed(9, ["j"])
    assert (gap.value.wanted, gap.value.got) == (6, 9) and log.next == 6


def test_a_long_line_sent_in_parts_comes_out_whole_once():
    log = LogAssembler(next_offset=7)
    parts = [{"offset": 7, "lines": [chunk], "part": i, "parts": 3} for i, chunk in enumerate(["ab", "cd", "e"])]
    assert log.feed_message(parts[0]) == [] and log.feed_message(parts[1]) == []
    assert log.feed_message(parts[2]) == ["abcde"] and log.next == 8
    assert log.feed_message(parts[0]) == []  # a replay of a line already whole
    assert log.feed_message({"offset": 8, "lines": ["next"]}) == ["next"]


def test_env_files_parse_like_dotenv():
    text = '# comment\n\nexport A=1\nB="two words"\nC=\'x=y\'\nD=plain # trailing\nE=\n'
    assert render.parse_env(text) == {"A": "1", "B": "two words", "C": "x=y", "D": "plain", "E": ""}
    with pytest.raises(ValueError):
        render.parse_env("NOEQUALS")


def test_sparkline_scales_to_the_largest_value():
    assert render.sparkline([0, 5, 10]) == "▁▅█"
    assert render.sparkline([0, 0]) == "▁▁" and render.sparkline([]) == ""
    assert render.sparkline([None, 1]) == "▁█"


def test_since_accepts_durations_and_passes_times_through():
    now = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
    assert render.since_to_iso("90m", now) == "2026-11-27T10:30:00Z"
    assert render.since_to_iso("2d", now) == "2026-11-25T12:00:00Z"
    assert render.since_to_iso("2026-11-01T00:00:00Z", now) == "2026-11-01T00:00:00Z"


def test_a_trace_tree_shows_durations_tokens_cost_and_errors():
    spans = [{"name": "agent", "spanType": "agent_run", "durationMs": 2400, "children": [
        {"name": "llm", "spanType": "model_generation", "durationMs": 780.4, "model": "gpt-4o", "totalTokens": 30,
         "inputTokens": 20, "outputTokens": 10, "costUsd": 0.00015, "children": []},
        {"name": "tool", "spanType": "tool_call", "durationMs": 12, "status": "error", "errorMessage": "boom",
         "children": []},
    ]}]
    assert render.tree_lines(spans) == [
        "└─ agent [agent_run] · 2.40 s",
        "   ├─ llm [model_generation] · 780 ms · gpt-4o · 30 tok (20 in / 10 out) · $0.00015",
        "   └─ tool [tool_call] · 12 ms · error: boom",
    ]
    assert render.money(None) == "unpriced" and render.money(0) == "$0"


def test_build_phases_are_read_from_the_log_marker():
    assert render.phase_of("2026-11-27T10:00:00.000Z ==> install: npm ci") == "install"
    assert render.phase_of("2026-11-27T10:00:00.000Z build line 1") is None


@pytest.mark.parametrize("status,code", [(401, 3), (403, 4), (404, 4), (409, 5), (422, 5), (503, 6), (0, 6)])
def test_exit_codes_follow_the_api_status(status, code):
    assert ApiError(status, "x", "y").exit_code == code


def test_the_stored_key_is_readable_by_its_owner_only(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv(config.TOKEN_ENV, raising=False)
    monkeypatch.delenv(config.API_URL_ENV, raising=False)
    path = config.write({"token": "ma_secret", "apiUrl": "http://api.example"})
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    assert config.resolve() == config.Profile("http://api.example", "ma_secret", None)
    monkeypatch.setenv(config.TOKEN_ENV, "ma_env")
    assert config.resolve().token == "ma_env"  # the environment wins over the file
    assert json.loads(path.read_text())["token"] == "ma_secret"


def test_nothing_outside_the_cli_imports_its_dependencies():
    """typer and rich are CLI-only dependencies: the Lambda functions must never import them."""
    offenders = []
    for path in CHALICELIB.rglob("*.py"):
        if path.is_relative_to(CHALICELIB / "cli"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.relative_to(CHALICELIB)}: {n}" for n in names
                          if n.split(".")[0] in ("typer", "rich", "click") or n.startswith("chalicelib.cli")]
    assert offenders == []


class _FakeServerApi:
    """GET /servers/{id}/logs?since= and GET /servers/{id}, from a list of lines."""

    def __init__(self, lines: list[str]):
        self.lines, self.stopped = lines, False

    def get(self, path: str, **params):
        if path.endswith("/logs"):
            since = params["since"]
            return {"offset": since, "lines": self.lines[since:], "nextOffset": len(self.lines)}
        return {"status": "stopped" if self.stopped else "running"}


class _ScriptedLive:
    def __init__(self, script):
        self.script, self.channels = script, []

    def subscribe(self, channel, since):
        self.channels.append((channel, since()))

    def messages(self, idle):
        for step in self.script:
            yield step() if callable(step) else step


def test_a_followed_log_reads_the_stored_log_when_the_websocket_goes_quiet_and_prints_each_line_once():
    from chalicelib.cli.follow import LogFollower, LogTarget, follow_log

    api = _FakeServerApi(["a", "b", "c", "d"])
    printed: list[tuple[int, str]] = []
    follower = LogFollower(api, LogTarget("server", "srv_1"), lambda o, line: printed.append((o, line)), start=2)

    def more_then_stop():
        api.lines.append("e")
        api.stopped = True
        return {"channel": "server:srv_1:logs", "type": "log", "offset": 4, "lines": ["e"]}

    seen_while_quiet: list[tuple[int, str]] = []
    live = _ScriptedLive([None, None, None,  # quiet: the stored log is read (c, d)
                          lambda: seen_while_quiet.extend(printed),
                          {"channel": "server:srv_1:logs", "type": "log", "offset": 2, "lines": ["c", "d"]},  # late
                          more_then_stop, None])
    follow_log(follower, live, quiet_reads=3)
    assert live.channels == [("server:srv_1:logs", 2)]
    assert seen_while_quiet == [(2, "c"), (3, "d")]
    assert printed == [(2, "c"), (3, "d"), (4, "e")]


def test_the_lambda_package_leaves_the_cli_out():
    import importlib.util

    spec = importlib.util.spec_from_file_location("lean_package", CHALICELIB.parent / "infra" / "lean_package.py")
    lean = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lean)
    assert lean.dropped("chalicelib/cli/main.py") and lean.dropped("chalicelib/cli/__init__.py")
    assert not lean.dropped("chalicelib/api/openapi.py") and not lean.dropped("chalicelib/clickhouse.py")
