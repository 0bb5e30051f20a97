"""Bodies of queue messages. A message names the work; the state lives in DynamoDB."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.ids import id_pattern


class BuildMessage(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)

    build_id: str = Field(alias="buildId", pattern=id_pattern("build"))


class DeployMessage(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)

    deploy_id: str = Field(alias="deployId", pattern=id_pattern("deploy"))
