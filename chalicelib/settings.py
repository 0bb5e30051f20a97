"""Configuration, read once from the environment.

Every AWS endpoint, table and queue name comes from here, so the same code talks to moto server
locally and to AWS in a stage without a branch in business logic.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


def _list(name: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in os.environ.get(name, "").split(",") if v.strip())


def _port_range() -> tuple[int, int]:
    """MA_SERVER_PORTS="4200-4999": where local servers listen."""
    low, _, high = _env("MA_SERVER_PORTS", "4200-4999").partition("-")
    return int(low), int(high or low)


def _default_source_roots() -> tuple[str, ...]:
    return (os.path.expanduser("~"), "/tmp")


@dataclass(frozen=True)
class Settings:
    stage: str = "local"
    region: str = "us-east-1"
    aws_endpoint_url: str = ""  # moto server locally; empty in AWS
    table_name: str = "mastra-admin-local"
    bucket_name: str = "mastra-admin-local-artifacts"
    build_queue_name: str = "mastra-admin-local-builds"
    deploy_queue_name: str = "mastra-admin-local-deploys"
    ingest_queue_name: str = "mastra-admin-local-ingest"
    kms_key_alias: str = "alias/mastra-admin-local"
    # Analytics: "chdb" opens the embedded engine at clickhouse_path; "http" uses clickhouse_url.
    clickhouse_interface: str = "chdb"
    clickhouse_url: str = ""
    clickhouse_path: str = ""
    # Ingest: objects are cut into chunks of about this size, one all-or-nothing insert (one block)
    # each; the engine holds a chunk in memory, and with the HTTP interface so does the process.
    ingest_chunk_mb: int = 64
    # Where chunk files go; empty: /dev/shm when the object fits there (no disk writeback), else
    # the system temp directory (Lambda: /tmp, whose ephemeral storage must hold the object).
    ingest_tmp_dir: str = ""
    # Chunk inserts in flight at once, each on its own connection.
    ingest_insert_workers: int = 2
    jwt_hs256_secret: str = ""
    jwks_url: str = ""
    jwt_audience: str = ""
    jwt_issuer: str = ""
    local_sources_enabled: bool = True
    local_source_roots: tuple[str, ...] = field(default_factory=_default_source_roots)
    max_body_bytes: int = 256 * 1024
    public_domain: str = "localhost:3100"
    # Builds: "local" runs the phases as subprocesses here; "codebuild" starts one CodeBuild build.
    build_runner: str = "local"
    build_root: str = "/tmp/mastra-admin-builds"
    node_cache: str = ""
    codebuild_project: str = ""
    github_api_url: str = "https://api.github.com"
    build_lease_seconds: int = 60
    build_timeout_seconds: int = 1200
    build_queue_limit_seconds: int = 900
    build_max_attempts: int = 2
    # Deploys: "local" starts the artifact as a process here; "ecs" runs a Fargate task.
    deploy_runner: str = "local"
    server_root: str = "/tmp/mastra-admin-servers"
    server_port_min: int = 4200
    server_port_max: int = 4999
    health_path: str = "/health"
    deploy_health_timeout_seconds: float = 120.0
    deploy_lease_seconds: int = 600
    route_cache_seconds: float = 1.0  # how stale the router's view of a route may be
    drain_seconds: float = 3.0  # after a switch, the old server keeps serving this long
    health_interval_seconds: float = 30.0
    health_request_timeout_seconds: float = 5.0
    # ECS (deploy_runner == "ecs"): one generic Node 22 image that fetches the artifact at start.
    ecs_cluster: str = ""
    ecs_subnets: tuple[str, ...] = ()
    ecs_security_groups: tuple[str, ...] = ()
    ecs_assign_public_ip: bool = False
    ecs_image: str = "mastra-admin-server:latest"  # infra/server-image/Dockerfile
    ecs_execution_role_arn: str = ""
    ecs_task_role_arn: str = ""
    ecs_cpu: str = "512"
    ecs_memory: str = "1024"
    ecs_log_group: str = ""
    ecs_container_port: int = 8080
    alb_listener_arn: str = ""
    vpc_id: str = ""
    # WebSocket API: the management endpoint replies and broadcasts go to (API Gateway's
    # https://{apiId}.execute-api.{region}.amazonaws.com/{stage}, or the local gateway's).
    ws_management_url: str = ""
    ws_connection_ttl_seconds: int = 7200

    @classmethod
    def from_env(cls) -> "Settings":
        stage = _env("MA_STAGE", "local")
        prefix = f"mastra-admin-{stage}"
        roots = _env("MA_LOCAL_SOURCE_ROOTS")
        return cls(
            stage=stage,
            region=_env("AWS_REGION", _env("AWS_DEFAULT_REGION", "us-east-1")),
            aws_endpoint_url=_env("MA_AWS_ENDPOINT_URL"),
            table_name=_env("MA_TABLE_NAME", prefix),
            bucket_name=_env("MA_BUCKET_NAME", f"{prefix}-artifacts"),
            build_queue_name=_env("MA_BUILD_QUEUE", f"{prefix}-builds"),
            deploy_queue_name=_env("MA_DEPLOY_QUEUE", f"{prefix}-deploys"),
            ingest_queue_name=_env("MA_INGEST_QUEUE", f"{prefix}-ingest"),
            kms_key_alias=_env("MA_KMS_KEY_ALIAS", f"alias/{prefix}"),
            clickhouse_interface=_env("MA_CLICKHOUSE_INTERFACE", "chdb" if stage == "local" else "http"),
            clickhouse_url=_env("MA_CLICKHOUSE_URL"),
            clickhouse_path=_env("MA_CLICKHOUSE_PATH"),
            ingest_chunk_mb=int(_env("MA_INGEST_CHUNK_MB", "64")),
            ingest_tmp_dir=_env("MA_INGEST_TMP_DIR"),
            ingest_insert_workers=int(_env("MA_INGEST_INSERT_WORKERS", "2")),
            jwt_hs256_secret=_env("MA_JWT_HS256_SECRET"),
            jwks_url=_env("MA_JWKS_URL"),
            jwt_audience=_env("MA_JWT_AUDIENCE"),
            jwt_issuer=_env("MA_JWT_ISSUER"),
            local_sources_enabled=_bool("MA_LOCAL_SOURCES_ENABLED", stage == "local"),
            local_source_roots=tuple(r for r in roots.split(":") if r) if roots else _default_source_roots(),
            max_body_bytes=int(_env("MA_MAX_BODY_BYTES", str(256 * 1024))),
            public_domain=_env("MA_PUBLIC_DOMAIN", "localhost:3100"),
            build_runner=_env("MA_BUILD_RUNNER", "local" if stage == "local" else "codebuild"),
            build_root=_env("MA_BUILD_ROOT", "/tmp/mastra-admin-builds"),
            node_cache=_env("MA_NODE_CACHE"),
            codebuild_project=_env("MA_CODEBUILD_PROJECT", f"{prefix}-builds"),
            github_api_url=_env("MA_GITHUB_API_URL", "https://api.github.com").rstrip("/"),
            build_lease_seconds=int(_env("MA_BUILD_LEASE_SECONDS", "60")),
            build_timeout_seconds=int(_env("MA_BUILD_TIMEOUT_SECONDS", "1200")),
            build_queue_limit_seconds=int(_env("MA_BUILD_QUEUE_LIMIT_SECONDS", "900")),
            build_max_attempts=int(_env("MA_BUILD_MAX_ATTEMPTS", "2")),
            deploy_runner=_env("MA_DEPLOY_RUNNER", "local" if stage == "local" else "ecs"),
            server_root=_env("MA_SERVER_ROOT", "/tmp/mastra-admin-servers"),
            server_port_min=_port_range()[0],
            server_port_max=_port_range()[1],
            deploy_health_timeout_seconds=float(_env("MA_DEPLOY_HEALTH_TIMEOUT", "120")),
            deploy_lease_seconds=int(_env("MA_DEPLOY_LEASE_SECONDS", "600")),
            route_cache_seconds=float(_env("MA_ROUTE_CACHE_SECONDS", "1")),
            drain_seconds=float(_env("MA_DRAIN_SECONDS", "3")),
            health_interval_seconds=float(_env("MA_HEALTH_INTERVAL", "30")),
            health_request_timeout_seconds=float(_env("MA_HEALTH_REQUEST_TIMEOUT", "5")),
            ecs_cluster=_env("MA_ECS_CLUSTER", prefix),
            ecs_subnets=_list("MA_ECS_SUBNETS"),
            ecs_security_groups=_list("MA_ECS_SECURITY_GROUPS"),
            ecs_assign_public_ip=_bool("MA_ECS_ASSIGN_PUBLIC_IP", False),
            ecs_image=_env("MA_ECS_IMAGE", "mastra-admin-server:latest"),
            ecs_execution_role_arn=_env("MA_ECS_EXECUTION_ROLE_ARN"),
            ecs_task_role_arn=_env("MA_ECS_TASK_ROLE_ARN"),
            ecs_cpu=_env("MA_ECS_CPU", "512"),
            ecs_memory=_env("MA_ECS_MEMORY", "1024"),
            ecs_log_group=_env("MA_ECS_LOG_GROUP", f"/mastra-admin/{stage}/servers"),
            ecs_container_port=int(_env("MA_ECS_CONTAINER_PORT", "8080")),
            alb_listener_arn=_env("MA_ALB_LISTENER_ARN"),
            vpc_id=_env("MA_VPC_ID"),
            ws_management_url=_env("MA_WS_MANAGEMENT_URL"),
            ws_connection_ttl_seconds=int(_env("MA_WS_CONNECTION_TTL_SECONDS", "7200")),
        )


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
