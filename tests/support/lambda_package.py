"""`make package` once per session: the zip and SAM template the stage deploys."""
from __future__ import annotations

import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Package:
    zip_path: Path
    template: Path
    output: str  # what `make package` printed

    def names(self) -> list[str]:
        with zipfile.ZipFile(self.zip_path) as zf:
            return zf.namelist()


def make_package() -> Package:
    done = subprocess.run(["make", "--no-print-directory", "package"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    out = ROOT / "build" / "package"
    return Package(out / "deployment.zip", out / "sam.yaml", done.stdout)
