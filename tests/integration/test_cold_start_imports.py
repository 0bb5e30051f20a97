"""Every function of the stage imports app.py: that import must not pull in a handler's code.

Fresh interpreters, as a Lambda cold start is. The queue, schedule and WebSocket functions start
without the route modules, pydantic, PynamoDB or botocore; the API function registers every route
at its first request, the GitHub webhook's included, exactly as an eager registration would.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pydantic", "pynamodb", "botocore", "boto3", "aws_lambda_powertools", "jwt", "cryptography",
         "clickhouse_connect", "jsonschema")


def _run(code: str) -> dict:
    env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1", "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_app_loads_no_route_module_and_no_heavy_dependency():
    got = _run("import json, sys, app; print(json.dumps(sorted(sys.modules)))")
    assert [m for m in got if m.split(".")[0] in HEAVY] == []
    assert [m for m in got if m.startswith(("chalicelib.api.", "chalicelib.services.", "chalicelib.workers.",
                                            "chalicelib.db."))] == ["chalicelib.api.app_routes"]


def test_the_first_read_of_the_routes_registers_every_declared_route():
    got = _run(
        "import json, app\n"
        "routes = app.app.routes\n"
        "from chalicelib.api.routing import ROUTES\n"
        "print(json.dumps({'registered': sorted(f'{m} {p}' for p, ms in routes.items() for m in ms),\n"
        "                  'declared': sorted(f'{s.method} {s.path}' for s in ROUTES)}))")
    assert got["registered"] == got["declared"]
    assert "POST /webhooks/github" in got["registered"]
    assert len(got["registered"]) > 30
