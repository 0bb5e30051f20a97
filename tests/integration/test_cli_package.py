"""`pip install .` of the repository gives the `mastra-admin` console script, and ships only chalicelib."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

from tests.support.stack import ROOT


def test_the_project_wheel_declares_the_console_script_and_holds_only_chalicelib(tmp_path):
    # The same build `pip install .` runs (setuptools from the dev lock, no index needed), on a copy of
    # what it reads, so that its build/ and egg-info never land in the working tree.
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(ROOT / "pyproject.toml", src / "pyproject.toml")
    shutil.copytree(ROOT / "chalicelib", src / "chalicelib", ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                            "--wheel-dir", str(tmp_path), str(src)], capture_output=True, text=True, timeout=300,
                           cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("mastra_admin-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        entry_points = z.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "[console_scripts]\nmastra-admin = chalicelib.cli.main:main" in entry_points
    assert {n.split("/")[0] for n in names} == {"chalicelib", wheel.name.split("-py3")[0] + ".dist-info"}
    assert "chalicelib/cli/main.py" in names and "chalicelib/contracts/observability-record.v1.schema.json" in names
    runs = subprocess.run([sys.executable, "-m", "chalicelib.cli", "--help"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert runs.returncode == 0 and "deploy" in runs.stdout
