"""Registers every blueprint and middleware on the Chalice app, when its routes are first read.

Every function of the stage (API, queues, schedules, WebSocket) imports app.py, but only the API
function routes requests. `App.routes` therefore registers the route modules (their pydantic
models and services) at first use: a request, `chalice package`, the local gateway or a test
client. The queue, schedule and WebSocket functions start without importing them.
"""
from __future__ import annotations

import threading
from typing import Callable

from chalice import Chalice

Registrar = Callable[[Chalice], None]


def register(app: Chalice) -> None:
    from chalicelib import control_plane_log as observability
    from chalicelib.api import builds, deployments, live, projects, responses, servers, system, teams
    from chalicelib.api import guard, releases
    from chalicelib.api import observability as observability_api

    for module in (system, teams, projects, deployments, builds, servers, observability_api, live, releases, guard):
        app.register_blueprint(module.bp)
    app.register_middleware(responses.chalice_errors_middleware, "http")
    app.register_middleware(observability.request_middleware, "http")
    app.register_middleware(observability.tracing_middleware, "http")


class App(Chalice):
    """A Chalice app whose routes are registered by `on_routes` registrars at their first use."""

    _registrars: list[Registrar] = []
    _pending = False

    def __init__(self, app_name: str):
        self._lock = threading.RLock()
        super().__init__(app_name=app_name)
        self._registrars = []
        self._pending = True

    def on_routes(self, registrar: Registrar) -> Registrar:
        """Run `registrar(app)` when the routes are first read (at once if they have been)."""
        with self._lock:
            self._registrars.append(registrar)
            if not self._pending:
                registrar(self)
        return registrar

    @property  # type: ignore[override]
    def routes(self):
        if self._pending:
            with self._lock:
                if self._pending:
                    self._pending = False  # before registering: registering reads the routes itself
                    for registrar in self._registrars:
                        registrar(self)
        return self._routes

    @routes.setter
    def routes(self, value) -> None:
        self._routes = value
