"""The router's addressing and route cache, without sockets (the proxy itself: tests/integration/test_router.py)."""
from __future__ import annotations

from chalicelib.router.routes import Route, RouteTable, split_target


def test_targets_come_from_the_host_or_the_path_prefix():
    assert split_target("my-app.localhost:3100", "/x?y=1") == ("my-app", "/x?y=1")
    assert split_target("127.0.0.1:3100", "/d/my-app/api/a?b") == ("my-app", "/api/a?b")
    assert split_target("127.0.0.1:3100", "/d/my-app") == ("my-app", "/")
    assert split_target("127.0.0.1:3100", "/d/my-app?q=1") == ("my-app", "/?q=1")
    assert split_target("a.b.localhost", "/") == (None, "/")
    assert split_target("127.0.0.1", "/") == (None, "/")


def test_the_public_domain_addresses_a_slug_too():
    domains = ("localhost", "apps.example.com")
    assert split_target("My-App.apps.example.com", "/a", domains) == ("my-app", "/a")
    assert split_target("apps.example.com", "/a", domains) == (None, "/a")
    assert split_target("x.my-app.apps.example.com", "/a", domains) == (None, "/a")


def test_routes_are_cached_for_the_ttl_and_a_fresh_read_bypasses_the_cache():
    reads = []

    def lookup(slug):
        reads.append(slug)
        return Route(True, f"127.0.0.1:{4200 + len(reads)}", "running")

    table = RouteTable(60, lookup)
    assert table.cached("app") is None
    assert table.get("app").upstream == "127.0.0.1:4201"
    assert table.get("app").upstream == "127.0.0.1:4201" and table.cached("app").upstream == "127.0.0.1:4201"
    assert table.get("app", fresh=True).upstream == "127.0.0.1:4202"
    assert table.cached("app").upstream == "127.0.0.1:4202" and reads == ["app", "app"]
    assert RouteTable(0, lookup).get("app") and RouteTable(0, lookup).cached("app") is None


def test_the_proxy_takes_its_limits_and_domains_from_the_settings():
    from chalicelib.router.proxy import ProxyConfig
    from chalicelib.settings import Settings

    config = ProxyConfig.from_settings(Settings.from_env({
        "MA_PUBLIC_DOMAIN": "apps.example.com", "MA_ROUTER_MAX_BODY_MB": "2", "MA_ROUTER_HEADER_TIMEOUT": "3",
        "MA_ROUTER_BODY_TIMEOUT": "4", "MA_ROUTER_UPSTREAM_TIMEOUT": "5", "MA_ROUTER_TRUSTED_HOPS": "1"}))
    assert config == ProxyConfig(max_body_bytes=2 * 1024 * 1024, header_timeout=3, body_timeout=4, upstream_timeout=5,
                                 trusted_hops=1, domains=("localhost", "apps.example.com"))
    assert ProxyConfig.from_settings(Settings.from_env({})).domains == ("localhost",)
    assert ProxyConfig.from_settings(Settings.from_env({})).max_body_bytes == 10 * 1024 * 1024
