"""Query-string models: the same model parses a route's query parameters and describes them in
the OpenAPI document (chalicelib/api/params.py), so the two cannot drift."""
from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _digits(raw: Any) -> Any:
    # ASCII digits only: "²".isdigit() is True, and int() of it fails.
    if isinstance(raw, str) and not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        raise ValueError("must be a non-negative integer of at most 9 digits")
    return raw


Offset = Annotated[int, Field(ge=0, le=999_999_999), BeforeValidator(_digits)]


class Query(BaseModel):
    """Base of query-string models; names as in the URL. Unknown names are ignored unless a model
    forbids them. `field_codes`: errors answer `invalid_{name}` instead of `invalid_query`."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)
    field_codes: ClassVar[bool] = False


class LogOffsetQuery(Query):
    field_codes: ClassVar[bool] = True
    since: Offset = Field(0, description="Line offset to read from (the nextOffset of the previous read)")


class ServerLogQuery(Query):
    field_codes: ClassVar[bool] = True
    tail: Offset | None = Field(None, description="The last N lines (default 100 when `since` is absent; "
                                                  "at most 5000 are returned)")
    since: Offset | None = Field(None, description="Line offset to read from (the nextOffset of the previous read)")
