"""JWT verification with a shared HS256 secret: pure, no sockets."""
from __future__ import annotations

import time

import jwt
import pytest

from chalicelib.auth.tokens import verify_jwt
from chalicelib.errors import Unauthorized
from chalicelib.settings import Settings


def _claims(**extra):
    now = int(time.time())
    return {"sub": "user-1", "iat": now, "exp": now + 60, **extra}


def test_hs256_requires_sub_and_exp():
    settings = Settings(jwt_hs256_secret="s" * 32)
    assert verify_jwt(jwt.encode(_claims(), "s" * 32, algorithm="HS256"), settings) == "user-1"
    with pytest.raises(Unauthorized):
        verify_jwt(jwt.encode({"sub": "x"}, "s" * 32, algorithm="HS256"), settings)
    with pytest.raises(Unauthorized):
        verify_jwt(jwt.encode({"exp": int(time.time()) + 60}, "s" * 32, algorithm="HS256"), settings)
