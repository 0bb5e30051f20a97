"""Configuration, read once from the environment.

Every AWS endpoint, table and queue name comes from here, so the same code talks to moto server
locally and to AWS in a stage without a branch in business logic.

Each field names its variable and states its default once (`env(...)`); defaults that follow the
stage (names under `mastra-admin-{stage}`, runners) are computed from the stage. A model can also be
built by field name (`Settings(stage="dev", bucket_name=...)`), with the same defaults. A value that
does not parse raises `SettingsError` naming the variable and what it expected. An empty variable
counts as unset, except for text fields, where it is the empty text.

Plain dataclasses, not pydantic: the app reads its settings at import, and building a pydantic
model of these ~70 fields costs about 180 ms of every cold start on these machines.
"""
from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path
from typing import Any, Callable, Mapping

from chalicelib.errors import SettingsError


class _Derived:
    def __repr__(self) -> str:
        return "<derived>"


DERIVED: Any = _Derived()  # the default of a field computed from the others in __post_init__


class Parser:
    """How a variable's text becomes a value; `expected` says what it must look like, for errors."""

    __slots__ = ("parse", "expected", "empty_is_unset")

    def __init__(self, parse: Callable[[str], Any], expected: str, empty_is_unset: bool = True):
        self.parse, self.expected, self.empty_is_unset = parse, expected, empty_is_unset


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def _port_range(raw: str) -> tuple[int, int]:
    low, _, high = raw.partition("-")
    return int(low), int(high or low)


def _split(sep: str) -> Callable[[str], tuple[str, ...]]:
    return lambda raw: tuple(v.strip() for v in raw.split(sep) if v.strip())


TEXT = Parser(str, "text", empty_is_unset=False)
INT = Parser(int, "an integer")
FLOAT = Parser(float, "a number")
FLAG = Parser(_flag, "a boolean: 1/0, true/false, yes/no or on/off")
COMMA_LIST = Parser(_split(","), "a comma-separated list")
COLON_LIST = Parser(_split(":"), "a colon-separated list of paths")
PORT_RANGE = Parser(_port_range, "a port range LOW-HIGH (e.g. 4200-4999) or one port")
PATH = Parser(lambda raw: Path(raw).expanduser().resolve(), "a path")
URL = Parser(lambda raw: raw.rstrip("/"), "a URL", empty_is_unset=False)  # without a trailing /
SANDBOX_MODES = ("auto", "off", "required")


def _sandbox_mode(raw: str) -> str:
    if raw.strip().lower() not in SANDBOX_MODES:
        raise ValueError(raw)
    return raw.strip().lower()


SANDBOX_MODE = Parser(_sandbox_mode, "auto, off or required")
_BY_TYPE = {"str": TEXT, "int": INT, "float": FLOAT, "bool": FLAG}


def env(name: str | tuple[str, ...], default: Any = DERIVED, *, derive: Callable[[Any], Any] | None = None,
        parser: Parser | None = None, factory: Callable[[], Any] | None = None) -> Any:
    """A field read from the variable `name` (or the first set of several names).

    `default` is the value when unset; `derive(settings)` computes it from the fields before it
    instead; `factory()` builds a mutable or environment-dependent default. `parser` is needed only
    where the annotation (str, int, float, bool) does not say how to read the text.
    """
    metadata = {"env": (name,) if isinstance(name, str) else name, "derive": derive, "parser": parser}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


class EnvModel:
    """Base of frozen dataclasses whose fields carry the names of their environment variables."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if getattr(self, f.name) is DERIVED and f.metadata.get("derive"):
                object.__setattr__(self, f.name, f.metadata["derive"](self))

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Variable name -> field name, for every field read from the environment."""
        return {var: f.name for f in dataclasses.fields(cls) for var in f.metadata.get("env", ())}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None):
        environ = os.environ if environ is None else environ
        values, problems = {}, []
        for f in dataclasses.fields(cls):
            parser = f.metadata.get("parser") or _BY_TYPE.get(str(f.type))
            for var in f.metadata.get("env", ()):
                if var not in environ:
                    continue
                raw = environ[var]
                if raw == "" and parser.empty_is_unset:
                    break
                try:
                    values[f.name] = parser.parse(raw)
                except ValueError:
                    problems.append(f"{var}={raw!r}: expected {parser.expected}")
                break
        if problems:
            raise SettingsError("; ".join(problems))
        return cls(**values)


MIN_HS256_SECRET_BYTES = 32


def _prefix(s: Any) -> str:
    return f"mastra-admin-{s.stage}"


def _by_stage(local: Any, deployed: Any) -> Callable[[Any], Any]:
    return lambda s: local if s.stage == "local" else deployed


@dataclasses.dataclass(frozen=True)
class Settings(EnvModel):
    stage: str = env("MA_STAGE", "local")
    region: str = env(("AWS_REGION", "AWS_DEFAULT_REGION"), "us-east-1")
    aws_endpoint_url: str = env("MA_AWS_ENDPOINT_URL", "")  # moto server locally; empty in AWS
    table_name: str = env("MA_TABLE_NAME", derive=_prefix)
    # In a stage every name comes from its templates (infra/chalice-merge.yaml); the derived
    # defaults serve the local stack, whose moto account is 123456789012. Bucket names are global:
    # they carry the account id.
    account_id: str = env("MA_AWS_ACCOUNT_ID", "123456789012")
    bucket_name: str = env("MA_BUCKET_NAME", derive=lambda s: f"{_prefix(s)}-{s.account_id}-artifacts")
    build_queue_name: str = env("MA_BUILD_QUEUE", derive=lambda s: f"{_prefix(s)}-builds")
    deploy_queue_name: str = env("MA_DEPLOY_QUEUE", derive=lambda s: f"{_prefix(s)}-deploys")
    ingest_queue_name: str = env("MA_INGEST_QUEUE", derive=lambda s: f"{_prefix(s)}-ingest")
    kms_key_alias: str = env("MA_KMS_KEY_ALIAS", derive=lambda s: f"alias/{_prefix(s)}")
    # Analytics: "chdb" opens the embedded engine at clickhouse_path; "http" uses clickhouse_url.
    clickhouse_interface: str = env("MA_CLICKHOUSE_INTERFACE", derive=_by_stage("chdb", "http"))
    clickhouse_url: str = env("MA_CLICKHOUSE_URL", "")
    clickhouse_user: str = env("MA_CLICKHOUSE_USER", "")
    clickhouse_password: str = env("MA_CLICKHOUSE_PASSWORD", "")
    # A stage's Secrets Manager secret (JSON) holding clickhouse_url, clickhouse_user,
    # clickhouse_password and jwt_hs256_secret, read at first use (chalicelib/secret_settings.py);
    # empty: those four come from their variables (the local stack).
    settings_secret: str = env("MA_SETTINGS_SECRET", "")
    clickhouse_path: str = env("MA_CLICKHOUSE_PATH", "")
    # Retention, applied by the migration (chalicelib/analytics/migrate.py), in days.
    spans_ttl_days: int = env("MA_SPANS_TTL_DAYS", 90)
    logs_ttl_days: int = env("MA_LOGS_TTL_DAYS", 30)
    metrics_ttl_days: int = env("MA_METRICS_TTL_DAYS", 90)
    scores_ttl_days: int = env("MA_SCORES_TTL_DAYS", 365)
    build_logs_ttl_days: int = env("MA_BUILD_LOGS_TTL_DAYS", 30)
    # Ingest: objects are cut into chunks of about this size, one all-or-nothing insert (one block)
    # each; the engine holds a chunk in memory, and with the HTTP interface so does the process
    # (a Lambda: 64 MB). The in-process engine takes 256 MB: a quarter of the parts to write and
    # merge (bench/ingest.py: 0.54 -> 0.63 of the bare insert). A change re-cuts objects retried
    # across it: their chunks' dedup tokens change, so deploy it with the ingest queue drained.
    ingest_chunk_mb: int = env("MA_INGEST_CHUNK_MB", derive=lambda s: 256 if s.clickhouse_interface == "chdb" else 64)
    # Where chunk files go; empty: /dev/shm when the object fits there (no disk writeback), else
    # the system temp directory (Lambda: /tmp, whose ephemeral storage must hold the object).
    ingest_tmp_dir: str = env("MA_INGEST_TMP_DIR", "")
    # Chunk inserts in flight at once, each on its own connection.
    ingest_insert_workers: int = env("MA_INGEST_INSERT_WORKERS", 2)
    jwt_hs256_secret: str = env("MA_JWT_HS256_SECRET", "")
    jwks_url: str = env("MA_JWKS_URL", "")
    jwt_audience: str = env("MA_JWT_AUDIENCE", "")
    jwt_issuer: str = env("MA_JWT_ISSUER", "")
    local_sources_enabled: bool = env("MA_LOCAL_SOURCES_ENABLED", derive=_by_stage(True, False))
    local_source_roots: tuple[str, ...] = env("MA_LOCAL_SOURCE_ROOTS", parser=COLON_LIST,
                                              factory=lambda: (os.path.expanduser("~"), "/tmp"))
    # Never part of a local source, besides the build and server roots, the node cache, the chDB
    # directory and the control plane's code. Default: the local stack's $MA_HOME, which its
    # supervisor exports to every child (MA_HOME itself is read by local_stack/config.py).
    protected_paths: tuple[str, ...] = env("MA_PROTECTED_PATHS", parser=COLON_LIST,
                                           factory=lambda: tuple(filter(None, [os.environ.get("MA_HOME")])))
    max_body_bytes: int = env("MA_MAX_BODY_BYTES", 256 * 1024)
    public_domain: str = env("MA_PUBLIC_DOMAIN", "localhost:3100")
    public_url_scheme: str = env("MA_PUBLIC_URL_SCHEME", "http")  # https when the stage's listener is HTTPS
    # Builds: "local" runs the phases as subprocesses here; "codebuild" starts one CodeBuild build.
    build_runner: str = env("MA_BUILD_RUNNER", derive=_by_stage("local", "codebuild"))
    build_root: str = env("MA_BUILD_ROOT", "/tmp/mastra-admin-builds")
    node_cache: str = env("MA_NODE_CACHE", "")
    codebuild_project: str = env("MA_CODEBUILD_PROJECT", derive=lambda s: f"{_prefix(s)}-builds")
    github_api_url: str = env("MA_GITHUB_API_URL", "https://api.github.com", parser=URL)
    build_lease_seconds: int = env("MA_BUILD_LEASE_SECONDS", 60)
    build_timeout_seconds: int = env("MA_BUILD_TIMEOUT_SECONDS", 1200)
    build_queue_limit_seconds: int = env("MA_BUILD_QUEUE_LIMIT_SECONDS", 900)
    build_max_attempts: int = env("MA_BUILD_MAX_ATTEMPTS", 2)
    # bench/build_queue.py: a file where each build's steps are recorded, with their AWS calls (builds/steps.py)
    build_steps_file: str = env("MA_BUILD_STEPS", "")
    # Deploys: "local" starts the artifact as a process here; "ecs" runs a Fargate task.
    deploy_runner: str = env("MA_DEPLOY_RUNNER", derive=_by_stage("local", "ecs"))
    server_root: str = env("MA_SERVER_ROOT", "/tmp/mastra-admin-servers")
    artifact_max_mb: int = env("MA_ARTIFACT_MAX_MB", 2048)  # an artifact, downloaded and unpacked (a build ≈ 190 MB)
    server_ports: tuple[int, int] = env("MA_SERVER_PORTS", (4200, 4999), parser=PORT_RANGE)  # where local servers listen
    # A local server's server.log: rotated past this size, this many rotated files kept, longer lines cut.
    # Tenant processes (build phases, local servers) in a sandbox (chalicelib/runners/sandbox.py):
    # auto = when the machine allows it (root, bubblewrap, iptables), off, or required (refuse without).
    sandbox: str = env("MA_SANDBOX", "auto", parser=SANDBOX_MODE)
    sandbox_user: str = env("MA_SANDBOX_USER", "mastra-tenant")  # the unprivileged user tenant code runs as
    server_log_max_bytes: int = env("MA_SERVER_LOG_MAX_BYTES", 16 << 20)
    server_log_generations: int = env("MA_SERVER_LOG_GENERATIONS", 3)
    server_log_max_line_bytes: int = env("MA_SERVER_LOG_MAX_LINE_BYTES", 64 << 10)
    health_path: str = "/health"
    deploy_health_timeout_seconds: float = env("MA_DEPLOY_HEALTH_TIMEOUT", 120.0)
    deploy_lease_seconds: int = env("MA_DEPLOY_LEASE_SECONDS", 600)
    route_cache_seconds: float = env("MA_ROUTE_CACHE_SECONDS", 1.0)  # how stale the router's view of a route may be
    # The router (chalicelib/router): body cap (413), client and upstream timeouts (408, 504), and
    # how many proxies in front of it (an ALB: 1) it trusts for X-Forwarded-For and -Proto.
    router_max_body_mb: float = env("MA_ROUTER_MAX_BODY_MB", 10.0)
    router_header_timeout_seconds: float = env("MA_ROUTER_HEADER_TIMEOUT", 15.0)  # also the client idle timeout
    router_body_timeout_seconds: float = env("MA_ROUTER_BODY_TIMEOUT", 30.0)  # longest pause inside a body
    router_upstream_timeout_seconds: float = env("MA_ROUTER_UPSTREAM_TIMEOUT", 300.0)  # longest upstream silence
    router_trusted_hops: int = env("MA_ROUTER_TRUSTED_HOPS", 0)
    drain_seconds: float = env("MA_DRAIN_SECONDS", 3.0)  # after a switch, the old server keeps serving this long
    health_interval_seconds: float = env("MA_HEALTH_INTERVAL", 30.0)
    health_request_timeout_seconds: float = env("MA_HEALTH_REQUEST_TIMEOUT", 5.0)
    # ECS (deploy_runner == "ecs"): a public Node 22 image whose command fetches the boot script
    # and the artifact from S3 at start (chalicelib/runners/ecs_deploy.py); no image of ours.
    ecs_cluster: str = env("MA_ECS_CLUSTER", derive=_prefix)
    ecs_subnets: tuple[str, ...] = env("MA_ECS_SUBNETS", (), parser=COMMA_LIST)
    ecs_security_groups: tuple[str, ...] = env("MA_ECS_SECURITY_GROUPS", (), parser=COMMA_LIST)
    ecs_assign_public_ip: bool = env("MA_ECS_ASSIGN_PUBLIC_IP", False)
    # `{major}` becomes the build's Node major (22 when it named none): a server runs on the Node it was built with.
    ecs_image: str = env("MA_ECS_IMAGE", "public.ecr.aws/docker/library/node:{major}-slim")
    ecs_execution_role_arn: str = env("MA_ECS_EXECUTION_ROLE_ARN", "")
    ecs_task_role_arn: str = env("MA_ECS_TASK_ROLE_ARN", "")
    ecs_cpu: str = env("MA_ECS_CPU", "512")
    ecs_memory: str = env("MA_ECS_MEMORY", "1024")
    ecs_log_group: str = env("MA_ECS_LOG_GROUP", derive=lambda s: f"/mastra-admin/{s.stage}/servers")
    ecs_container_port: int = env("MA_ECS_CONTAINER_PORT", 8080)
    alb_listener_arn: str = env("MA_ALB_LISTENER_ARN", "")
    vpc_id: str = env("MA_VPC_ID", "")
    # WebSocket API: the management endpoint replies and broadcasts go to (API Gateway's
    # https://{apiId}.execute-api.{region}.amazonaws.com/{stage}, or the local gateway's).
    ws_management_url: str = env("MA_WS_MANAGEMENT_URL", "")
    ws_connection_ttl_seconds: int = env("MA_WS_CONNECTION_TTL_SECONDS", 7200)
    # The URL clients connect to (wss://{apiId}.execute-api.{region}.amazonaws.com/{stage}, or the
    # local gateway's); POST /ws/tickets returns it with the ticket when set.
    ws_url: str = env("MA_WS_URL", "", parser=URL)
    ws_ticket_ttl_seconds: int = env("MA_WS_TICKET_TTL_SECONDS", 60)  # a connect ticket's life
    # How stale a delivery's access re-check may be (per principal and team, per process).
    ws_access_cache_seconds: float = env("MA_WS_ACCESS_CACHE_SECONDS", 5.0)
    # --- scale (issue 14): sharded periodic work, and the router's invalidations ---------------------
    shard_queue_name: str = env("MA_SHARD_QUEUE", derive=lambda s: f"{_prefix(s)}-shards")
    shard_size: int = env("MA_SHARD_SIZE", 50)  # items (servers, builds, deploys, tasks) per shard message
    shard_parallel: int = env("MA_SHARD_PARALLEL", 8)  # items of one shard worked on at once
    shard_margin_seconds: float = env("MA_SHARD_MARGIN_SECONDS", 10.0)  # below this, the rest becomes a new shard
    route_topic_arn: str = env("MA_ROUTE_TOPIC_ARN", "")  # route changes for the router fleet; empty: TTL only
    # --- end scale ---------------------------------------------------------------------------------
    # --- release guard (issue 17, chalicelib/services/guard) ------------------------------------------
    # The local stack's evaluation timer (in AWS: the one-minute schedule), and the debounce of the
    # check after ingest: at most one per deployment per interval.
    guard_interval_seconds: float = env("MA_GUARD_INTERVAL", 60.0)
    # --- GitHub App (chalicelib/services/github) ---------------------------------------------------
    # The App's id, private key (PEM) and webhook secret. Locally: files under $MA_HOME (0600), or
    # MA_GITHUB_WEBHOOK_SECRET for the secret alone; in AWS: the stage's settings secret
    # (github_app_id, github_app_key, github_webhook_secret; chalicelib/secret_settings.py).
    github_app_id: str = env("MA_GITHUB_APP_ID", "")
    github_app_key_file: str = env("MA_GITHUB_APP_KEY_FILE", "")  # default: $MA_HOME/github-app.pem
    github_webhook_secret: str = env("MA_GITHUB_WEBHOOK_SECRET", "")
    github_webhook_secret_file: str = env("MA_GITHUB_WEBHOOK_SECRET_FILE", "")  # default: $MA_HOME/github-webhook-secret
    github_webhook_queue_name: str = env("MA_GITHUB_WEBHOOK_QUEUE", derive=lambda s: f"{_prefix(s)}-github-webhooks")
    github_writes_queue_name: str = env("MA_GITHUB_WRITES_QUEUE", derive=lambda s: f"{_prefix(s)}-github-writes")
    github_delivery_ttl_days: int = env("MA_GITHUB_DELIVERY_TTL_DAYS", 7)  # how long a redelivery is recognised
    # Where commit statuses link to for a failed build (the console's build page); empty: the API's log URL.
    github_build_link: str = env("MA_GITHUB_BUILD_LINK", "", parser=URL)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.jwt_hs256_secret and len(self.jwt_hs256_secret.encode()) < MIN_HS256_SECRET_BYTES:
            # RFC 7518 3.2: an HS256 key shorter than the hash output can be brute-forced offline
            # from any one token.
            raise SettingsError(f"MA_JWT_HS256_SECRET: expected at least {MIN_HS256_SECRET_BYTES} bytes, "
                                f"got {len(self.jwt_hs256_secret.encode())}")

    @property
    def server_port_min(self) -> int:
        return self.server_ports[0]

    @property
    def server_port_max(self) -> int:
        return self.server_ports[1]


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
