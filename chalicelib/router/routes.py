"""Where a request goes: the slug from the address, the route from DynamoDB behind a short cache.

    http://{slug}.localhost:{port}/path   and   http://{host}:{port}/d/{slug}/path

Routes are the deployment's `upstream` ("host:port"), switched by the deploy worker in one
conditional write, and cached for MA_ROUTE_CACHE_SECONDS; the deploy worker waits longer than that
before it stops an old server, so a switch never drops a request. A status message on the
deployment's channel drops its entry at once (`forget_deployment`, fed by router/invalidation.py),
so the cache can be kept longer than the switch's wait without serving a stale route.
"""
from __future__ import annotations

import threading
import time
from typing import Callable


class Route:
    __slots__ = ("known", "upstream", "status", "deployment_id")

    def __init__(self, known: bool, upstream: str | None, status: str | None, deployment_id: str | None = None):
        self.known, self.upstream, self.status, self.deployment_id = known, upstream, status, deployment_id

    def __repr__(self) -> str:
        return f"Route(known={self.known}, upstream={self.upstream!r}, status={self.status!r})"


def dynamodb_lookup(slug: str) -> Route:
    from chalicelib.db.servers import deployment_for_slug

    deployment = deployment_for_slug(slug)
    if deployment is None:
        return Route(False, None, None)
    return Route(True, deployment.upstream, deployment.status, deployment.deployment_id)


def static_lookup(table: dict[str, str]) -> Callable[[str], Route]:
    """Fixed slug -> "host:port" routes (benchmarks, trying the router without a table)."""
    return lambda slug: Route(True, table[slug], "running") if slug in table else Route(False, None, None)


class RouteTable:
    """slug -> Route, each entry fresh for `ttl` seconds.

    `cached` never blocks (the proxy's fast path on its event loop); `get` may read the store.
    """

    def __init__(self, ttl: float, lookup: Callable[[str], Route] = dynamodb_lookup):
        self.ttl = ttl
        self.lookup = lookup
        self._cache: dict[str, tuple[float, Route]] = {}
        self._slugs: dict[str, set[str]] = {}  # deployment id -> its cached slugs
        self._generation = 0
        self._lock = threading.Lock()

    def cached(self, slug: str) -> Route | None:
        hit = self._cache.get(slug)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return None

    def get(self, slug: str, fresh: bool = False) -> Route:
        if not fresh:
            hit = self.cached(slug)
            if hit is not None:
                return hit
        now = time.monotonic()
        generation = self._generation
        route = self.lookup(slug)
        with self._lock:
            if generation == self._generation:  # no invalidation arrived while it was read
                self._cache[slug] = (now + self.ttl, route)
                if route.deployment_id:
                    self._slugs.setdefault(route.deployment_id, set()).add(slug)
        return route

    def forget_deployment(self, deployment_id: str) -> None:
        """The deployment's route changed: its entries go, and a read already under way is not cached."""
        with self._lock:
            self._generation += 1
            for slug in self._slugs.pop(deployment_id, ()):
                self._cache.pop(slug, None)


def split_target(host: str, path: str, domains: tuple[str, ...] = ("localhost",)) -> tuple[str | None, str]:
    """(slug, path for the server) from the Host header (`{slug}.{domain}`) or a /d/{slug}/ prefix."""
    name = host.rsplit(":", 1)[0].lower() if host else ""
    for domain in domains:
        if name.endswith("." + domain):
            slug = name[: -len(domain) - 1]
            if slug and "." not in slug:
                return slug, path or "/"
    if path.startswith("/d/"):
        rest = path[3:]
        slug, sep, tail = rest.partition("/")
        if "?" in slug:
            slug, _, query = slug.partition("?")
            return slug or None, "/?" + query
        return slug or None, "/" + tail if sep else "/"
    return None, path
