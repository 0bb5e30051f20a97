"""HS256 tokens for test users, signed with the secret the test stack is configured with."""
from __future__ import annotations

import time

import jwt

HS256_SECRET = "test-hs256-secret-planted-7f3c91"


def token_for(user_id: str, secret: str = HS256_SECRET, ttl: int = 3600, **claims) -> str:
    now = int(time.time())
    return jwt.encode({"sub": user_id, "iat": now, "exp": now + ttl, **claims}, secret, algorithm="HS256")
