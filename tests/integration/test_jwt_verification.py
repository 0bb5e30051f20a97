"""JWT verification: RS256 against a JWKS served over real HTTP (a loopback server in this process)."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.auth.tokens import verify_jwt
from chalicelib.errors import Unauthorized
from chalicelib.settings import Settings


def _serve_jwks(key, fetches: list | None = None) -> ThreadingHTTPServer:
    """A loopback JWKS endpoint holding `key`'s public half as kid k1; each GET is noted in `fetches`."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if fetches is not None:
                fetches.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def jwks_server():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    server = _serve_jwks(key)
    yield key, f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    server.shutdown()
    server.server_close()


def _claims(**extra):
    now = int(time.time())
    return {"sub": "user-1", "iat": now, "exp": now + 60, **extra}


def test_rs256_tokens_verify_against_the_jwks_and_return_the_subject(jwks_server):
    key, url = jwks_server
    settings = Settings(jwks_url=url, jwt_audience="mastra-admin")
    token = jwt.encode(_claims(aud="mastra-admin"), key, algorithm="RS256", headers={"kid": "k1"})
    assert verify_jwt(token, settings) == "user-1"
    with pytest.raises(Unauthorized):
        verify_jwt(jwt.encode(_claims(aud="other"), key, algorithm="RS256", headers={"kid": "k1"}), settings)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthorized):
        verify_jwt(jwt.encode(_claims(aud="mastra-admin"), other, algorithm="RS256", headers={"kid": "k1"}), settings)


def test_an_hs256_token_is_refused_when_rs256_is_configured(jwks_server):
    _key, url = jwks_server
    settings = Settings(jwks_url=url)
    forged = jwt.encode(_claims(), "guess", algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(Unauthorized):
        verify_jwt(forged, settings)


def test_an_unknown_kid_refetches_the_jwks_at_most_once_a_minute(monkeypatch):
    """Forged tokens with ever new `kid`s must not turn every request into a JWKS fetch."""
    import jwt.jwks_client

    from chalicelib.auth import tokens

    key, fetches = rsa.generate_private_key(public_exponent=65537, key_size=2048), []
    server = _serve_jwks(key, fetches)
    clock = [1000.0]
    monkeypatch.setattr(jwt.jwks_client.time, "monotonic", lambda: clock[0])
    try:
        settings = Settings(jwks_url=f"http://127.0.0.1:{server.server_address[1]}/jwks-{time.time_ns()}")
        tokens._jwks_client.cache_clear()

        def forged(i):
            return jwt.encode(_claims(), key, algorithm="RS256", headers={"kid": f"unknown-{i}"})

        for i in range(10):
            with pytest.raises(Unauthorized):
                verify_jwt(forged(i), settings)
        assert len(fetches) == 1  # the first fetch; every unknown kid after it waits for the cooldown
        clock[0] += 45  # past PyJWT's default 30 s cooldown, inside ours
        with pytest.raises(Unauthorized):
            verify_jwt(forged(10), settings)
        assert len(fetches) == 1
        clock[0] += 16
        with pytest.raises(Unauthorized):
            verify_jwt(forged(11), settings)
        assert len(fetches) == 2  # a minute on, a rotated key is found again
        assert verify_jwt(jwt.encode(_claims(), key, algorithm="RS256", headers={"kid": "k1"}), settings) == "user-1"
    finally:
        server.shutdown()
        server.server_close()
        tokens._jwks_client.cache_clear()
