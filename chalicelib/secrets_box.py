"""KMS envelope encryption of secret values (env vars).

A fresh data key per value from `GenerateDataKey`, bound to an encryption context (team, project,
name) so a blob copied to another variable does not decrypt. Stored as
`v1.<b64 encrypted data key>.<b64 nonce+AES-GCM ciphertext>`. Plaintext leaves only through
`decrypt`, which only deploys call.
"""
from __future__ import annotations

import base64
import os

from chalicelib.aws import client, error_code
from chalicelib.errors import Unavailable
from chalicelib.settings import get_settings

_VERSION = "v1"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def encrypt(plaintext: str, context: dict[str, str]) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        key = client("kms").generate_data_key(
            KeyId=get_settings().kms_key_alias, KeySpec="AES_256", EncryptionContext=context
        )
    except Exception as e:  # botocore errors: the value is not stored, the caller may retry
        raise Unavailable("Encryption is unavailable", code="kms_unavailable", details=error_code(e) or None) from e
    nonce = os.urandom(12)
    sealed = AESGCM(key["Plaintext"]).encrypt(nonce, plaintext.encode(), None)
    return ".".join((_VERSION, _b64(key["CiphertextBlob"]), _b64(nonce + sealed)))


def decrypt(blob: str, context: dict[str, str]) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    version, wrapped_key, sealed = blob.split(".")
    if version != _VERSION:
        raise ValueError(f"unknown envelope version {version!r}")
    try:
        key = client("kms").decrypt(CiphertextBlob=base64.b64decode(wrapped_key), EncryptionContext=context)
    except Exception as e:
        raise Unavailable("Decryption is unavailable", code="kms_unavailable", details=error_code(e) or None) from e
    raw = base64.b64decode(sealed)
    return AESGCM(key["Plaintext"]).decrypt(raw[:12], raw[12:], None).decode()
