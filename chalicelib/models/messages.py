"""Bodies of queue messages. A message names the work; the state lives in DynamoDB."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class BuildMessage(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)

    build_id: str = Field(alias="buildId", pattern=r"^bld_[0-9a-z]{26}$")


class DeployMessage(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)

    deploy_id: str = Field(alias="deployId", pattern=r"^dpl_[0-9a-z]{26}$")
