"""PynamoDB models of the single table. One base owns the keys, the discriminator and GSI1.

Every entity states its key shape; keys come from chalicelib.db.keys. Lists stored in items may be
absent or empty on old items: readers use the `*_or_empty` helpers, never the raw attribute.
"""
from __future__ import annotations

from datetime import datetime, timezone

from pynamodb.attributes import (
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.db.statuses import BuildStatus, DeploymentStatus, DeployStatus, ServerStatus
from chalicelib.settings import get_settings


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def map_or_empty(value: object) -> dict:
    """A raw map attribute as a dict, whether loaded (MapAttribute), just assigned (dict) or absent."""
    if isinstance(value, MapAttribute):
        return value.as_dict()
    return dict(value) if isinstance(value, dict) else {}


class GSI1(GlobalSecondaryIndex):
    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(range_key=True, attr_name="GSI1SK")


def table_settings() -> tuple[str, str, str | None]:
    """(table name, region, host) from the settings: moto server locally, AWS's endpoint when None."""
    s = get_settings()
    return s.table_name, s.region, s.aws_endpoint_url or None


_configured_from: object = None  # the settings object the models' Meta was last configured from


def configure_tables() -> None:
    """Point every model at the table the current settings name; models call it at first use.

    Configured from the settings object, not at import: a test (or the local stack) that sets the
    environment and clears `get_settings` gets models on the new table, region and endpoint.
    """
    global _configured_from
    settings = get_settings()
    if settings is _configured_from:
        return
    meta = BaseItem.Meta
    meta.table_name, meta.region, meta.host = table_settings()
    stack = [BaseItem]
    while stack:  # PynamoDB caches a connection per class; drop them all with the old endpoint
        cls = stack.pop()
        cls._connection = None
        stack.extend(cls.__subclasses__())
    _configured_from = settings


class BaseItem(Model):
    class Meta:
        table_name = None  # table_name, region and host: configure_tables(), at first use
        connect_timeout_seconds = 5
        read_timeout_seconds = 20
        max_retry_attempts = 3
        # One pool per model class, shared by every thread that uses it: the local WebSocket
        # gateway runs up to 64 handlers at once, and a call finding the pool (default 10) empty
        # opens a new connection and closes it after, a TCP handshake per call.
        max_pool_connections = 64

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    kind = DiscriminatorAttribute(attr_name="kind")
    gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
    created_at = UTCDateTimeAttribute(default=utcnow, attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(default=utcnow, attr_name="updatedAt")
    gsi1 = GSI1()

    @classmethod
    def _get_connection(cls):  # every PynamoDB operation passes here: the hook for first use
        configure_tables()
        return super()._get_connection()


class VersionedItem(BaseItem):
    """Items that two writers can race on carry a version: every save is conditional on it."""

    version = VersionAttribute(attr_name="version")


class Team(VersionedItem, discriminator="Team"):
    """PK=TEAM#{teamId} SK=#META"""

    team_id = UnicodeAttribute(attr_name="teamId")
    name = UnicodeAttribute()
    created_by = UnicodeAttribute(attr_name="createdBy")
    # Kept in step with owner memberships inside the same transaction, so the last owner
    # cannot be removed or demoted even by two owners racing.
    owner_count = NumberAttribute(default=1, attr_name="ownerCount")


class Member(VersionedItem, discriminator="Member"):
    """PK=TEAM#{teamId} SK=MEMBER#{userId}; GSI1: USER#{userId} / TEAM#{teamId} (a user's teams)."""

    team_id = UnicodeAttribute(attr_name="teamId")
    team_name = UnicodeAttribute(attr_name="teamName")
    user_id = UnicodeAttribute(attr_name="userId")
    role = UnicodeAttribute()
    machine = NumberAttribute(default=0)  # 1 for a named machine user


class ApiKey(BaseItem, discriminator="ApiKey"):
    """PK=APIKEY#{keyId} SK=#META; GSI1: TEAM#{teamId}#APIKEYS / {createdAt}#{keyId}.

    Only the SHA-256 of the token is stored. `scope_team_id` is set when the key was minted for
    someone else (or a machine user): such a key acts only inside that team.
    """

    key_id = UnicodeAttribute(attr_name="keyId")
    team_id = UnicodeAttribute(attr_name="teamId")
    user_id = UnicodeAttribute(attr_name="userId")
    name = UnicodeAttribute()
    token_hash = UnicodeAttribute(attr_name="tokenHash")
    token_hint = UnicodeAttribute(attr_name="tokenHint")
    scope_team_id = UnicodeAttribute(null=True, attr_name="scopeTeamId")
    created_by = UnicodeAttribute(attr_name="createdBy")
    last_used_at = UTCDateTimeAttribute(null=True, attr_name="lastUsedAt")
    revoked_at = UTCDateTimeAttribute(null=True, attr_name="revokedAt")


class Project(VersionedItem, discriminator="Project"):
    """PK=PROJECT#{projectId} SK=#META; GSI1: TEAM#{teamId}#PROJECTS / {createdAt}#{projectId}."""

    project_id = UnicodeAttribute(attr_name="projectId")
    team_id = UnicodeAttribute(attr_name="teamId")
    name = UnicodeAttribute()
    slug = UnicodeAttribute()
    source = MapAttribute(attr_name="source")
    default_branch = UnicodeAttribute(attr_name="defaultBranch")
    # rootDirectory and install/build/start command overrides (snake_case keys); absent: defaults.
    build_settings = MapAttribute(null=True, attr_name="buildSettings")


class EnvVar(VersionedItem, discriminator="EnvVar"):
    """PK=PROJECT#{projectId} SK=ENV#{name}. The value is an envelope-encrypted blob."""

    project_id = UnicodeAttribute(attr_name="projectId")
    team_id = UnicodeAttribute(attr_name="teamId")
    name = UnicodeAttribute()
    ciphertext = UnicodeAttribute()


class Deployment(VersionedItem, discriminator="Deployment"):
    """PK=DEPLOYMENT#{deploymentId} SK=#META; GSI1: PROJECT#{projectId}#DEPLOYMENTS / {createdAt}#{id}.

    `env_overrides` maps a name to an envelope-encrypted value; it may be absent on old items.
    """

    deployment_id = UnicodeAttribute(attr_name="deploymentId")
    project_id = UnicodeAttribute(attr_name="projectId")
    team_id = UnicodeAttribute(attr_name="teamId")
    type = UnicodeAttribute(attr_name="type")
    branch = UnicodeAttribute()
    slug = UnicodeAttribute()
    status = UnicodeAttribute(default=DeploymentStatus.PENDING)
    current_build_id = UnicodeAttribute(null=True, attr_name="currentBuildId")
    server_id = UnicodeAttribute(null=True, attr_name="serverId")
    public_url = UnicodeAttribute(null=True, attr_name="publicUrl")
    env_overrides = MapAttribute(null=True, attr_name="envOverrides")
    # Where the router sends this deployment's traffic ("host:port"), moved with server_id in one
    # conditional write: the switch of a deploy. Absent while nothing serves.
    upstream = UnicodeAttribute(null=True)
    # The newest deploy that changed the route: an older deploy finishing late never overrides it.
    last_deploy_id = UnicodeAttribute(null=True, attr_name="lastDeployId")
    status_reason = UnicodeAttribute(null=True, attr_name="statusReason")
    # While a build of a deployment that serves nothing runs (status `building`): which build, and the
    # status (and reason) to restore if it fails or is cancelled.
    building_build_id = UnicodeAttribute(null=True, attr_name="buildingBuildId")
    status_before_build = UnicodeAttribute(null=True, attr_name="statusBeforeBuild")
    reason_before_build = UnicodeAttribute(null=True, attr_name="reasonBeforeBuild")

    def env_overrides_or_empty(self) -> dict[str, str]:
        return {k: v for k, v in map_or_empty(self.env_overrides).items() if isinstance(v, str)}


class Claim(BaseItem, discriminator="Claim"):
    """A uniqueness guard written in the same transaction as its owner.

    PK=SLUG#{slug} SK=#META (a deployment slug), or PK=PROJECT#{id} SK=SLOT#{type}#{branch}.
    """

    owner_id = UnicodeAttribute(attr_name="ownerId")


class Build(VersionedItem, discriminator="Build"):
    """PK=BUILD#{buildId} SK=#META; GSI1: DEPLOYMENT#{id}#BUILDS / {createdAt}#{buildId}.

    queued -> building -> succeeded | failed | cancelled; queued -> superseded | cancelled | failed.
    While building, the worker of `attempt` renews `leaseExpiresAt`; the reaper takes over after it.
    """

    build_id = UnicodeAttribute(attr_name="buildId")
    deployment_id = UnicodeAttribute(attr_name="deploymentId")
    project_id = UnicodeAttribute(attr_name="projectId")
    team_id = UnicodeAttribute(attr_name="teamId")
    environment = UnicodeAttribute(default="production")
    trigger = UnicodeAttribute(default="manual")
    ref = UnicodeAttribute(null=True)
    commit = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default=BuildStatus.QUEUED)
    queued_at = UTCDateTimeAttribute(null=True, attr_name="queuedAt")
    started_at = UTCDateTimeAttribute(null=True, attr_name="startedAt")
    finished_at = UTCDateTimeAttribute(null=True, attr_name="finishedAt")
    attempt = NumberAttribute(default=0)
    runner = UnicodeAttribute(null=True)
    external_id = UnicodeAttribute(null=True, attr_name="externalId")
    lease_expires_at = UTCDateTimeAttribute(null=True, attr_name="leaseExpiresAt")
    log_key = UnicodeAttribute(null=True, attr_name="logKey")
    log_lines = NumberAttribute(default=0, attr_name="logLines")
    artifact_key = UnicodeAttribute(null=True, attr_name="artifactKey")
    artifact_sha256 = UnicodeAttribute(null=True, attr_name="artifactSha256")
    node_major = NumberAttribute(null=True, attr_name="nodeMajor")  # from the artifact's manifest
    artifact_bytes = NumberAttribute(null=True, attr_name="artifactBytes")
    enqueued_at = UTCDateTimeAttribute(null=True, attr_name="enqueuedAt")
    reason = UnicodeAttribute(null=True)
    # A build a GitHub webhook triggered: deliveryId, event, repository, installationId, sha, pusher,
    # message, pull (number), fork (1: built without the project's secrets).
    github = MapAttribute(null=True, attr_name="github")


class ActiveBuild(BaseItem, discriminator="ActiveBuild"):
    """PK=BUILDS#ACTIVE SK={buildId}: present while a build is queued or building, for the reaper.

    Written and removed in the same transaction as the build's status, so the reaper finds every
    unfinished build with one Query and never scans.
    """

    build_id = UnicodeAttribute(attr_name="buildId")


class BuildLogChunk(BaseItem, discriminator="BuildLogChunk"):
    """PK=BUILD#{buildId} SK=LOG#{offset:010d}: one flushed batch of log lines, starting at `offset`."""

    offset = NumberAttribute()
    lines = ListAttribute(of=UnicodeAttribute)


class SourceToken(VersionedItem, discriminator="SourceToken"):
    """PK=PROJECT#{projectId} SK=SOURCETOKEN#github: the encrypted token used to fetch the source."""

    project_id = UnicodeAttribute(attr_name="projectId")
    team_id = UnicodeAttribute(attr_name="teamId")
    ciphertext = UnicodeAttribute()
    hint = UnicodeAttribute()


class Server(VersionedItem, discriminator="Server"):
    """PK=SERVER#{serverId} SK=#META; GSI1: DEPLOYMENT#{id}#SERVERS / {createdAt}#{serverId}.

    starting -> running -> stopping -> stopped; starting -> failed (never healthy);
    starting | running -> exited (its process died). An ActiveServer marker exists while it is
    starting, running or stopping, so health checks and recovery find live servers with one Query.
    A local server's pid, port and directories are here so that a restarted stack can reattach.
    """

    server_id = UnicodeAttribute(attr_name="serverId")
    deployment_id = UnicodeAttribute(attr_name="deploymentId")
    build_id = UnicodeAttribute(attr_name="buildId")
    team_id = UnicodeAttribute(attr_name="teamId")
    project_id = UnicodeAttribute(null=True, attr_name="projectId")
    deploy_id = UnicodeAttribute(null=True, attr_name="deployId")
    runner = UnicodeAttribute(default="local")
    status = UnicodeAttribute(default=ServerStatus.STARTING)
    host = UnicodeAttribute(null=True)
    port = NumberAttribute(null=True)
    task_arn = UnicodeAttribute(null=True, attr_name="taskArn")
    task_definition_arn = UnicodeAttribute(null=True, attr_name="taskDefinitionArn")
    pid = NumberAttribute(null=True)
    pid_started_at = NumberAttribute(null=True, attr_name="pidStartedAt")  # guards against pid reuse
    workdir = UnicodeAttribute(null=True)
    health = UnicodeAttribute(default="unknown")
    last_check_at = UTCDateTimeAttribute(null=True, attr_name="lastCheckAt")
    cpu_percent = NumberAttribute(null=True, attr_name="cpuPercent")
    memory_bytes = NumberAttribute(null=True, attr_name="memoryBytes")
    started_at = UTCDateTimeAttribute(null=True, attr_name="startedAt")
    stopped_at = UTCDateTimeAttribute(null=True, attr_name="stoppedAt")
    reason = UnicodeAttribute(null=True)


class ActiveServer(BaseItem, discriminator="ActiveServer"):
    """PK=SERVERS#ACTIVE SK={serverId}: present while a server is starting, running or stopping."""

    server_id = UnicodeAttribute(attr_name="serverId")


class Deploy(VersionedItem, discriminator="Deploy"):
    """PK=DEPLOY#{deployId} SK=#META; GSI1: DEPLOYMENT#{id}#DEPLOYS / {createdAt}#{deployId}.

    One request to change what a deployment serves: `action` deploy (a build's artifact: after a
    build, a redeploy, a rollback, a restart) or stop. queued -> running -> succeeded | failed |
    superseded. The worker that moved it queued -> running (attempt) owns it: a redelivered message
    does nothing twice. An ActiveDeploy marker exists while it is queued or running (the reaper).
    """

    deploy_id = UnicodeAttribute(attr_name="deployId")
    deployment_id = UnicodeAttribute(attr_name="deploymentId")
    project_id = UnicodeAttribute(attr_name="projectId")
    team_id = UnicodeAttribute(attr_name="teamId")
    action = UnicodeAttribute(default="deploy")
    trigger = UnicodeAttribute(default="build")  # build | redeploy | rollback | restart | stop
    build_id = UnicodeAttribute(null=True, attr_name="buildId")
    server_id = UnicodeAttribute(null=True, attr_name="serverId")
    previous_server_id = UnicodeAttribute(null=True, attr_name="previousServerId")
    status = UnicodeAttribute(default=DeployStatus.QUEUED)
    attempt = NumberAttribute(default=0)
    requested_by = UnicodeAttribute(null=True, attr_name="requestedBy")
    queued_at = UTCDateTimeAttribute(null=True, attr_name="queuedAt")
    started_at = UTCDateTimeAttribute(null=True, attr_name="startedAt")
    healthy_at = UTCDateTimeAttribute(null=True, attr_name="healthyAt")
    finished_at = UTCDateTimeAttribute(null=True, attr_name="finishedAt")
    lease_expires_at = UTCDateTimeAttribute(null=True, attr_name="leaseExpiresAt")
    reason = UnicodeAttribute(null=True)


class ActiveDeploy(BaseItem, discriminator="ActiveDeploy"):
    """PK=DEPLOYS#ACTIVE SK={deployId}: present while a deploy is queued or running."""

    deploy_id = UnicodeAttribute(attr_name="deployId")


class Connection(BaseItem, discriminator="Connection"):
    """PK=CONN#{connectionId} SK=#META; expires with API Gateway's 2 h connection limit.

    Holds the principal that connected (never its token): enough to re-check access on delivery.
    """

    connection_id = UnicodeAttribute(attr_name="connectionId")
    user_id = UnicodeAttribute(attr_name="userId")
    key_id = UnicodeAttribute(null=True, attr_name="keyId")
    scope_team_id = UnicodeAttribute(null=True, attr_name="scopeTeamId")
    token_expires_at = NumberAttribute(null=True, attr_name="tokenExpiresAt")  # a JWT's exp (epoch s)
    expires_at = TTLAttribute(attr_name="expiresAt")


class Subscription(BaseItem, discriminator="Subscription"):
    """PK=CHANNEL#{channel} SK=CONN#{connectionId}; GSI1: CONN#{connectionId} / CHANNEL#{channel}.

    Carries a copy of its connection's principal, so that the one Query of a channel's subscribers
    is all a delivery needs to re-check access (items written before lack it: read the connection).
    """

    channel = UnicodeAttribute()
    connection_id = UnicodeAttribute(attr_name="connectionId")
    expires_at = TTLAttribute(attr_name="expiresAt")
    user_id = UnicodeAttribute(null=True, attr_name="userId")
    key_id = UnicodeAttribute(null=True, attr_name="keyId")
    scope_team_id = UnicodeAttribute(null=True, attr_name="scopeTeamId")
    token_expires_at = NumberAttribute(null=True, attr_name="tokenExpiresAt")
    # Log channels: offset of the next line this connection is owed. Advanced only by a conditional
    # write, so the resume path and the live path never both send the same line.
    cursor = NumberAttribute(null=True)
    # While a sender posts the range it claimed, others wait (epoch ms): lines arrive in order.
    sending_until = NumberAttribute(null=True, attr_name="sendingUntil")
    live_from = NumberAttribute(null=True, attr_name="liveFrom")  # where resume handed over to live


class WsTicket(BaseItem, discriminator="WsTicket"):
    """PK=WSTICKET#{sha256 of the ticket} SK=#META: a WebSocket connect ticket that was used.

    A ticket is signed, not stored, when minted (`services/live/tickets.py`); its connect puts this
    item only if absent, so a replayed ticket is refused. It keeps the principal and the hash only;
    TTL removes it once the ticket has expired anyway.
    """

    user_id = UnicodeAttribute(attr_name="userId")
    key_id = UnicodeAttribute(null=True, attr_name="keyId")
    scope_team_id = UnicodeAttribute(null=True, attr_name="scopeTeamId")
    token_expires_at = NumberAttribute(null=True, attr_name="tokenExpiresAt")
    consumed_at = UTCDateTimeAttribute(null=True, attr_name="consumedAt")
    expires_at = TTLAttribute(attr_name="expiresAt")


class TicketSigningKey(BaseItem, discriminator="TicketSigningKey"):
    """PK=SIGNINGKEY#{purpose} SK=#META: the HMAC key WebSocket tickets are signed with, sealed with the
    stage's KMS key (`secrets_box`), made by the first process that needs it (put only if absent)."""

    sealed = UnicodeAttribute()


class ChannelHead(BaseItem, discriminator="ChannelHead"):
    """PK=CHANNEL#{channel} SK=#META: how many times the channel's set of subscriptions changed.

    Bumped after every subscribe, unsubscribe and drop, so a publisher can keep the subscribers it
    read and Query them again only when this moved: one GetItem per batch instead of a Query of
    every subscription. Expires like the subscriptions it counts, once nothing changes.
    """

    changes = NumberAttribute(default=0)
    expires_at = TTLAttribute(attr_name="expiresAt")


class WebhookDelivery(BaseItem, discriminator="WebhookDelivery"):
    """PK=WEBHOOK#{deliveryId} SK=#META; kept for dedupe until its TTL.

    Put only if absent when the delivery arrives (a redelivery finds it); `handledAt` is set once,
    conditionally, by the consumer that did its work.
    """

    delivery_id = UnicodeAttribute(attr_name="deliveryId")
    expires_at = TTLAttribute(attr_name="expiresAt")
    event = UnicodeAttribute(null=True)
    action = UnicodeAttribute(null=True)
    handled_at = UTCDateTimeAttribute(null=True, attr_name="handledAt")
    outcome = UnicodeAttribute(null=True)


# --- GitHub (chalicelib/services/github) ------------------------------------------------------------


class GithubLink(BaseItem, discriminator="GithubLink"):
    """PK=GITHUB#REPO#{owner/name, lower case} SK=PROJECT#{projectId}: a project linked to a repository.

    GSI1: GITHUB#INSTALLATION#{installationId} / {repository}#{projectId}, so an installation event
    finds its projects with one Query. Kept in step with the project's source by the project service.
    """

    repository = UnicodeAttribute()
    project_id = UnicodeAttribute(attr_name="projectId")
    installation_id = NumberAttribute(attr_name="installationId")


class PullPreview(VersionedItem, discriminator="PullPreview"):
    """PK=PROJECT#{projectId} SK=GHPULL#{number}: a pull request's preview deployment and its comment.

    GSI1: DEPLOYMENT#{deploymentId}#GITHUB / PULL: from a preview deployment back to its pull request.
    """

    project_id = UnicodeAttribute(attr_name="projectId")
    number = NumberAttribute()
    deployment_id = UnicodeAttribute(null=True, attr_name="deploymentId")
    comment_id = NumberAttribute(null=True, attr_name="commentId")
    head_sha = UnicodeAttribute(null=True, attr_name="headSha")
    state = UnicodeAttribute(default="open")  # open | closed
    fork = NumberAttribute(default=0)


class GithubWriteMark(BaseItem, discriminator="GithubWriteMark"):
    """PK=GHWRITE#{target} SK=#META: the newest write to a target (a commit's status in one context, a
    pull request's comment) that was let through.

    A write retried late must not overwrite a newer one (pending after success): each carries the
    time it was queued, and passes only if no newer one passed before it.
    """

    seq = NumberAttribute()
    expires_at = TTLAttribute(attr_name="expiresAt")


class WebhookCounter(BaseItem, discriminator="WebhookCounter"):
    """PK=WEBHOOKS#COUNTS SK={outcome}#{event}#{action}: how many deliveries ended so (ignored ones)."""

    count = NumberAttribute(default=0)


# --- release guard (chalicelib/services/guard) ------------------------------------------------------


class Guard(VersionedItem, discriminator="Guard"):
    """PK=DEPLOYMENT#{deploymentId} SK=GUARD: a deployment's release guard, its last evaluation and what it did.

    `rules` and `last_evaluation` are JSON (their shape is the API's, chalicelib/models/guard.py).
    `acted_on_build_id`: the build the guard last rolled back, set by the one conditional write that
    lets a breach act, so the same window judged twice rolls back at most once. `next_check_at`: the
    debounce of checks after ingest (one per deployment per MA_GUARD_INTERVAL).
    """

    deployment_id = UnicodeAttribute(attr_name="deploymentId")
    team_id = UnicodeAttribute(attr_name="teamId")
    project_id = UnicodeAttribute(attr_name="projectId")
    enabled = NumberAttribute(default=0)
    rules = UnicodeAttribute(default="[]")
    min_runs = NumberAttribute(default=50, attr_name="minRuns")
    window_minutes = NumberAttribute(default=60, attr_name="windowMinutes")
    last_evaluation = UnicodeAttribute(null=True, attr_name="lastEvaluation")
    evaluations = NumberAttribute(default=0)
    acted_on_build_id = UnicodeAttribute(null=True, attr_name="actedOnBuildId")
    rejected_build_ids = ListAttribute(of=UnicodeAttribute, null=True, attr_name="rejectedBuildIds")
    next_check_at = UTCDateTimeAttribute(null=True, attr_name="nextCheckAt")

    def rejected_or_empty(self) -> list[str]:
        return [str(b) for b in (self.rejected_build_ids or [])]


class ActiveGuard(BaseItem, discriminator="ActiveGuard"):
    """PK=GUARDS#ACTIVE SK={deploymentId}: present while the deployment's guard is on (the evaluator's sweep)."""

    deployment_id = UnicodeAttribute(attr_name="deploymentId")


class GuardEvent(BaseItem, discriminator="GuardEvent"):
    """PK=GUARDEVENT#{eventId} SK=#META; GSI1: DEPLOYMENT#{id}#DEPLOYS / {createdAt}#{eventId}.

    A guard evaluation that acted. It shares its deployment's deploys partition on GSI1, so the
    deployment's timeline (deploys and guard actions) is one Query.
    """

    event_id = UnicodeAttribute(attr_name="eventId")
    deployment_id = UnicodeAttribute(attr_name="deploymentId")
    team_id = UnicodeAttribute(attr_name="teamId")
    build_id = UnicodeAttribute(null=True, attr_name="buildId")
    deploy_id = UnicodeAttribute(null=True, attr_name="deployId")
    evaluation = UnicodeAttribute()  # JSON, the API's Evaluation
