"""Log batches on the WebSocket respect API Gateway's limits without losing a character."""
from __future__ import annotations

import json

from chalicelib.services.live.broadcaster import FRAME_BYTES, MAX_MESSAGE_BYTES, split_log


def _size(message: dict) -> int:
    return len(json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode())


def test_a_big_batch_is_split_into_frames_with_contiguous_offsets():
    lines = [f"line {i} " + "x" * (i % 700) for i in range(2000)]
    messages = split_log("build:b", 100, lines)
    assert len(messages) > 1
    assert all(_size(m) <= FRAME_BYTES for m in messages)
    assert [m["offset"] for m in messages] == [100 + sum(len(p["lines"]) for p in messages[:i])
                                               for i in range(len(messages))]
    assert [line for m in messages for line in m["lines"]] == lines


def test_a_line_longer_than_a_message_goes_out_in_parts_never_truncated():
    huge = "é" * 100_000  # 200 KB of UTF-8, 2 bytes a character
    messages = split_log("server:s:logs", 7, ["before", huge, "after"])
    parts = [m for m in messages if "part" in m]
    assert len(parts) > 1 and all(m["offset"] == 8 and m["parts"] == len(parts) for m in parts)
    assert "".join(m["lines"][0] for m in parts) == huge
    assert all(_size(m) <= MAX_MESSAGE_BYTES for m in messages)
    plain = [(m["offset"], m["lines"]) for m in messages if "part" not in m]
    assert plain == [(7, ["before"]), (9, ["after"])]


def test_an_empty_batch_sends_nothing():
    assert split_log("build:b", 0, []) == []
