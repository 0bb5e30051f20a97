"""The local stack's own files stay bounded: events.jsonl rotates, and one huge server-log line does
not stop the live tail."""
from __future__ import annotations

import json

from local_stack.server_keeper import LogTail
from local_stack.worker import JsonlSink


def test_events_jsonl_stays_under_its_cap_while_much_more_is_published(tmp_path):
    path = tmp_path / "events.jsonl"
    sink = JsonlSink(path, max_bytes=64 << 10, generations=2)
    message = {"type": "log", "lines": ["x" * 200]}
    for n in range(5000):  # about 1.1 MB, 17 times the cap
        sink("server:s:logs", {**message, "n": n})

    files = sorted(tmp_path.glob("events.jsonl*"))
    assert {p.name for p in files} == {"events.jsonl", "events.jsonl.1", "events.jsonl.2", "events.jsonl.lock"}
    line = len(json.dumps({**message, "n": 4999}, separators=(",", ":"))) + 1
    assert all(p.stat().st_size < (64 << 10) + line for p in files)
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in files)
    # The newest messages are kept, in order, across the generations.
    kept = [json.loads(row)["n"] for p in (tmp_path / "events.jsonl.2", tmp_path / "events.jsonl.1", path)
            for row in p.read_text().splitlines()]
    assert kept == list(range(kept[0], 5000))


def test_a_line_longer_than_a_read_does_not_stop_the_tail(tmp_path):
    path = tmp_path / "server.log"  # written by a server without the log writer: nothing cut it
    path.write_bytes(b"before\n")
    tail = LogTail(path, from_start=True, max_line_bytes=64 << 10)
    assert tail.read() == (0, ["before"])

    with open(path, "ab") as f:
        f.write(b"y" * (5 << 20) + b"\n")
        f.write(b"after 1\nafter 2\n")
    later: list[str] = []
    for _ in range(200):
        _, lines = tail.read()
        later.extend(lines)
        if "after 2" in later:
            break
    assert later[-2:] == ["after 1", "after 2"]
    pieces = later[:-2]
    assert all(len(p) <= (64 << 10) + 64 for p in pieces) and "".join(pieces).count("y") == 5 << 20
    assert pieces[0].endswith("[line cut: continues on the next line]")
