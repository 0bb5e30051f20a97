"""Why a line was rejected, in words: the slow path only.

The engine decides what is ingested (schema.KindSpec.predicate). This module is consulted only for
objects where some lines did not make it, to write a reason next to each quarantined line. It
mirrors chalicelib/contracts/observability-record.v1.schema.json.
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$")
_COMMON_REQUIRED = ("schemaVersion", "kind", "recordId", "timestamp", "teamId", "projectId", "deploymentId",
                    "buildId", "environment")
_KIND_REQUIRED = {
    "span": ("traceId", "spanId", "name", "spanType", "startTime", "endTime", "durationMs", "status"),
    "log": ("level", "message"),
    "metric": ("name", "value", "metricType"),
    "score": ("traceId", "scorerName", "score"),
}
_ENUMS = {
    ("span", "status"): ("ok", "error"),
    ("log", "level"): ("trace", "debug", "info", "warn", "error", "fatal"),
    ("metric", "metricType"): ("counter", "gauge", "histogram"),
}
_NUMBERS = {"durationMs", "value", "score"}
_INTEGERS = {"inputTokens", "outputTokens", "totalTokens"}
_TIMES = {"timestamp", "startTime", "endTime"}
_STRINGS = {"recordId", "teamId", "projectId", "deploymentId", "buildId", "environment", "traceId", "spanId",
            "name", "spanType", "message", "scorerName"}


def _time_ok(value: Any) -> bool:
    if not isinstance(value, str) or not _ISO.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def record_id(line: bytes) -> str | None:
    try:
        rec = json.loads(line)
    except ValueError:
        return None
    rid = rec.get("recordId") if isinstance(rec, dict) else None
    return rid if isinstance(rid, str) else None


def reason(line: bytes, kind: str, scope: dict[str, str]) -> str | None:
    """None when the line satisfies the contract for `kind` and the object's scope; else why not."""
    try:
        rec = json.loads(line)
    except (ValueError, UnicodeDecodeError) as e:
        return f"not valid JSON: {e}"
    if not isinstance(rec, dict):
        return "not a JSON object"
    if rec.get("schemaVersion") != 1:
        return f"schemaVersion must be 1, got {rec.get('schemaVersion')!r}"
    if rec.get("kind") != kind:
        return f"kind must be {kind!r} under this prefix, got {rec.get('kind')!r}"
    for name in _COMMON_REQUIRED + _KIND_REQUIRED[kind]:
        if rec.get(name) is None:
            return f"missing required field {name}"
    for name, value in rec.items():
        if value is None:
            continue
        if name in _STRINGS and not isinstance(value, str):
            return f"{name} must be a string"
        if name in _TIMES and not _time_ok(value):
            return f"{name} is not an ISO-8601 date-time: {str(value)[:40]!r}"
        if name in _NUMBERS and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return f"{name} must be a number"
        if name in _INTEGERS and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            return f"{name} must be a non-negative integer"
    if not 1 <= len(rec["recordId"]) <= 200:
        return "recordId must be 1 to 200 characters"
    for field, expected in (("teamId", scope["team"]), ("projectId", scope["project"]),
                            ("deploymentId", scope["deployment"])):
        if rec[field] != expected:
            return f"{field} {rec[field]!r} does not match the object's key ({expected!r})"
    for (k, name), allowed in _ENUMS.items():
        if k == kind and rec.get(name) not in allowed:
            return f"{name} must be one of {', '.join(allowed)}"
    if kind == "span":
        if rec["durationMs"] < 0:
            return "durationMs must be >= 0"
        if not rec["traceId"] or not rec["spanId"] or not rec["spanType"]:
            return "traceId, spanId and spanType must not be empty"
    if kind in ("metric",) and not rec["name"]:
        return "name must not be empty"
    return None


_BUILD_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z)( |$)")


def build_log_reason(line: bytes) -> str | None:
    try:
        text = line.decode()
    except UnicodeDecodeError:
        return "not UTF-8"
    if not _BUILD_LINE.match(text):
        return "does not start with an ISO-8601 UTC timestamp followed by a space"
    return None
