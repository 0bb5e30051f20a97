"""The tiny fixture with the injected writer: a plain Node server that writes one span per request
through the same records.mjs the build injects into Mastra servers (same rotation, same files), so
a benchmark can keep the stack's shipping and ingest busy without a Mastra build."""
from __future__ import annotations

import shutil
from pathlib import Path

from chalicelib.runners.injection import INJECT_SCRIPT
from tests.support.builds import TINY

SERVER = Path(__file__).resolve().parents[1] / "fixtures" / "tiny-node-spans" / "server.js"
RECORDS = INJECT_SCRIPT.parent / "runtime" / "records.mjs"


def copy_tiny_writing_spans(dest: Path) -> Path:
    shutil.copytree(TINY, dest)
    shutil.copy(SERVER, dest / "server.js")
    (dest / "mastra-admin").mkdir()
    shutil.copy(RECORDS, dest / "mastra-admin" / "records.mjs")
    return dest
