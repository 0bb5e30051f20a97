"""A local server's output goes through the log writer the runner starts it under
(chalicelib/runners/server_log.py): capped in rotated files, and read page by page without a rescan."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from chalicelib.runners import server_log
from chalicelib.runners.local_deploy import LocalDeployRunner
from chalicelib.settings import Settings


def _run_server(workdir: Path, program: str, max_bytes: int, generations: int) -> None:
    """The writer around a program, as LocalDeployRunner.start runs it around a server."""
    subprocess.run([sys.executable, "-I", server_log.__file__, "--log", str(workdir / "server.log"),
                    "--max-bytes", str(max_bytes), "--generations", str(generations), "--max-line-bytes",
                    str(64 << 10), "--", sys.executable, "-c", program], check=True, timeout=120)


def _runner(tmp_path: Path) -> LocalDeployRunner:
    return LocalDeployRunner(Settings(stage="local", server_root=str(tmp_path)))


def test_server_log_stays_under_its_cap_while_the_server_writes_much_more(tmp_path):
    _run_server(tmp_path, "for i in range(50000): print(f'line {i:06d} ' + 'z' * 90)",
                max_bytes=256 << 10, generations=2)  # 5 MB written, about 20 times the cap

    files = sorted(tmp_path.glob("server.log*"))
    logs = [p for p in files if not p.name.endswith(".idx")]
    assert {p.name for p in logs} == {"server.log", "server.log.1", "server.log.2"}
    assert all(p.stat().st_size < (256 << 10) + 200 for p in logs)
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in files)
    # Offsets go on across rotations: the end is the 50,000th line; the oldest kept lines say where they start.
    server = SimpleNamespace(workdir=str(tmp_path), server_id="srv_x")
    runner = _runner(tmp_path)
    last = runner.logs(server, None, 3, 5000)
    assert (last.offset, last.next_offset) == (49997, 50000) and last.lines[-1].startswith("line 049999 ")
    oldest = runner.logs(server, 0, None, 10)
    assert oldest.offset > 0 and oldest.lines[0].startswith(f"line {oldest.offset:06d} ")


def _bytes_read() -> int:
    """What this process has read through read(2) so far (the kernel's count)."""
    for row in Path("/proc/self/io").read_text().splitlines():
        if row.startswith("rchar:"):
            return int(row.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


def test_reading_server_logs_from_offset_zero_page_by_page_does_not_rescan(tmp_path):
    _run_server(tmp_path, "for i in range(200000): print(f'line {i:06d} ' + 'q' * 90)",
                max_bytes=1 << 30, generations=2)  # one file of about 20 MB, 200,000 lines
    server = SimpleNamespace(workdir=str(tmp_path), server_id="srv_x")
    runner = _runner(tmp_path)
    page_bytes = 5000 * 103
    since, reads = 0, []
    while since < 200000:
        before = _bytes_read()
        piece = runner.logs(server, since, None, 5000)
        reads.append(_bytes_read() - before)
        assert piece.offset == since and piece.lines[0] == f"line {since:06d} " + "q" * 90
        since = piece.next_offset
    assert since == 200000 and len(reads) == 40
    # Each page reads about a page (plus up to one index step before it and the index), wherever it is:
    # a rescan would read 40 times more for the last page than for the first.
    assert max(reads) < 2 * page_bytes + 64 * 1024, reads
