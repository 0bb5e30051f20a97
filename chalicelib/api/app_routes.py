"""Registers every blueprint and middleware on the Chalice app."""
from __future__ import annotations

from chalice import Chalice

from chalicelib import control_plane_log as observability
from chalicelib.api import builds, deployments, live, projects, responses, servers, system, teams
from chalicelib.api import observability as observability_api
from chalicelib.api import releases as releases_api
from chalicelib.api import guard as guard_api  # release guard (issue 17)


def register(app: Chalice) -> None:
    for module in (system, teams, projects, deployments, builds, servers, observability_api, live):
        app.register_blueprint(module.bp)
    app.register_blueprint(releases_api.bp)
    app.register_blueprint(guard_api.bp)
    app.register_middleware(responses.chalice_errors_middleware, "http")
    app.register_middleware(observability.request_middleware, "http")
    app.register_middleware(observability.tracing_middleware, "http")
