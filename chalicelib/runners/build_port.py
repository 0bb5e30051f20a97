"""The BuildRunner port: what the build worker needs from CodeBuild or from the local runner."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal, Protocol

from chalicelib.db.models import Build
from chalicelib.runners.build_plan import BuildSettings
from chalicelib.db.statuses import BuildStatus

LogLine = Callable[[str], None]


@dataclass(frozen=True)
class BuildJob:
    build_id: str
    team_id: str
    project_id: str
    deployment_id: str
    environment: str
    commit: str | None
    workspace: Path  # isolated: the fetched source is workspace/"src"
    env: dict[str, str] = field(default_factory=dict)  # the project's variables, for the build's processes
    artifact_bucket: str = ""
    artifact_key: str = ""
    build: BuildSettings = BuildSettings()  # the project's rootDirectory and command overrides
    # Set when the runner fetches the source itself (CodeBuild): the spec, a token included; source_dir is empty.
    remote_source: dict | None = field(default=None, repr=False)

    @property
    def source_dir(self) -> Path:
        return self.workspace / "src"

    @property
    def stamp(self) -> dict[str, str | None]:
        """What the injected observability entry stamps on every record."""
        return {
            "teamId": self.team_id, "projectId": self.project_id, "deploymentId": self.deployment_id,
            "buildId": self.build_id, "commit": self.commit, "environment": self.environment,
            "serviceName": f"mastra-admin:{self.deployment_id}",
        }


@dataclass(frozen=True)
class Outcome:
    """`started` means the runner continues on its own (CodeBuild) and reports completion later."""
    status: BuildStatus | Literal["started"]  # succeeded, failed, cancelled, or started
    reason: str | None = None
    artifact_key: str | None = None
    artifact_sha256: str | None = None
    artifact_bytes: int | None = None
    external_id: str | None = None
    node_major: int | None = None  # the Node the build ran on: its servers run on the same major

    def artifact_fields(self) -> dict:
        """What a succeeded build records about its artifact (nothing for any other outcome)."""
        if self.status != BuildStatus.SUCCEEDED:
            return {}
        return {"artifact_key": self.artifact_key, "artifact_sha256": self.artifact_sha256,
                "artifact_bytes": self.artifact_bytes, "node_major": self.node_major}


@dataclass(frozen=True)
class Check:
    """What the reaper learns about a build whose lease expired."""
    state: Literal["running", "finished", "lost"]
    outcome: Outcome | None = None


class BuildRunner(Protocol):
    name: str
    fetches_remote_sources: bool  # git and GitHub sources reach `run` unfetched, as `BuildJob.remote_source`

    def run(self, job: BuildJob, log: LogLine, cancel: threading.Event) -> Outcome: ...

    def check(self, build: Build) -> Check: ...

    def stop(self, build: Build) -> None: ...

    def cancel(self, build: Build) -> None:
        """Called by the API when a build is cancelled: stop it now where the worker cannot (a
        CodeBuild build runs on alone); a no-op where the worker kills it at its next heartbeat."""


def artifact_key(build_id: str) -> str:
    return f"artifacts/{build_id}.tgz"


def remote_spec(source: dict, ref: str | None, token: str | None, github_api_url: str) -> dict | None:
    """The spec CodeBuild fetches (None for a source only the worker can reach: a local path, file://)."""
    kind = source.get("type")
    if kind == "github":
        return {"type": "github", "repo": source["repo"], "ref": ref or source.get("branch") or "main",
                "token": token, "apiUrl": github_api_url}
    if kind == "git" and not str(source.get("url", "")).startswith("file:"):
        return {"type": "git", "url": source["url"], "ref": ref or source.get("branch") or "main"}
    return None
