"""The router's cache is dropped by the deployment's channel: a status published by any process
reaches every router task's own queue through the route topic (moto server, the real wire)."""
from __future__ import annotations

import time

import pytest

from chalicelib.router.invalidation import Listener, sink
from chalicelib.router.routes import Route, RouteTable
from tests.support.local_aws import moto_server
from tests.support.moto_ecs import client

pytestmark = pytest.mark.integration


def _eventually(check, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def settings_cleared_after():
    """Settings and clients read under this test's environment are dropped once it is restored."""
    from tests.support.inprocess import clear_caches

    yield clear_caches
    clear_caches()


def test_a_deployment_status_drops_its_cached_route_in_every_router_and_nothing_else(settings_cleared_after,
                                                                                   monkeypatch):
    with moto_server() as url:
        sns, sqs = client(url, "sns"), client(url, "sqs")
        topic = sns.create_topic(Name="mastra-admin-test-routes")["TopicArn"]
        upstreams = {"app-a": "10.0.0.1:8080", "app-b": "10.0.0.2:8080"}
        reads: list[str] = []

        def lookup(slug: str) -> Route:
            reads.append(slug)
            return Route(True, upstreams[slug], "running", f"dep_{slug}")

        tables = [RouteTable(3600.0, lookup) for _ in range(2)]  # two router tasks, a cache that never expires
        listeners = [Listener(topic, "mastra-admin-test", t.forget_deployment, sqs=sqs, sns=sns).start() for t in tables]
        try:
            for t in tables:
                assert t.get("app-a").upstream == "10.0.0.1:8080" and t.get("app-b").upstream == "10.0.0.2:8080"
            upstreams["app-a"] = "10.0.9.9:8080"  # the deploy worker switched app-a
            monkeypatch.setenv("MA_ROUTE_TOPIC_ARN", topic)
            monkeypatch.setenv("MA_AWS_ENDPOINT_URL", url)
            settings_cleared_after()
            sink("deployment:dep_app-b", {"type": "log", "lines": []})  # not a status: nothing sent
            sink("deployment:dep_app-a", {"type": "status", "status": "running"})
            assert _eventually(lambda: all(t.cached("app-a") is None for t in tables)), "both routers forgot it"
            assert all(t.get("app-a").upstream == "10.0.9.9:8080" for t in tables)
            assert all(t.cached("app-b").upstream == "10.0.0.2:8080" for t in tables), "the others stay cached"
            assert [lst.received for lst in listeners] == [1, 1]
        finally:
            for lst in listeners:
                lst.stop()
        names = [u.rsplit("/", 1)[-1] for u in sqs.list_queues().get("QueueUrls", [])]
        assert not [n for n in names if "-router-" in n], "a stopped router leaves no queue behind"
        assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
