"""Pydantic schemas of the REST API: request bodies (strict) and responses (camelCase)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, Literal, TypeVar, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

from chalicelib.auth.rbac import Role
from chalicelib.ids import id_pattern

T = TypeVar("T")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
UserId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:@|+-]{1,128}$")]
MachineName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$")]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
# Git-ref-like: slash-separated components that each start with a letter or digit.
Branch = Annotated[
    str, StringConstraints(max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")
]
Repo = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$")]
SecretValue = Annotated[str, StringConstraints(max_length=32 * 1024)]

MASK = "********"


class Request(BaseModel):
    """Bodies reject unknown fields: a typo must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, defer_build=True)


class Response(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, defer_build=True)


# --- requests -------------------------------------------------------------------------------


class TeamCreate(Request):
    name: Name


class MemberCreate(Request):
    user_id: UserId
    role: Role = Role.developer


class MemberUpdate(Request):
    role: Role


class ApiKeyCreate(Request):
    name: Name
    user_id: UserId | None = Field(default=None, description="Mint the key for this member (owner/admin only)")
    machine_user: MachineName | None = Field(
        default=None, description="Mint the key for a named machine user, made a member with `role`"
    )
    role: Role = Field(default=Role.developer, description="Role of a new machine user")


class GithubSource(Request):
    """A GitHub repository: through the GitHub App (`repository` + `installationId`: push and pull request
    webhooks build it), or downloaded with the project's source token (`repo`, no webhooks)."""

    type: Literal["github"]
    repo: Repo | None = Field(default=None, description="owner/name, fetched with the project's source token")
    repository: Repo | None = Field(default=None, description="owner/name, linked through the GitHub App")
    installation_id: int | None = Field(default=None, ge=1, le=2**53, description="The App installation's id")
    branch: Branch = "main"
    build_fork_pull_requests: bool = Field(default=False, description="Build pull requests from forks "
                                           "(never with the project's secrets)")
    skip_draft_pull_requests: bool = Field(default=False, description="Build drafts only when ready for review")

    @model_validator(mode="after")
    def _names_one_repository(self) -> "GithubSource":
        if not (self.repo or self.repository):
            raise ValueError("name the repository (`repository` with `installationId`, or `repo`)")
        if self.repo and self.repository and self.repo.lower() != self.repository.lower():
            raise ValueError("`repo` and `repository` name different repositories")
        if self.installation_id is not None and not self.repository:
            raise ValueError("`installationId` goes with `repository`")
        return self


class LocalSource(Request):
    type: Literal["local"]
    path: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class GitSource(Request):
    type: Literal["git"]
    url: Annotated[str, StringConstraints(max_length=2048, pattern=r"^(https://|ssh://|git@|file:///)\S+$")]
    branch: Branch = "main"


Source = Annotated[Union[GithubSource, LocalSource, GitSource], Field(discriminator="type")]


# One line of shell, shown in the build log: no newlines or other control characters.
Command = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000, pattern=r"^[^\x00-\x1f\x7f]*$")]
RootDirectory = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]


class BuildSettingsFields(Request):
    """As Vercel's project settings: all optional; in an update, null (or "") returns to the default."""
    root_directory: RootDirectory | None = Field(
        default=None, description="The app's directory in the repository (a monorepo's apps/agent); "
        "the install runs at the workspace root above it, the build in it")
    install_command: Command | None = Field(default=None, description="Replaces the detected install (run with sh -c)")
    build_command: Command | None = Field(default=None, description="Replaces the detected build (run with sh -c)")
    start_command: Command | None = Field(default=None, description="How the server starts (run with sh -c)")


class ProjectCreate(BuildSettingsFields):
    name: Name
    source: Source
    default_branch: Branch | None = None


class ProjectUpdate(BuildSettingsFields):
    name: Name | None = None
    source: Source | None = None
    default_branch: Branch | None = None


CommitSha = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{7,40}$")]


class BuildCreate(Request):
    ref: Branch | None = Field(default=None, description="Branch or tag to build; default: the deployment's branch")
    commit: CommitSha | None = Field(default=None, description="Exact commit to build; wins over ref")


class SourceTokenSet(Request):
    token: Annotated[str, StringConstraints(min_length=1, max_length=1024)] = Field(
        description="GitHub token used to download the repository; never returned")


class EnvVarSet(Request):
    value: SecretValue


class DeploymentCreate(Request):
    type: Literal["production", "staging", "preview"]
    branch: Branch | None = Field(default=None, description="Defaults to the project's default branch")


class DeploymentUpdate(Request):
    env_overrides: dict[EnvName, SecretValue | None] | None = Field(
        default=None, max_length=200, description="Set a value, or null to remove the override"
    )
    branch: Branch | None = None


class DeployRequest(Request):
    build_id: Annotated[str, StringConstraints(pattern=id_pattern("build"))] | None = Field(
        default=None, description="A succeeded build of this deployment; default depends on the action")


# --- responses ------------------------------------------------------------------------------


class Page(Response, Generic[T]):
    items: list[T]
    next_cursor: str | None


class Team(Response):
    id: str
    name: str
    role: Role | None = Field(default=None, description="The caller's role in the team")
    created_at: datetime


class Member(Response):
    team_id: str
    user_id: str
    role: Role
    machine: bool
    created_at: datetime


class ApiKey(Response):
    id: str
    name: str
    team_id: str
    user_id: str
    scope_team_id: str | None
    hint: str = Field(description="The last four characters of the token")
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKey):
    secret: str = Field(description="The token. Shown once; only its hash is stored")


class ProjectOut(Response):
    id: str
    team_id: str
    name: str
    slug: str
    source: dict
    default_branch: str
    root_directory: str | None = None
    install_command: str | None = None
    build_command: str | None = None
    start_command: str | None = None
    created_at: datetime
    updated_at: datetime


class EnvVarOut(Response):
    name: str
    value: str = Field(description="Always masked")
    updated_at: datetime


BuildStatus = Literal["queued", "building", "succeeded", "failed", "cancelled", "superseded"]


class BuildOut(Response):
    id: str
    deployment_id: str
    project_id: str
    team_id: str
    environment: str
    status: BuildStatus
    trigger: str
    ref: str | None
    commit: str | None
    attempt: int
    runner: str | None
    reason: str | None
    log_lines: int
    log_key: str | None
    artifact_key: str | None
    artifact_sha256: str | None
    artifact_bytes: int | None
    node_major: int | None = Field(default=None, description="The Node.js major the build ran on; its servers run on it")
    github: dict | None = Field(default=None, description="What the GitHub delivery that triggered it said: "
                                "deliveryId, event, sha, pusher, message, pull")
    created_at: datetime
    queued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None


class BuildLogOut(Response):
    build_id: str
    offset: int = Field(description="Offset of the first line returned")
    next_offset: int = Field(description="Pass as `since` to read on")
    lines: list[str]
    complete: bool = Field(description="The build has ended and every line is here")


class SourceTokenOut(Response):
    provider: Literal["github"]
    hint: str = Field(description="Last characters of the token")
    updated_at: datetime


class MaskedVar(Response):
    name: str
    value: str


class DeploymentOut(Response):
    id: str
    project_id: str
    team_id: str
    type: Literal["production", "staging", "preview"]
    branch: str
    slug: str
    status: Literal["pending", "building", "deploying", "running", "stopped", "failed"]
    current_build_id: str | None
    server_id: str | None
    public_url: str | None
    status_reason: str | None = None
    env_overrides: list[MaskedVar]
    created_at: datetime
    updated_at: datetime


class DeployOut(Response):
    id: str
    deployment_id: str
    project_id: str
    team_id: str
    action: Literal["deploy", "stop"]
    trigger: str
    build_id: str | None
    server_id: str | None
    previous_server_id: str | None
    status: Literal["queued", "running", "succeeded", "failed", "superseded"]
    attempt: int
    reason: str | None
    requested_by: str | None
    created_at: datetime
    started_at: datetime | None
    healthy_at: datetime | None
    finished_at: datetime | None


class ServerOut(Response):
    id: str
    deployment_id: str
    build_id: str
    team_id: str
    project_id: str | None
    deploy_id: str | None
    runner: str
    status: Literal["starting", "running", "stopping", "stopped", "failed", "exited"]
    health: Literal["unknown", "healthy", "unhealthy", "dead"]
    host: str | None
    port: int | None
    pid: int | None
    task_arn: str | None
    cpu_percent: float | None
    memory_bytes: int | None
    last_check_at: datetime | None
    started_at: datetime | None
    stopped_at: datetime | None
    reason: str | None
    created_at: datetime


class ServerLogOut(Response):
    server_id: str
    offset: int = Field(description="Line offset of the first line returned")
    next_offset: int = Field(description="Pass as `since` to read on")
    lines: list[str]


class WsTicket(Response):
    ticket: str = Field(description="Single use: connect with `?ticket=` before it expires")
    expires_at: datetime
    url: str | None = Field(default=None, description="The WebSocket URL with the ticket (absent if not configured)")


class ComponentHealth(Response):
    status: Literal["up", "down"]
    latency_ms: float
    error: str | None = None


class Health(Response):
    status: Literal["ok", "degraded"]
    components: dict[str, ComponentHealth]


class ErrorBody(Response):
    code: str
    message: str
    details: object | None = None


class Error(Response):
    error: ErrorBody
