"""The statuses of each entity, in one place. The values are stored and returned by the API as they
are: StrEnum members compare, hash, format and serialise as their string."""
from __future__ import annotations

from enum import StrEnum


class BuildStatus(StrEnum):
    """queued -> building -> succeeded | failed | cancelled; queued -> superseded | cancelled | failed."""

    QUEUED = "queued"
    BUILDING = "building"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"


BUILD_ACTIVE = (BuildStatus.QUEUED, BuildStatus.BUILDING)
BUILD_TERMINAL = (BuildStatus.SUCCEEDED, BuildStatus.FAILED, BuildStatus.CANCELLED, BuildStatus.SUPERSEDED)


class DeployStatus(StrEnum):
    """queued -> running -> succeeded | failed | superseded."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SUPERSEDED = "superseded"


DEPLOY_ACTIVE = (DeployStatus.QUEUED, DeployStatus.RUNNING)
DEPLOY_TERMINAL = (DeployStatus.SUCCEEDED, DeployStatus.FAILED, DeployStatus.SUPERSEDED)


class ServerStatus(StrEnum):
    """starting -> running -> stopping -> stopped; starting -> failed; starting | running -> exited."""

    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"
    EXITED = "exited"


SERVER_ACTIVE = (ServerStatus.STARTING, ServerStatus.RUNNING, ServerStatus.STOPPING)
SERVER_TERMINAL = (ServerStatus.STOPPED, ServerStatus.FAILED, ServerStatus.EXITED)


class DeploymentStatus(StrEnum):
    """What a deployment serves: pending (never deployed), building (a build of a deployment that
    serves nothing), deploying, running, stopped, failed."""

    PENDING = "pending"
    BUILDING = "building"
    DEPLOYING = "deploying"
    RUNNING = "running"
    STOPPED = "stopped"
    FAILED = "failed"
