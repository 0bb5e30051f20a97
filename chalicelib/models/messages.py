"""Bodies of queue messages. A message names the work; the state lives in DynamoDB."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class BuildMessage(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    build_id: str = Field(alias="buildId", pattern=r"^bld_[0-9a-z]{26}$")
