"""The parts of GitHub's webhook payloads this platform acts on, as typed models.

The endpoint reads a delivery into one of these (unknown fields ignored) and queues only that, so a
message stays far below SQS's 256 KB whatever GitHub sent (push bodies can reach megabytes).
"""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)


class Installation(Model):
    id: int


class Repository(Model):
    full_name: str


class Pusher(Model):
    name: str = ""


class Commit(Model):
    message: str = ""


class Push(Model):
    ref: str
    after: str
    deleted: bool = False
    repository: Repository
    installation: Optional[Installation] = None
    pusher: Pusher = Field(default_factory=Pusher)
    head_commit: Optional[Commit] = None

    @property
    def branch(self) -> str | None:
        return self.ref.removeprefix("refs/heads/") if self.ref.startswith("refs/heads/") else None


class PullEnd(Model):
    ref: str
    sha: str
    repo: Optional[Repository] = None  # null when the fork was deleted


class Pull(Model):
    number: int
    draft: bool = False
    head: PullEnd
    base: PullEnd


class PullRequest(Model):
    action: str
    number: int
    pull_request: Pull
    repository: Repository
    installation: Optional[Installation] = None

    @property
    def fork(self) -> bool:
        head = self.pull_request.head.repo
        return head is None or head.full_name.lower() != self.repository.full_name.lower()


class InstallationEvent(Model):
    action: str
    installation: Installation
    repositories: list[Repository] = Field(default_factory=list)


class InstallationRepositories(Model):
    action: str
    installation: Installation
    repositories_added: list[Repository] = Field(default_factory=list)
    repositories_removed: list[Repository] = Field(default_factory=list)


PULL_ACTIONS = ("opened", "reopened", "synchronize", "ready_for_review", "closed")
INSTALLATION_ACTIONS = ("created", "deleted", "suspend", "unsuspend")
REPOSITORIES_ACTIONS = ("added", "removed")
MODELS: dict[str, type[Model]] = {
    "push": Push, "pull_request": PullRequest, "installation": InstallationEvent,
    "installation_repositories": InstallationRepositories,
}


class WebhookMessage(Model):
    """A delivery on the webhook queue: its id, its event and the slimmed payload."""

    delivery_id: str = Field(alias="deliveryId")
    event: Literal["push", "pull_request", "installation", "installation_repositories"]
    payload: dict
