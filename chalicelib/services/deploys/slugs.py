"""DNS-safe slugs: lower case letters, digits and single dashes, at most one DNS label."""
from __future__ import annotations

import re
import secrets

MAX_LABEL = 63


def slugify(*parts: str, max_length: int = MAX_LABEL) -> str:
    text = "-".join(p for p in parts if p).lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    text = text[:max_length].rstrip("-")
    return text or "app"


def with_suffix(slug: str) -> str:
    """The same slug made unique by a short random suffix, still one DNS label."""
    suffix = secrets.token_hex(3)
    return f"{slug[: MAX_LABEL - len(suffix) - 1].rstrip('-')}-{suffix}"
