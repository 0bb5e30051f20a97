"""The DeployRunner port: what the deploy worker, health checks and the logs API need from a runner.

Two adapters: LocalDeployRunner (a process on this machine) and EcsDeployRunner (a Fargate task
behind an ALB). The worker decides *when* (health before the switch, the switch before the stop);
the runner only knows *how*.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from chalicelib.db.models import Deployment, Server

OBSERVABILITY_KINDS = ("spans", "logs", "metrics", "scores")


@dataclass(frozen=True)
class ServerSpec:
    """Everything needed to start one server of one build."""
    server_id: str
    deploy_id: str
    deployment_id: str
    project_id: str
    team_id: str
    build_id: str
    slug: str
    environment: str
    commit: str | None
    artifact_bucket: str
    artifact_key: str
    artifact_sha256: str | None = None
    env: dict[str, str] = field(default_factory=dict)  # the project's decrypted vars + deployment overrides
    node_major: int | None = None  # the build's Node major; None: the default

    def runtime_env(self) -> dict[str, str]:
        """What the server sees besides its own variables: ids for the injected exporter."""
        return {
            "MASTRA_ADMIN_TEAM_ID": self.team_id, "MASTRA_ADMIN_PROJECT_ID": self.project_id,
            "MASTRA_ADMIN_DEPLOYMENT_ID": self.deployment_id, "MASTRA_ADMIN_BUILD_ID": self.build_id,
            "MASTRA_ADMIN_SERVER_ID": self.server_id, "MASTRA_ADMIN_ENVIRONMENT": self.environment,
            "MASTRA_ADMIN_SERVICE_NAME": f"mastra-admin:{self.deployment_id}",
            **({"MASTRA_ADMIN_COMMIT": self.commit} if self.commit else {}),
            "MASTRA_TELEMETRY_DISABLED": "1", "NODE_ENV": "production",
        }


@dataclass(frozen=True)
class Started:
    host: str | None = None
    port: int | None = None
    pid: int | None = None
    pid_started_at: float | None = None
    workdir: str | None = None
    task_arn: str | None = None
    task_definition_arn: str | None = None

    def fields(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Probe:
    """One health check: is the server alive, does it answer its health path, what does it use."""
    alive: bool
    healthy: bool
    detail: str | None = None
    cpu_percent: float | None = None
    memory_bytes: int | None = None

    @property
    def health(self) -> str:
        return "dead" if not self.alive else "healthy" if self.healthy else "unhealthy"


@dataclass(frozen=True)
class LogSlice:
    offset: int  # offset of the first line
    next_offset: int
    lines: list[str]


class DeployRunner(Protocol):
    name: str

    def start(self, spec: ServerSpec) -> Started: ...

    def probe(self, server: Server) -> Probe: ...

    def activate(self, deployment: Deployment, server: Server, previous: Server | None) -> dict | None:
        """Make the route able to serve `server` (an ALB target) before the deployment item is switched.

        Returns Server fields learnt meanwhile (a task's IP), to be stored."""

    def deactivate(self, deployment: Deployment, server: Server) -> None:
        """Take `server` out of the route (the old server after a switch; a failed new one)."""

    def stop(self, server: Server) -> None: ...

    def logs(self, server: Server, since: int | None, tail: int | None, limit: int) -> LogSlice: ...

    def upstream(self, server: Server) -> str | None:
        """host:port the local router proxies to; None where a load balancer routes instead."""

    def alive(self, server: Server) -> bool | None:
        """Whether the server's process lives, as seen from here; None where this runner cannot tell
        (an ECS task: the runner's reconciler owns it)."""

    def ship(self, server: Server, final: bool = False) -> int:
        """Move the server's closed observability files to S3; the count shipped. A no-op (0) where
        the server ships its own (an ECS task)."""


def observability_key(kind: str, team_id: str, project_id: str, deployment_id: str, filename: str) -> str:
    """S3 key of one closed observability file; the ingest worker listens on this prefix."""
    return f"observability/{kind}/{team_id}/{project_id}/{deployment_id}/{filename}"
