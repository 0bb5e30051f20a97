"""The ingest chunker: where an object is cut depends on its bytes only, and line numbers hold."""
from __future__ import annotations

import random

import pytest

from chalicelib.services.observability.ingest import _ChunkWriter


def cut(tmp_path, data: bytes, chunk_bytes: int, pieces: list[int]) -> list:
    writer, chunks, at = _ChunkWriter(str(tmp_path), chunk_bytes), [], 0
    for size in pieces:
        chunks += writer.write(data[at:at + size])
        at += size
    chunks += writer.write(data[at:])
    return chunks + writer.close()


def lines_of(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    return lines[:-1] if data.endswith(b"\n") else lines


@pytest.mark.parametrize("seed", range(40))
def test_chunks_are_cut_the_same_way_however_the_body_arrives(tmp_path, seed):
    rng = random.Random(seed)
    data = b"\n".join(b"x" * rng.randint(0, 40) for _ in range(rng.randint(1, 80)))
    data += b"\n" if rng.random() < 0.7 else b""
    chunk_bytes = rng.randint(1, 120)
    layouts = []
    for attempt in range(3):
        pieces = [rng.randint(1, 60) for _ in range(len(data) // 10 + 1)]
        (tmp_path / str(attempt)).mkdir()
        chunks = cut(tmp_path / str(attempt), data, chunk_bytes, pieces)
        parts = [open(c.path, "rb").read() for c in chunks]
        assert b"".join(parts) == data
        assert all(p.endswith(b"\n") for p in parts[:-1]), "cut only at line ends"
        assert all(len(p) >= chunk_bytes for p in parts[:-1]), "no chunk ends before chunk_bytes"
        everything = lines_of(data)
        for chunk, part in zip(chunks, parts):
            mine = lines_of(part)
            assert chunk.lines == len(mine)
            assert everything[chunk.first_line:chunk.first_line + len(mine)] == mine
            assert chunk.non_blank_lines() == sum(1 for line in mine if line.strip())
        layouts.append([len(p) for p in parts])
    assert layouts[0] == layouts[1] == layouts[2]
