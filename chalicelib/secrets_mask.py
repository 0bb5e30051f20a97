"""Masking secret values out of every log line and reason the API returns or publishes.

A value is masked in the forms it is commonly printed in: as is; each of its lines when it spans
several (a PEM key printed line by line, or a log split per line), lines shorter than
MIN_LINE_CHARS excepted; JSON-escaped (`json.dumps(v)[1:-1]`, ASCII-escaped or not); base64 and
base64url of the whole value, padded or not; URL-encoded (`quote`, `quote_plus`). Values shorter
than MIN_SECRET_CHARS are not masked (they would shred ordinary words).

Whatever the known values, two shapes are always masked, since a build can print a credential the
masker was never given (an installation token minted for one clone, a token in a remote's URL):
GitHub tokens by their documented prefixes, and the user:password part of a URL.

Out of scope: a value inside a longer base64 or hex stream (its encoding then depends on where it
starts), other encodings (hex, gzip, double escaping), and a value split across log lines at
places other than its own line breaks.
"""
from __future__ import annotations

import base64
import json
import re
import urllib.parse
from typing import Iterable

MASK = "***"
MIN_SECRET_CHARS = 4
MIN_LINE_CHARS = 8
# GitHub's token formats (ghp_ personal, gho_ OAuth, ghu_ user-to-server, ghs_ installation,
# ghr_ refresh; github_pat_ fine-grained), and URL userinfo with a password.
TOKEN_SHAPES = re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{30,255})\b"
                          r"|(?<=://)[^/\s:@]+:[^/\s@]+(?=@)")


def printed_forms(value: str) -> set[str]:
    """The texts `value` is likely to appear as in a log."""
    raw = value.encode()
    forms = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1],
             urllib.parse.quote(value), urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value)}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        text = encode(raw).decode()
        forms |= {text, text.rstrip("=")}
    lines = value.splitlines()
    if len(lines) > 1:
        forms |= {line.strip() for line in lines if len(line.strip()) >= MIN_LINE_CHARS}
    return {form for form in forms if len(form) >= MIN_SECRET_CHARS}


class Masker:
    """Replaces every printed form of every secret with *** in one pass (longest form first, so a
    value that holds another is hidden whole)."""

    def __init__(self, secrets: Iterable[str]):
        forms: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET_CHARS:
                forms |= printed_forms(secret)
        ordered = sorted(forms, key=lambda form: (-len(form), form))
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __call__(self, text: str) -> str:
        if not text:
            return text
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return TOKEN_SHAPES.sub(MASK, text)

    def lines(self, lines: Iterable[str]) -> list[str]:
        return [self(line) for line in lines]
