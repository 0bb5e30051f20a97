"""API key tokens and JWT verification. Only hashes of API keys are ever stored."""
from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from chalicelib.errors import Unauthorized
from chalicelib.ids import ID_BODY, ulid
from chalicelib.secret_settings import secret_setting
from chalicelib.settings import Settings

API_KEY_PREFIX = "ma_"
_API_KEY = re.compile(rf"^ma_({ID_BODY})_([A-Za-z0-9_-]{{43}})$")


@dataclass(frozen=True)
class NewApiKey:
    key_id: str
    token: str
    token_hash: str
    hint: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mint_api_key() -> NewApiKey:
    body = ulid()
    token = f"{API_KEY_PREFIX}{body}_{secrets.token_urlsafe(32)}"
    return NewApiKey(key_id=f"key_{body}", token=token, token_hash=hash_token(token), hint=token[-4:])


def parse_api_key(token: str) -> str:
    """The key id a well-formed token names; the hash is checked against the stored one later."""
    match = _API_KEY.match(token)
    if not match:
        raise Unauthorized("Malformed API key", code="invalid_token")
    return f"key_{match.group(1)}"


def hashes_match(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token), stored_hash)


JWKS_REFETCH_SECONDS = 60  # a token with an unknown `kid` refetches the JWKS at most this often per URL


@functools.lru_cache(maxsize=4)
def _jwks_client(url: str):
    import jwt

    # The key set is cached for 5 minutes; an unknown `kid` (a rotated key, or any forged token)
    # forces a refetch only once the cooldown since the last fetch has passed.
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=300, cooldown_duration=JWKS_REFETCH_SECONDS)


def verify_jwt(token: str, settings: Settings) -> str:
    """Verify a JWT with the one configured algorithm and return its `sub`."""
    return verify_jwt_claims(token, settings)[0]


def verify_jwt_claims(token: str, settings: Settings) -> tuple[str, int]:
    """Verify a JWT as `verify_jwt` does; (its `sub`, its `exp` in epoch seconds)."""
    import jwt  # lazy: only JWT callers pay for it

    hs256_secret = secret_setting("jwt_hs256_secret", settings)  # a stage's is in its settings secret
    if hs256_secret:
        key, algorithm = hs256_secret, "HS256"
    elif settings.jwks_url:
        try:
            key, algorithm = _jwks_client(settings.jwks_url).get_signing_key_from_jwt(token).key, "RS256"
        except jwt.PyJWTError as e:
            raise Unauthorized("The token's signing key could not be resolved", code="invalid_token") from e
    else:
        raise Unauthorized("JWT authentication is not configured; use an API key", code="invalid_token")
    options = {"require": ["sub", "exp"], "verify_aud": bool(settings.jwt_audience)}
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],  # pinned: never trust the token's own `alg`
            audience=settings.jwt_audience or None,
            issuer=settings.jwt_issuer or None,
            options=options,
        )
    except jwt.ExpiredSignatureError as e:
        raise Unauthorized("The token has expired", code="token_expired") from e
    except jwt.PyJWTError as e:
        raise Unauthorized("The token is invalid", code="invalid_token") from e
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise Unauthorized("The token has no subject", code="invalid_token")
    return sub, int(claims["exp"])
