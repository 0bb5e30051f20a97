"""Shared fixtures and the tiers.

Tiers, one per directory, each a marker (pytest.ini):
  unit/         pure functions and fakes: no sockets, no subprocesses of Node, no AWS
  fast/         the Chalice app in-process (chalice.test.Client), AWS in moto's in-process mock
  integration/  what crosses a process or a socket: the local stack, moto server, chDB, Node, routers
  e2e/          real Mastra builds
  browser/      the web console in headless Chromium against one local stack
`make test-fast` runs unit and fast; `make test` runs everything.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.jwts import token_for

TESTS = Path(__file__).resolve().parent
TIERS = ("unit", "fast", "integration", "e2e", "browser")
GITHUB_TOKEN = "ghp_fake_token_for_tests_0123456789abcdef"


# Modules that write the one Lambda package in build/ (make package, make deploy, a wheel of the repo):
# under `make test`'s two processes they run one after the other, in the same process.
SHARES_THE_PACKAGE = {"test_lean_package.py", "test_stage_deploy.py", "test_aws_iam.py", "test_cli_package.py"}


# Longest first (measured: each takes minutes of one worker): with `--no-loadscope-reorder`, xdist
# hands out groups in collection order, so no worker is left with a long group at the end while the
# other idles. Tiers in this order, then these modules at the head of their tier.
LONGEST_TIERS = ("e2e", "browser", "integration", "fast", "unit")
LONGEST_MODULES = ("test_openapi_fuzz.py", "test_ecs_routing_scale.py", "test_deploy_recovery.py",
                   "test_local_stack_shutdown.py", "test_local_stack_restart.py", "test_build_recovery.py")


def _longest_first(tier: str, name: str) -> tuple[int, int]:
    return (LONGEST_TIERS.index(tier) if tier in LONGEST_TIERS else len(LONGEST_TIERS),
            LONGEST_MODULES.index(name) if name in LONGEST_MODULES else len(LONGEST_MODULES))


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Mark every test with the tier of its directory; a test outside the tiers fails collection. Each
    module is one xdist group (its module fixtures, a local stack often, are started once); the browser tier
    is one group: its modules share one local stack and one built deployment."""
    order: dict[str, tuple[int, int]] = {}
    for item in items:
        tier = Path(item.path).resolve().relative_to(TESTS).parts[0]
        order[item.nodeid] = _longest_first(tier, item.path.name)
        if tier not in TIERS:
            raise pytest.UsageError(f"{item.nodeid}: tests live in one of tests/{{{','.join(TIERS)}}}/")
        item.add_marker(getattr(pytest.mark, tier))
        group = "package" if item.path.name in SHARES_THE_PACKAGE else item.nodeid.split("::")[0]
        if tier == "browser":
            group = "browser"
        item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: order[item.nodeid])  # stable: a module's tests keep their order


@pytest.fixture(scope="session", autouse=True)
def fake_aws_credentials():
    """No test may reach a real AWS account: fake credentials unless the caller set some."""
    import os

    with pytest.MonkeyPatch.context() as mp:
        for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                            ("AWS_DEFAULT_REGION", "us-east-1")):
            if name not in os.environ:
                mp.setenv(name, value)
        yield


@pytest.fixture
def moto_url():
    """moto server on loopback for one test (a module-scoped one: `with moto_server()` in the module)."""
    from tests.support.local_aws import moto_server

    with moto_server() as url:
        yield url


@pytest.fixture(scope="session")
def github():
    """A local fake of the GitHub API (ref lookup and tarball download, token required)."""
    from tests.support.github_fake import FakeGitHub

    fake = FakeGitHub(token=GITHUB_TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory, github):
    """The whole local stack (moto server, chDB, the Chalice app, the worker) as `make up` runs it."""
    from tests.support.builds import BUILD_ENV
    from tests.support.deploys import kill_servers, server_processes
    from tests.support.jwts import HS256_SECRET
    from tests.support.stack import start_stack, stop_stack

    s = start_stack(tmp_path_factory.mktemp("ma-home"), {
        "MA_JWT_HS256_SECRET": HS256_SECRET, "MA_GITHUB_API_URL": github.url, **BUILD_ENV})
    yield s
    stop_stack(s)
    left = server_processes(s.home)
    kill_servers(s.home)  # a safety net only: the stack stops its servers
    assert left == [], f"deployed servers outlived the stack: {left}"


@pytest.fixture
def control_plane(stack):
    """What `owner` and `as_user` talk to: the local stack here; tests/fast overrides it with the app in-process."""
    return stack


@pytest.fixture
def owner(control_plane):
    return control_plane.session(control_plane.owner_key)


@pytest.fixture
def as_user(control_plane):
    """A session authenticated as `user_id` through a JWT."""
    return lambda user_id: control_plane.session(token_for(user_id))


@pytest.fixture
def published():
    """(channel, message) of everything published in this process while the test runs."""
    from chalicelib import channels

    seen: list[tuple[str, dict]] = []
    remove = channels.add_sink(lambda channel, message: seen.append((channel, message)))
    yield seen
    remove()
