"""Shared fixtures: fake AWS credentials, and one real local stack per test session."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from tests.support.jwts import HS256_SECRET, token_for  # noqa: E402
from tests.support.builds import BUILD_ENV  # noqa: E402
from tests.support.github_fake import FakeGitHub  # noqa: E402
from tests.support.deploys import kill_servers  # noqa: E402
from tests.support.stack import start_stack, stop_stack  # noqa: E402


GITHUB_TOKEN = "ghp_fake_token_for_tests_0123456789abcdef"


@pytest.fixture(scope="session")
def github():
    """A local fake of the GitHub API (ref lookup and tarball download, token required)."""
    fake = FakeGitHub(token=GITHUB_TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory, github):
    """The whole local stack (moto server, chDB, the Chalice app, the worker) as `make up` runs it."""
    s = start_stack(tmp_path_factory.mktemp("ma-home"), {
        "MA_JWT_HS256_SECRET": HS256_SECRET, "MA_GITHUB_API_URL": github.url, **BUILD_ENV})
    yield s
    stop_stack(s)
    kill_servers(s.home)  # deployed servers outlive the stack on purpose


@pytest.fixture
def owner(stack):
    return stack.session(stack.owner_key)


@pytest.fixture
def as_user(stack):
    """A requests session authenticated as `user_id` through a JWT."""
    return lambda user_id: stack.session(token_for(user_id))
