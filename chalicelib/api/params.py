"""Query parameters that are line counts or offsets: digits only, at most 9 of them."""
from __future__ import annotations

from chalicelib.errors import BadRequest


def non_negative(raw: str | None, name: str, upper: int | None = None) -> int | None:
    """None when absent; a 400 `invalid_{name}` when not a non-negative integer; capped at `upper`."""
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise BadRequest(f"{name} must be a non-negative integer", code=f"invalid_{name}")
    return int(raw) if upper is None else min(int(raw), upper)
