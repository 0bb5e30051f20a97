"""Shared fixtures: fake AWS credentials, and one real local stack per test session."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from tests.support.jwts import HS256_SECRET, token_for  # noqa: E402
from tests.support.stack import start_stack, stop_stack  # noqa: E402


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """The whole local stack (moto server, chDB, the Chalice app) as `make up` runs it."""
    s = start_stack(tmp_path_factory.mktemp("ma-home"), {"MA_JWT_HS256_SECRET": HS256_SECRET})
    yield s
    stop_stack(s)


@pytest.fixture
def owner(stack):
    return stack.session(stack.owner_key)


@pytest.fixture
def as_user(stack):
    """A requests session authenticated as `user_id` through a JWT."""
    return lambda user_id: stack.session(token_for(user_id))
