"""The releases API's access checks: a deployment's readers may read its releases."""
from __future__ import annotations

from datetime import datetime

from chalicelib.auth.access import Access
from chalicelib.services.deploys.deployments import require_deployment
from chalicelib.db.models import utcnow
from chalicelib.services.releases.compare import Comparison, compare_of
from chalicelib.services.releases.observed import requested
from chalicelib.services.releases.figures import Release, releases_of


def list_releases(access: Access, deployment_id: str) -> list[Release]:
    return releases_of(require_deployment(access, deployment_id))


def compare(access: Access, deployment_id: str, base: str | None, head: str | None,
            start: datetime | None = None, end: datetime | None = None) -> Comparison:
    """`start`/`end` (`from`/`to`): count the head's runs in that window and the base's over its last
    day of serving; neither: every run of both."""
    now = utcnow()
    window = requested(start, end, now)
    return compare_of(require_deployment(access, deployment_id), base, head, window=window, now=now)
