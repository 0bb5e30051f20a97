"""A local server's output: one writer process that caps it, and readers that seek by line offset.

    python -m chalicelib.runners.server_log --log DIR/server.log --max-bytes N --generations K \
        --max-line-bytes L -- ARGV...

The writer leads the server's process group and starts ARGV as its child, stdout and stderr into a
pipe. It writes whole lines to `server.log`: a line longer than L bytes is cut into pieces, each
but the last ending with `LINE_CUT`. Past N bytes the file becomes `server.log.1` (`.1` becomes
`.2` ..., the oldest of K dropped) and a new one starts. Beside each file, `<name>.idx` holds
`<line offset> <byte position>` of its first line and of every INDEX_EVERY-th line, so a read from
any line offset seeks instead of rescanning. Line offsets count from the server's start and go on
across rotations. The writer ignores SIGTERM (sent to the whole group): it writes until the server's
output ends, then exits with the server's status. Files are created 0600. Standard library only:
it runs beside every local server.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

INDEX_EVERY = 1000
LINE_CUT = " [line cut: continues on the next line]"


class RotatingLog:
    """The writer's side: whole lines in, rotated files and their indexes out."""

    def __init__(self, path: Path, max_bytes: int, generations: int, max_line_bytes: int):
        self.path = path
        self.max_bytes = max_bytes
        self.generations = max(generations, 0)
        self.max_line = max(max_line_bytes, 64)
        self.offset = 0  # the line offset of the next line written
        self._open(0)

    def _open(self, base: int) -> None:
        self.log = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        self.idx = os.open(_idx(self.path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        self.size = 0
        self.lines_here = 0
        os.write(self.idx, f"{base} 0\n".encode())

    def write_line(self, line: bytes) -> None:
        """One line without its newline; a long one is cut into marked pieces."""
        room = self.max_line - len(LINE_CUT)
        while len(line) > self.max_line:
            self._write(line[:room] + LINE_CUT.encode() + b"\n")
            line = line[room:]
        self._write(line + b"\n")

    def _write(self, data: bytes) -> None:
        if self.lines_here and self.lines_here % INDEX_EVERY == 0:
            os.write(self.idx, f"{self.offset} {self.size}\n".encode())
        os.write(self.log, data)
        self.size += len(data)
        self.lines_here += 1
        self.offset += 1
        if self.size >= self.max_bytes:
            self._rotate()

    def _rotate(self) -> None:
        os.close(self.log)
        os.close(self.idx)
        for n in range(self.generations, 0, -1):
            older = _generation(self.path, n)
            if n == self.generations:
                for p in (older, _idx(older)):
                    p.unlink(missing_ok=True)
                continue
            for src, dst in ((older, _generation(self.path, n + 1)), (_idx(older), _idx(_generation(self.path, n + 1)))):
                if src.exists():
                    os.replace(src, dst)
        if self.generations:
            os.replace(_idx(self.path), _idx(_generation(self.path, 1)))
            os.replace(self.path, _generation(self.path, 1))
        self._open(self.offset)

    def close(self) -> None:
        os.close(self.log)
        os.close(self.idx)


def pump(source, log: RotatingLog) -> None:
    """Copy `source` (a binary pipe) into `log` until it ends; a partial line too long is cut as it comes."""
    pending = b""
    while True:
        block = source.read1(1 << 16) if hasattr(source, "read1") else source.read(1 << 16)
        if not block:
            break
        pending += block
        *whole, pending = pending.split(b"\n")
        for line in whole:
            log.write_line(line.rstrip(b"\r"))
        room = log.max_line - len(LINE_CUT)
        while len(pending) > log.max_line:
            log._write(pending[:room] + LINE_CUT.encode() + b"\n")
            pending = pending[room:]
    if pending:
        log.write_line(pending)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="server_log")
    parser.add_argument("--log", required=True, type=Path)
    parser.add_argument("--max-bytes", type=int, default=16 << 20)
    parser.add_argument("--generations", type=int, default=3)
    parser.add_argument("--max-line-bytes", type=int, default=64 << 10)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    log = RotatingLog(args.log, args.max_bytes, args.generations, args.max_line_bytes)
    try:
        # The server gets default signal handling back (ignored signals would be inherited).
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, restore_signals=True,
                                 preexec_fn=lambda: [signal.signal(s, signal.SIG_DFL)
                                                     for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)])
    except OSError as e:
        log.write_line(f"cannot start {command[:1]}: {e}".encode())
        log.close()
        return 127
    pump(child.stdout, log)
    log.close()
    code = child.wait()
    return code if code >= 0 else 128 - code


# --- readers ------------------------------------------------------------------------------------


def _idx(path: Path) -> Path:
    return path.with_name(path.name + ".idx")


def _generation(path: Path, n: int) -> Path:
    return path.with_name(f"{path.name}.{n}")


def _read_index(path: Path) -> list[tuple[int, int]]:
    """(line offset, byte position) pairs of one file, first line first; [(0, 0)] without an index."""
    try:
        text = _idx(path).read_text()
    except FileNotFoundError:
        return [(0, 0)]
    points = []
    for row in text.splitlines():
        parts = row.split()
        if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
            points.append((int(parts[0]), int(parts[1])))
    return points or [(0, 0)]


def generations(path: Path) -> list[tuple[Path, list[tuple[int, int]]]]:
    """The files of a log, oldest first, each with its index."""
    rotated = sorted((p for p in path.parent.glob(path.name + ".*") if p.suffix[1:].isdigit()),
                     key=lambda p: -int(p.suffix[1:]))
    return [(p, _read_index(p)) for p in [*rotated, path] if p.exists()]


def read_lines(path: Path, since: int, limit: int, max_line_bytes: int = 64 << 10) -> tuple[int, list[str]]:
    """Up to `limit` whole lines from line offset `since` (or from the oldest line kept, if later).

    Returns (offset of the first line returned, lines). Seeks through the index: the work is a page,
    not the file before it. A line still being written is left for the next read.
    """
    files = generations(path)
    lines: list[str] = []
    first = since
    for i, (file, index) in enumerate(files):
        if i + 1 < len(files) and files[i + 1][1][0][0] <= since:
            continue  # the line is in a later file
        if lines:
            (_, position), skip = index[0], 0
        else:
            first = max(since, index[0][0])  # lines rotated away: from the oldest kept
            point, position = max(p for p in index if p[0] <= first)
            skip = first - point
        try:
            f = open(file, "rb")
        except FileNotFoundError:
            continue
        with f:
            f.seek(position)
            while len(lines) < limit:
                raw = f.readline(max_line_bytes + 1)
                if not raw:
                    break
                if not raw.endswith(b"\n"):
                    if len(raw) <= max_line_bytes:
                        return first, lines  # a line being written: next read
                    raw += LINE_CUT.encode()  # a long line from a server without the writer
                if skip:
                    skip -= 1
                    continue
                lines.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
        if len(lines) >= limit:
            break
    return first, lines


def end_offset(path: Path) -> int:
    """The line offset after the last whole line: the current file's last index point plus a short count."""
    if not path.exists():
        return 0
    offset, position = _read_index(path)[-1]
    with open(path, "rb") as f:
        f.seek(position)
        for block in iter(lambda: f.read(1 << 20), b""):
            offset += block.count(b"\n")
    return offset


if __name__ == "__main__":
    sys.exit(main())
