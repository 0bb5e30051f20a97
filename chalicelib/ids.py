"""Resource ids: a kind prefix and a time-sortable 26-character ULID-like body."""
from __future__ import annotations

import re
import secrets
import time

from chalicelib.errors import BadRequest

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case

PREFIXES = {
    "team": "team_",
    "project": "prj_",
    "deployment": "dep_",
    "build": "bld_",
    "server": "srv_",
    "deploy": "dpl_",
    "apikey": "key_",
}


def ulid() -> str:
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id(kind: str) -> str:
    return PREFIXES[kind] + ulid()


ID_BODY = "[0-9abcdefghjkmnpqrstvwxyz]{26}"  # the only pattern of an id body: every other one builds on it


def id_pattern(kind: str) -> str:
    """The regular expression of a whole `kind` id, for pydantic fields and the OpenAPI document."""
    return f"^{PREFIXES[kind]}{ID_BODY}$"


_PATTERNS = {kind: re.compile(id_pattern(kind)) for kind in PREFIXES}
ULID_PATTERN = re.compile(f"^{ID_BODY}$")


def check_id(kind: str, value: str) -> str:
    """Reject a malformed id before it reaches the store: a clear 400, never a 500 or a scan."""
    if not _PATTERNS[kind].match(value or ""):
        raise BadRequest(f"'{value[:80]}' is not a valid {kind} id", code="invalid_id")
    return value


USER_ID_PATTERN = r"^[A-Za-z0-9._:@|+-]{1,128}$"
_USER_ID = re.compile(USER_ID_PATTERN)


def check_user_id(value: str) -> str:
    if not _USER_ID.match(value or ""):
        raise BadRequest("user ids are 1-128 characters of letters, digits and ._:@|+-", code="invalid_id")
    return value
