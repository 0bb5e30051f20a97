"""`make package`: only what the functions import, its sizes printed, and app.py importable from it alone."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile

import pytest

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "infra"))
from lean_package import KEPT_SERVICES  # noqa: E402

# Distributions of the chalice CLI and of the local stack / tests: never shipped.
NOT_SHIPPED = ("pip", "setuptools", "wheel", "inquirer", "blessed", "click", "readchar", "editor", "yaml",
               "moto", "chdb", "pytest", "websockets", "psutil", "schemathesis", "local_stack", "tests")
MAX_ZIPPED = 17 << 20
# The router runs as its own process (locally and in its fleet), never as one of the functions.
NOT_A_FUNCTION = ("chalicelib.router",)


def test_the_package_holds_none_of_the_cli_or_development_distributions(lambda_package):
    top = {name.split("/", 1)[0] for name in lambda_package.names()}
    shipped = {t.split("-", 1)[0].removesuffix(".py").lower() for t in top}
    assert not shipped & set(NOT_SHIPPED), sorted(shipped & set(NOT_SHIPPED))
    assert {"chalice/app.py", "chalice/__init__.py"} <= set(lambda_package.names())
    assert not [n for n in lambda_package.names() if n.startswith("chalice/cli/")]


def test_make_package_prints_both_sizes_and_the_zip_stays_under_17_mib(lambda_package):
    printed = re.search(r"package size: ([\d.]+) MiB zipped, ([\d.]+) MiB unzipped", lambda_package.output)
    assert printed, lambda_package.output
    zipped = lambda_package.zip_path.stat().st_size
    with zipfile.ZipFile(lambda_package.zip_path) as zf:
        unzipped = sum(i.file_size for i in zf.infolist())
    assert float(printed[1]) == pytest.approx(zipped / (1 << 20), abs=0.05)
    assert float(printed[2]) == pytest.approx(unzipped / (1 << 20), abs=0.05)
    assert zipped <= MAX_ZIPPED


PROBE = """
import importlib, pkgutil, sys
sys.path.insert(0, ".")
import app
import chalicelib
for module in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
    if not module.name.startswith({skip!r}):
        importlib.import_module(module.name)
import boto3
for service in {services!r}:
    boto3.client(service)
assert not [m for m in sys.modules if m.split(".")[0] in {absent!r}], "a development module was imported"
print("imported", len(sys.modules))
"""


def test_app_and_every_function_module_import_from_the_unzipped_package_alone(lambda_package, tmp_path):
    with zipfile.ZipFile(lambda_package.zip_path) as zf:
        zf.extractall(tmp_path)
    # -S: no site-packages at all, so only the standard library and the package can be imported.
    env = {"PATH": os.defpath, "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "PYTHONDONTWRITEBYTECODE": "1"}
    probe = PROBE.format(skip=NOT_A_FUNCTION, services=sorted(KEPT_SERVICES), absent=NOT_SHIPPED)
    done = subprocess.run([sys.executable, "-S", "-c", probe], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("imported")
