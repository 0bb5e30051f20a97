"""The reasons given for quarantined records come from the shipped JSON Schema, not from a copy of it."""
from __future__ import annotations

import json

import pytest

from chalicelib.analytics import contract

SCOPE = {"team": "t", "project": "p", "deployment": "d"}
LOG = {"schemaVersion": 1, "kind": "log", "recordId": "r", "timestamp": "2026-11-23T12:00:00.000Z", "teamId": "t",
       "projectId": "p", "deploymentId": "d", "buildId": "b", "environment": "e", "level": "info", "message": "m"}
SPAN = {**LOG, "kind": "span", "traceId": "tr", "spanId": "sp", "name": "n", "spanType": "agent_run",
        "startTime": "2026-11-23T12:00:00.000Z", "endTime": "2026-11-23T12:00:01.000Z", "durationMs": 1000,
        "status": "ok"}


def _reason(record: dict, kind: str = "log") -> str | None:
    return contract.reason(json.dumps(record).encode(), kind, SCOPE)


@pytest.fixture
def schema_copy(tmp_path, monkeypatch):
    """The shipped schema, copied where a test may change it; the validator is rebuilt from it."""
    path = tmp_path / "schema.json"
    path.write_text(contract.SCHEMA_PATH.read_text())
    monkeypatch.setattr(contract, "SCHEMA_PATH", path)
    contract.validator.cache_clear()
    yield path
    contract.validator.cache_clear()


def test_valid_records_have_no_reason():
    assert _reason(LOG) is None
    assert _reason(SPAN, "span") is None


def test_a_record_outside_the_schema_enum_is_rejected_with_the_schemas_message():
    assert _reason({**LOG, "level": "verbose"}) == (
        "level: 'verbose' is not one of ['trace', 'debug', 'info', 'warn', 'error', 'fatal']")


def test_a_change_to_the_shipped_schema_changes_the_verdict(schema_copy):
    schema = json.loads(schema_copy.read_text())
    log_rule = next(rule["then"] for rule in schema["allOf"] if rule["if"]["properties"]["kind"]["const"] == "log")
    log_rule["properties"]["level"]["enum"].remove("fatal")
    schema_copy.write_text(json.dumps(schema))
    contract.validator.cache_clear()
    assert _reason({**LOG, "level": "fatal"}) == (
        "level: 'fatal' is not one of ['trace', 'debug', 'info', 'warn', 'error']")


def test_reasons_name_the_field():
    assert _reason({k: v for k, v in SPAN.items() if k != "traceId"}, "span") == "missing required field traceId"
    assert _reason({**SPAN, "startTime": "yesterday"}, "span") == "startTime: 'yesterday' is not a 'date-time'"
    assert _reason({**SPAN, "durationMs": -1}, "span") == "durationMs: -1 is less than the minimum of 0"
    assert _reason({**LOG, "teamId": "other"}) == "teamId 'other' does not match the object's key ('t')"
    assert _reason(LOG, "metric") == "kind must be 'metric' under this prefix, got 'log'"
    assert _reason({**SPAN, "spanType": ""}, "span") == "spanType must not be empty"
    assert contract.reason(b'{"kind": "lo', "log", SCOPE).startswith("not valid JSON")
