"""Why a line was rejected, in words: the slow path only.

The engine decides what is ingested (schema.KindSpec.predicate). This module is consulted only for
objects where some lines did not make it, to write a reason next to each quarantined line. Records
are checked against the shipped JSON Schema, chalicelib/contracts/observability-record.v1.schema.json
(jsonschema, imported here only: never on the happy path or at cold start), then against what the
schema cannot know: the object's key (kind, team, project, deployment) and the engine's own
non-empty rules that the schema does not state.
"""
from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "contracts" / "observability-record.v1.schema.json"
# The engine also requires these to be non-empty (schema.SPANS/METRICS contract); the schema does not.
_ENGINE_NON_EMPTY = {"span": ("spanType",), "metric": ("name",)}


@functools.lru_cache(maxsize=1)
def validator() -> Any:
    from jsonschema import Draft202012Validator  # lazy: the slow path only

    schema = json.loads(SCHEMA_PATH.read_text())
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _schema_reason(rec: Any) -> str | None:
    from jsonschema.exceptions import best_match

    error = best_match(validator().iter_errors(rec))
    if error is None:
        return None
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        return f"missing required field {missing[0]}" if missing else error.message
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


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
    why = _schema_reason(rec)
    if why is not None:
        return why
    if rec["kind"] != kind:
        return f"kind must be {kind!r} under this prefix, got {rec['kind']!r}"
    for field, expected in (("teamId", scope["team"]), ("projectId", scope["project"]),
                            ("deploymentId", scope["deployment"])):
        if rec[field] != expected:
            return f"{field} {rec[field]!r} does not match the object's key ({expected!r})"
    for name in _ENGINE_NON_EMPTY.get(kind, ()):
        if not rec[name]:
            return f"{name} must not be empty"
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
