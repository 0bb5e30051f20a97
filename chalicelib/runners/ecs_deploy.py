"""EcsDeployRunner: a build's artifact run as a Fargate task behind the ALB.

No image of ours: every server runs a public Node image (`MA_ECS_IMAGE`, of the build's Node major) whose command (`loader`)
downloads the boot script from S3 (a presigned URL; the runner uploads this package's
`ecs_boot.mjs` under `runtime/`, keyed by its sha256, and the loader checks that digest) and imports
it. The task definition (one revision per deploy, family per deployment) runs it as the image's
unprivileged `node` user; the boot script downloads the artifact (a presigned S3 URL), checks its
sha256, unpacks it and starts what `mastra-admin.json` says. The deployment's variables go into a
per-server Secrets Manager secret (written before the task definition, deleted when the server
stops or is found gone) and reach the container through the task definition's `secrets`
(`<secret arn>:<VAR>::`, resolved by ECS with the execution role): never as plaintext `run_task`
overrides, which DescribeTasks, CloudTrail and task events show (and which are capped at 8 KB).
Only the presigned boot-script and artifact URLs are overrides. Routing: nothing per deployment on
the ALB (an ALB holds at most 100 target groups): its one wildcard rule sends `*.{domain}` to the
router fleet (infra/router.yaml), which reads the deployment's `upstream` (the task's private
`ip:port`, written by the deploy worker's switch) from DynamoDB. State: `describe_tasks` (the ECS
task state-change event can call `probe` too), health from the container's own health check.
"""
from __future__ import annotations

import functools
import hashlib
import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from chalicelib import aws
from chalicelib.db.models import Deployment, Server
from chalicelib.errors import Unavailable
from chalicelib.control_plane_log import logger
from chalicelib.runners.deploy_port import LogSlice, Probe, ServerSpec, Started
from chalicelib.runners.node_toolchain import DEFAULT_MAJOR
from chalicelib.settings import Settings

CONTAINER = "server"
BOOT_SCRIPT = Path(__file__).resolve().parent / "ecs_boot.mjs"
BOOT_PREFIX = "runtime/"
APP_DIR = "/home/node/app"  # the image's `node` user owns its home; nothing else is writable but /tmp
# The container's whole command: fetch the boot script, check its digest, import it. Node only.
LOADER = (
    "const e=process.env,fs=require('fs'),c=require('crypto'),f='/tmp/mastra-admin-boot.mjs';"
    "fetch(e.MASTRA_ADMIN_BOOT_URL).then(r=>{if(!r.ok)throw new Error('boot script download: HTTP '+r.status);"
    "return r.text()}).then(t=>{const d=c.createHash('sha256').update(t).digest('hex');"
    "if(d!==e.MASTRA_ADMIN_BOOT_SHA256)throw new Error('boot script checksum '+d);"
    "fs.writeFileSync(f,t);return import(f)}).catch(x=>{console.error('[mastra-admin boot] '+x.message);"
    "process.exit(1)})"
)
ARTIFACT_URL_SECONDS = 3600
CONTAINER_INSIGHTS = "ECS/ContainerInsights"
USAGE_METRICS = {"cpuUtilized": "CpuUtilized", "cpuReserved": "CpuReserved", "memoryUtilized": "MemoryUtilized"}
USAGE_WINDOW_MINUTES = 5


class EcsDeployRunner:
    name = "ecs"

    def __init__(self, settings: Settings, ecs=None, logs=None, s3=None, cloudwatch=None,
                 secrets_manager=None):
        self.settings = settings
        self._clients = {"ecs": ecs, "logs": logs, "s3": s3, "cloudwatch": cloudwatch,
                         "secretsmanager": secrets_manager}

    def _client(self, service: str):
        return self._clients[service] or aws.client(service)

    # --- start ------------------------------------------------------------------------------

    def secret_name(self, server_id: str) -> str:
        return f"mastra-admin/{self.settings.stage}/servers/{server_id}"

    @functools.cached_property
    def boot_script(self) -> tuple[bytes, str]:
        body = BOOT_SCRIPT.read_bytes()
        return body, hashlib.sha256(body).hexdigest()

    def boot_key(self) -> str:
        return f"{BOOT_PREFIX}ecs_boot-{self.boot_script[1][:16]}.mjs"

    def _boot_url(self, bucket: str) -> str:
        """A presigned URL of this package's boot script, uploaded first (idempotent: keyed by digest)."""
        s3 = self._client("s3")
        s3.put_object(Bucket=bucket, Key=self.boot_key(), Body=self.boot_script[0], ContentType="text/javascript")
        return s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": self.boot_key()},
                                         ExpiresIn=ARTIFACT_URL_SECONDS)

    def task_definition(self, spec: ServerSpec, secret_arn: str | None = None) -> dict:
        """The register_task_definition arguments: ids, artifact and observability target, and the
        deployment's variables as references into the server's secret (`secret_arn`), never values."""
        s = self.settings
        environment = {
            **spec.runtime_env(),
            "NODE_ENV": "production",
            "MASTRA_ADMIN_APP_DIR": APP_DIR,
            "MASTRA_ADMIN_BOOT_SHA256": self.boot_script[1],
            "PORT": str(s.ecs_container_port),
            "MASTRA_ADMIN_ARTIFACT_SHA256": spec.artifact_sha256 or "",
            "MASTRA_ADMIN_OBSERVABILITY_BUCKET": s.bucket_name,
            "MASTRA_ADMIN_OBSERVABILITY_PREFIX": "observability",
        }
        container = {
            "name": CONTAINER, "image": s.ecs_image.replace("{major}", str(spec.node_major or DEFAULT_MAJOR)),
            "essential": True,
            "memory": int(s.ecs_memory), "cpu": int(s.ecs_cpu),
            "user": "node", "workingDirectory": "/home/node",
            "command": ["node", "-e", LOADER],
            "portMappings": [{"containerPort": s.ecs_container_port, "protocol": "tcp"}],
            "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
            "healthCheck": {"command": ["CMD-SHELL", f"node -e \"fetch('http://127.0.0.1:{s.ecs_container_port}"
                                                      f"{s.health_path}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))\""],
                            "interval": 10, "timeout": 5, "retries": 3, "startPeriod": 30},
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": s.ecs_log_group, "awslogs-region": s.region, "awslogs-stream-prefix": "server"}},
        }
        if secret_arn and spec.env:
            container["secrets"] = [{"name": k, "valueFrom": f"{secret_arn}:{k}::"} for k in sorted(spec.env)]
        args = {
            "family": f"mastra-admin-{spec.deployment_id}",
            "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
            "cpu": s.ecs_cpu, "memory": s.ecs_memory, "containerDefinitions": [container],
            "tags": [{"key": "mastra-admin:deployment", "value": spec.deployment_id},
                     {"key": "mastra-admin:build", "value": spec.build_id}],
        }
        if s.ecs_execution_role_arn:
            args["executionRoleArn"] = s.ecs_execution_role_arn
        if s.ecs_task_role_arn:
            args["taskRoleArn"] = s.ecs_task_role_arn
        return args

    def start(self, spec: ServerSpec) -> Started:
        ecs, s = self._client("ecs"), self.settings
        secret_arn = None
        try:
            if spec.env:
                secret_arn = self._client("secretsmanager").create_secret(
                    Name=self.secret_name(spec.server_id), SecretString=json.dumps(spec.env),
                    Description=f"variables of mastra-admin server {spec.server_id}; deleted when it stops",
                    Tags=[{"Key": "mastra-admin:server", "Value": spec.server_id},
                          {"Key": "mastra-admin:deployment", "Value": spec.deployment_id}])["ARN"]
            definition = ecs.register_task_definition(**self.task_definition(spec, secret_arn))["taskDefinition"]
            url = self._client("s3").generate_presigned_url(
                "get_object", Params={"Bucket": spec.artifact_bucket, "Key": spec.artifact_key},
                ExpiresIn=ARTIFACT_URL_SECONDS)
            overrides = [{"name": "MASTRA_ADMIN_ARTIFACT_URL", "value": url},
                         {"name": "MASTRA_ADMIN_BOOT_URL", "value": self._boot_url(spec.artifact_bucket)}]
            result = ecs.run_task(
                cluster=s.ecs_cluster, taskDefinition=definition["taskDefinitionArn"], launchType="FARGATE",
                count=1, startedBy=spec.deploy_id[:36], enableExecuteCommand=False,
                networkConfiguration={"awsvpcConfiguration": {
                    "subnets": list(s.ecs_subnets), "securityGroups": list(s.ecs_security_groups),
                    "assignPublicIp": "ENABLED" if s.ecs_assign_public_ip else "DISABLED"}},
                overrides={"containerOverrides": [{"name": CONTAINER, "environment": overrides}]},
                tags=[{"key": "mastra-admin:server", "value": spec.server_id},
                      {"key": "mastra-admin:deployment", "value": spec.deployment_id}],
            )
        except Exception as e:
            self._forget(spec.server_id)
            raise Unavailable(f"ECS refused the task: {aws.error_code(e) or e}", code="ecs_unavailable") from e
        if result.get("failures") or not result.get("tasks"):
            self._forget(spec.server_id)
            reasons = ", ".join(f.get("reason", "?") for f in result.get("failures") or []) or "no task"
            raise Unavailable(f"ECS could not place the task: {reasons}", code="ecs_unavailable")
        task = result["tasks"][0]
        return Started(host=_private_ip(task), port=s.ecs_container_port, task_arn=task["taskArn"],
                       task_definition_arn=definition["taskDefinitionArn"])

    # --- routing (the router fleet reads `upstream`; nothing per deployment on the ALB) ----------

    def activate(self, deployment: Deployment, server: Server, previous: Server | None) -> dict | None:
        """Learn the task's private IP (the ENI gets it while the task provisions); returns it if learnt here."""
        if server.host or not server.task_arn:
            return None
        learnt = None
        for _ in range(30):
            tasks = self._client("ecs").describe_tasks(cluster=self.settings.ecs_cluster,
                                                       tasks=[server.task_arn]).get("tasks") or []
            learnt = _private_ip(tasks[0]) if tasks else None
            if learnt or not tasks:
                break
            time.sleep(2)
        server.host = learnt
        return {"host": learnt} if learnt else None

    def deactivate(self, deployment: Deployment, server: Server) -> None:
        return None  # the switch moved the route; the worker waits out the routers' cache before stopping

    def upstream(self, server: Server) -> str | None:
        return f"{server.host}:{int(server.port or self.settings.ecs_container_port)}" if server.host else None

    # --- observe and stop -------------------------------------------------------------------

    def probe(self, server: Server) -> Probe:
        if not server.task_arn:
            return Probe(alive=False, healthy=False, detail="no task")
        tasks = self._client("ecs").describe_tasks(cluster=self.settings.ecs_cluster,
                                                   tasks=[server.task_arn]).get("tasks") or []
        if not tasks:
            return Probe(alive=False, healthy=False, detail="the task is gone")
        task = tasks[0]
        status = task.get("lastStatus", "UNKNOWN")
        if status in ("DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"):
            return Probe(alive=False, healthy=False,
                         detail=f"task {status.lower()}: {task.get('stoppedReason') or 'no reason given'}")
        if status != "RUNNING":
            return Probe(alive=True, healthy=False, detail=f"task {status.lower()}")
        state = (task.get("healthStatus") or next(  # from the container's health check
            (c.get("healthStatus") for c in task.get("containers") or [] if c.get("name") == CONTAINER), None)
            or "UNKNOWN").lower()
        cpu, memory = self.usage(server)
        return Probe(alive=True, healthy=state == "healthy", detail=f"container {state}", cpu_percent=cpu,
                     memory_bytes=memory)

    def usage(self, server: Server) -> tuple[float | None, int | None]:
        """CPU % and memory bytes of the task from Container Insights (enhanced observability: task-level
        `ECS/ContainerInsights` metrics by ClusterName, TaskDefinitionFamily and TaskId).

        CpuUtilized and CpuReserved are CPU units, MemoryUtilized MiB. None when nothing was published yet
        (metrics lag a minute or two behind a new task) or CloudWatch cannot be read: never fails a check.
        """
        if not server.task_arn or not server.task_definition_arn:
            return None, None
        dimensions = [
            {"Name": "ClusterName", "Value": self.settings.ecs_cluster},
            {"Name": "TaskDefinitionFamily", "Value": _family(server.task_definition_arn)},
            {"Name": "TaskId", "Value": server.task_arn.rsplit("/", 1)[-1]},
        ]
        queries = [{"Id": query_id, "ReturnData": True, "MetricStat": {
            "Metric": {"Namespace": CONTAINER_INSIGHTS, "MetricName": metric, "Dimensions": dimensions},
            "Period": 60, "Stat": "Average"}} for query_id, metric in USAGE_METRICS.items()]
        end = datetime.now(timezone.utc) + timedelta(minutes=1)  # EndTime is exclusive: include this minute
        try:
            results = self._client("cloudwatch").get_metric_data(
                MetricDataQueries=queries, StartTime=end - timedelta(minutes=USAGE_WINDOW_MINUTES + 1), EndTime=end,
                ScanBy="TimestampDescending")["MetricDataResults"]
        except Exception as e:
            logger.warning("reading Container Insights failed",
                           extra={"serverId": server.server_id, "error": aws.error_code(e) or type(e).__name__})
            return None, None
        latest = {r["Id"]: _newest(r) for r in results}
        reserved = latest.get("cpuReserved") or float(self.settings.ecs_cpu or 0) or None
        cpu = latest.get("cpuUtilized")
        memory = latest.get("memoryUtilized")
        return (round(cpu / reserved * 100, 1) if cpu is not None and reserved else None,
                int(memory * 1024 * 1024) if memory is not None else None)

    def alive(self, server: Server) -> bool | None:
        return None  # the ECS reconciler owns task state

    def ship(self, server: Server, final: bool = False) -> int:
        if final:  # the task is gone (it died, or the stack found it gone): its variables go too
            self._forget(server.server_id)
        return 0  # the task's boot script ships its own observability files

    def stop(self, server: Server) -> None:
        """The container gets SIGTERM (its boot script ships the last observability files), then SIGKILL."""
        if server.task_arn:
            self._client("ecs").stop_task(cluster=self.settings.ecs_cluster, task=server.task_arn,
                                          reason=f"mastra-admin: server {server.server_id} stopped")
        self._forget(server.server_id)

    def _forget(self, server_id: str) -> None:
        """Delete the server's variables secret; best effort (a leftover holds what DynamoDB holds)."""
        try:
            self._client("secretsmanager").delete_secret(SecretId=self.secret_name(server_id),
                                                         ForceDeleteWithoutRecovery=True)
        except Exception as e:
            if aws.error_code(e) != "ResourceNotFoundException":
                logger.warning("deleting a server's secret failed",
                               extra={"serverId": server_id, "error": aws.error_code(e) or type(e).__name__})

    def log_stream(self, server: Server) -> str:
        return f"server/{CONTAINER}/{(server.task_arn or '').rsplit('/', 1)[-1]}"

    def logs(self, server: Server, since: int | None, tail: int | None, limit: int) -> LogSlice:
        """Lines of the task's awslogs stream, by line offset like the local runner's."""
        client = self._client("logs")
        lines: list[str] = []
        kwargs = {"logGroupName": self.settings.ecs_log_group, "logStreamName": self.log_stream(server),
                  "startFromHead": True}
        try:
            while True:
                page = client.get_log_events(**kwargs)
                lines.extend(e["message"] for e in page.get("events", []))
                token = page.get("nextForwardToken")
                if not page.get("events") or token == kwargs.get("nextToken"):
                    break
                kwargs["nextToken"] = token
        except Exception as e:
            if aws.error_code(e) != "ResourceNotFoundException":
                raise
        total = len(lines)
        if since is None:
            count = min(tail or limit, limit)
            return LogSlice(max(0, total - count), total, lines[-count:] if count else [])
        chosen = lines[since:since + limit]
        if tail is not None and len(chosen) > tail:
            return LogSlice(since + len(chosen) - tail, since + len(chosen), chosen[-tail:])
        return LogSlice(since, since + len(chosen), chosen)


def _family(task_definition_arn: str) -> str:
    """arn:aws:ecs:region:account:task-definition/{family}:{revision} -> family."""
    return task_definition_arn.rsplit("/", 1)[-1].rsplit(":", 1)[0]


def _newest(result: dict) -> float | None:
    values = [v for _, v in sorted(zip(result.get("Timestamps") or [], result.get("Values") or []), reverse=True)]
    return float(values[0]) if values else None


def _private_ip(task: dict) -> str | None:
    for attachment in task.get("attachments") or []:
        for detail in attachment.get("details") or []:
            if detail.get("name") == "privateIPv4Address":
                return detail.get("value")
    return None
