"""The @connections client's SigV4 signer signs exactly as botocore's SigV4Auth does."""
from __future__ import annotations

import datetime
import hashlib
from unittest import mock

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from chalicelib.services.live.connections_api import SigV4

NOW = datetime.datetime(2026, 11, 27, 23, 59, 58, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize("token", [None, "session-token/with+chars="])
@pytest.mark.parametrize("path", ["/@connections/abc%3D", "/prod/@connections/L0SM9cOFvHcCIhw%3D", "/@connections/x"])
def test_signature_matches_botocores(token, path):
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token).get_frozen_credentials()
    body = b'{"type":"log","lines":["a"]}'
    digest = hashlib.sha256(body).hexdigest()
    host = "abc123.execute-api.eu-west-1.amazonaws.com"
    request = AWSRequest(method="POST", url=f"https://{host}{path}", data=body,
                         headers={"Host": host, "X-Amz-Content-SHA256": digest})
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        SigV4Auth(credentials, "execute-api", "eu-west-1").add_auth(request)

    ours = SigV4(credentials, "execute-api", "eu-west-1").headers("POST", path, host, digest, now=NOW)

    assert ours["Authorization"] == request.headers["Authorization"]
    assert ours["X-Amz-Date"] == request.headers["X-Amz-Date"]
    assert ours.get("X-Amz-Security-Token") == request.headers.get("X-Amz-Security-Token")


def test_the_signing_key_follows_the_day():
    credentials = Credentials("AKID", "secret").get_frozen_credentials()
    signer = SigV4(credentials, "execute-api", "us-east-1")
    today = signer.headers("POST", "/@connections/a", "h", "0" * 64, now=NOW)["Authorization"]
    tomorrow = signer.headers("POST", "/@connections/a", "h", "0" * 64,
                              now=NOW + datetime.timedelta(seconds=5))["Authorization"]
    assert "/20261127/" in today and "/20261128/" in tomorrow
