"""Schemathesis against the running local API: no 5xx, and every response matches the document.

All four phases run: examples, coverage (boundary and invalid values of every parameter and body,
including wrong types and missing fields), fuzzing, and stateful (sequences that follow the
document's OpenAPI links: create a team, then its project, deployment, build...). Bounded by a small
example count, one worker and a fixed seed; MA_FUZZ_EXAMPLES raises it.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


@pytest.mark.timeout(960)  # schemathesis has 900 s; on a loaded 2-core machine it took just over 300
def test_fuzzing_the_api_finds_no_server_error_and_no_schema_violation(stack, tmp_path):
    schemathesis = Path(sys.executable).with_name("schemathesis")
    cmd = [
        str(schemathesis), "run", stack.url("/openapi.json"),
        "-H", f"Authorization: Bearer {stack.owner_key}",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--checks", CHECKS,
        "--max-examples", os.environ.get("MA_FUZZ_EXAMPLES", "10"),
        "--seed", "20261123", "--generation-deterministic", "--workers", "1", "--no-shrink",
        "--warnings", "off", "--output-truncate", "true", "--request-timeout", "30",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    tail = result.stdout[-8000:]
    assert result.returncode == 0, tail
    summary = tail.split("SUMMARY")[-1]
    assert " passed" in tail and "failed" not in summary, tail
    for phase in ("Coverage", "Stateful"):
        assert phase in tail and f"{phase} (skipped" not in tail, tail


def test_unknown_paths_methods_and_content_types_answer_in_the_error_shape(stack):
    key = stack.owner_key
    auth = {"Authorization": f"Bearer {key}"}
    cases = [
        ("GET", "/no/such/path", auth, None, 404, "not_found"),
        ("GET", "/no/such/path", {}, None, 404, "not_found"),
        ("DELETE", "/teams", auth, None, 405, "method_not_allowed"),
        ("TRACE", "/teams", auth, None, 405, "method_not_allowed"),
        ("POST", "/teams", {"Content-Type": "application/xml"}, "<team/>", 415, "unsupported_media_type"),
    ]
    for method, path, headers, body, status, code in cases:
        r = requests.request(method, stack.url(path), headers=headers, data=body, timeout=10)
        assert r.status_code == status, (method, path, r.status_code, r.text[:300])
        assert r.headers["Content-Type"].startswith("application/json")
        assert r.json()["error"]["code"] == code and set(r.json()) == {"error"}, r.text[:300]
        assert key not in r.text and "Authorization" not in r.text
