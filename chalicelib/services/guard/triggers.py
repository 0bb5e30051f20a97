"""Which deployments an ingest batch brought data for: their guards get a debounced check."""
from __future__ import annotations

from chalicelib.control_plane_log import logger
from chalicelib.services.observability.ingest import OBSERVABILITY_KEY


def deployments_in(event: dict) -> list[str]:
    """Deployment ids of the observability objects an SQS batch of S3 notifications names."""
    from chalicelib.workers.ingest import MalformedMessage, objects_in

    found = []
    for record in event.get("Records") or []:
        try:
            objects = objects_in(record.get("body") or "")
        except MalformedMessage:
            continue
        for obj in objects:
            match = OBSERVABILITY_KEY.match(obj.key)
            if match and match.group("kind") == "spans":  # runs and errors are spans: other kinds change no figure
                found.append(match.group("deployment"))
    return list(dict.fromkeys(found))


def after_ingest_event(event: dict) -> list[str]:
    """Never fails the ingest: a guard that could not check now is checked by the schedule."""
    try:
        from chalicelib.services.guard.evaluator import after_ingest

        return after_ingest(deployments_in(event))
    except Exception:
        logger.exception("guard check after ingest failed")
        return []
