"""The releases API's access checks: a deployment's readers may read its releases."""
from __future__ import annotations

from chalicelib.auth.access import Access
from chalicelib.services.deploys.deployments import require_deployment
from chalicelib.services.releases.compare import Comparison, compare_of
from chalicelib.services.releases.figures import Release, releases_of


def list_releases(access: Access, deployment_id: str) -> list[Release]:
    return releases_of(require_deployment(access, deployment_id))


def compare(access: Access, deployment_id: str, base: str | None, head: str | None) -> Comparison:
    return compare_of(require_deployment(access, deployment_id), base, head)
