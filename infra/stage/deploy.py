"""The order of a stage: names checked, functions packaged, stacks deployed, day one run.

Stacks, in order (destroy goes backwards): resources (table, queues, bucket, key), codebuild, ecs,
router (the router fleet behind the ALB's one wildcard rule; its code bundle uploaded first),
functions (the packaged SAM template merged with infra/chalice-merge.yaml). Each exports its
outputs as mastra-admin-<stage>-<OutputName>; the functions import them.

Against moto (`MA_AWS_ENDPOINT_URL` set, or --moto) the functions' SAM template is translated here
and what moto's CloudFormation cannot create is left out and listed (templates.fit_for_moto).
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping

from infra.stage import console, day_one, templates
from infra.stage.names import STACK_PARTS, StageNames, check_stage
from infra.stage.stacks import Stacks

FUNCTIONS = "functions"
API_FUNCTION = "APIHandler"  # its environment is the stage's settings, for the in-process steps
MIGRATE_FUNCTION = "Migrate"
NETWORK_PARAMETERS = ("VpcId", "AlbSubnetIds", "TaskSubnetIds")


class DeployError(RuntimeError):
    pass


@dataclass
class Options:
    stage: str
    parameters: dict[str, str] = field(default_factory=dict)  # --param Key=Value, to every stack declaring Key
    moto: bool | None = None  # None: moto when an endpoint URL is set
    package: bool = True
    package_dir: Path = templates.PACKAGE_DIR
    owner: str = "owner"
    mint_owner_key: bool = False
    migrate: str = "in-process"  # or "lambda": invoke the stage's migrate function


@dataclass
class Report:
    left_out: dict[str, templates.LeftOut] = field(default_factory=dict)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    secret_values: list[str] = field(default_factory=list)
    day_one: day_one.DayOne | None = None


def clients(environ: Mapping[str, str]) -> Callable[[str], Any]:
    import boto3

    endpoint = environ.get("MA_AWS_ENDPOINT_URL") or None
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    session = boto3.session.Session()
    made: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in made:
            made[service] = session.client(service, endpoint_url=endpoint, region_name=region)
        return made[service]

    return client


def package(stage: str, environ: Mapping[str, str], out: Callable[[str], None]) -> None:
    """`make package` for the stage (app.py names the queues after MA_STAGE while chalice imports it)."""
    out(f"packaging the functions (make package STAGE={stage})")
    env = {**environ, "STAGE": stage, "MA_STAGE": stage}
    done = subprocess.run(["make", "--no-print-directory", "package", f"STAGE={stage}"], cwd=templates.ROOT,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        raise DeployError(f"make package failed:\n{done.stdout[-4000:]}")
    for line in done.stdout.splitlines():
        if "MiB" in line or "size" in line.lower():  # the package's sizes, when make package prints them
            out(f"  {line.strip()}")


def network_defaults(ec2: Any, given: Mapping[str, str]) -> dict[str, str]:
    """The ECS stack's network: what is given, else the account's default VPC and its subnets."""
    if all(given.get(p) for p in NETWORK_PARAMETERS):
        return {}
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}]).get("Vpcs") or []
    if not vpcs:
        raise DeployError("this account and region have no default VPC: give the ECS network with "
                          "PARAMS='VpcId=vpc-... AlbSubnetIds=subnet-a,subnet-b TaskSubnetIds=subnet-c,subnet-d'")
    vpc = given.get("VpcId") or vpcs[0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                            {"Name": "default-for-az", "Values": ["true"]}]).get("Subnets") or []
    ids = ",".join(sorted(s["SubnetId"] for s in subnets))
    if len(subnets) < 2:
        raise DeployError(f"the default VPC {vpc} has fewer than two default subnets (a load balancer needs two "
                          "zones): give AlbSubnetIds and TaskSubnetIds with PARAMS=...")
    # Default subnets are public without a NAT: tasks need a public address to reach S3 and npm.
    return {"VpcId": vpc, "AlbSubnetIds": ids, "TaskSubnetIds": ids, "AssignPublicIp": "true"}


def is_moto(options: Options, environ: Mapping[str, str]) -> bool:
    return options.moto if options.moto is not None else bool(environ.get("MA_AWS_ENDPOINT_URL"))


def deploy(options: Options, environ: Mapping[str, str] = os.environ, out: Callable[[str], None] = print) -> Report:
    names = StageNames(check_stage(options.stage))  # refused before anything is created
    day_one.check_secret_inputs(environ)
    moto = is_moto(options, environ)
    client = clients(environ)
    account = client("sts").get_caller_identity()["Account"]
    out(f"stage {names.stage} in account {account}{' (moto: resource types it lacks are left out)' if moto else ''}")
    stacks = Stacks(client("cloudformation"), client("s3"), change_sets=not moto)
    report = Report()
    parameters = {"Stage": names.stage, **options.parameters}
    if stacks.describe(names.stack("ecs")) is None:  # on an update, the stack keeps its network
        parameters = {**network_defaults(client("ec2"), parameters), **parameters}
    if options.package:
        package(names.stage, environ, out)
    sam = templates.packaged_template(options.package_dir)  # read before any stack: fails early when missing

    out("stacks:")
    for part in STACK_PARTS[:-1]:
        template = templates.load(templates.TEMPLATES[part])
        given = parameters
        if part == "router":
            # Every parameter given, defaults too: moto's update_stack fails keeping a defaulted one.
            defaults = {k: str(v["Default"]) for k, v in template["Parameters"].items() if "Default" in v}
            given = {**defaults, **router_parameters(report.outputs, parameters), **parameters}
            given["CodeKey"] = _upload_router_code(client("s3"), report.outputs["resources"]["BucketName"])
        report.outputs[part] = _deploy_one(stacks, names, part, template, given, moto, report, out,
                                           bucket=report.outputs.get("resources", {}).get("BucketName"))
    resources = report.outputs["resources"]
    bucket = resources["BucketName"]
    report.secret_values = day_one.write_settings_secret(
        client("secretsmanager"), names.settings_secret, resources["KeyArn"], environ)
    key = _upload_code(client("s3"), bucket, names, options.package_dir)
    sam = templates.with_code(sam, bucket, key)
    if moto:
        declared = {k: v for k, v in parameters.items() if k in (sam.get("Parameters") or {})}
        sam = templates.translate_sam(sam, {**declared, "AWS::Region": client("s3").meta.region_name,
                                            "AWS::AccountId": account})
    report.outputs[FUNCTIONS] = _deploy_one(stacks, names, FUNCTIONS, sam, parameters, moto, report, out,
                                            bucket=bucket)
    report.outputs[console.PART], left = console.deploy(  # after the functions: it fronts their REST API
        stacks, client("s3"), names, bucket, report.outputs[FUNCTIONS].get("EndpointURL"), moto, out)
    if left:
        report.left_out[console.PART] = left

    ids = stacks.physical_ids(names.stack(FUNCTIONS))
    stage_env = day_one.function_environment(client("lambda"), ids[API_FUNCTION])
    migrate_here = options.migrate == "in-process"
    out("day one:")
    report.day_one = day_one.run_in_process(stage_env, environ, options.owner, options.mint_owner_key,
                                            migrate=migrate_here)
    if not migrate_here:
        migration = day_one.invoke_migration(client("lambda"), ids[MIGRATE_FUNCTION])
        report.day_one = replace(report.day_one, migration=migration)
    return report


def _deploy_one(stacks: Stacks, names: StageNames, part: str, template: dict, parameters: dict[str, str],
                moto: bool, report: Report, out: Callable[[str], None], bucket: str | None) -> dict[str, str]:
    if moto:
        template, left = templates.fit_for_moto(template, stacks.exports(), parameters)
        if left:
            report.left_out[part] = left
    return stacks.deploy(names.stack(part), template, parameters, template_bucket=bucket,
                         tags={"mastra-admin:stage": names.stage}, progress=out).outputs


def router_parameters(outputs: dict[str, dict[str, str]], given: Mapping[str, str]) -> dict[str, str]:
    """router.yaml's parameters from the outputs of the stacks before it (the user's own win)."""
    ecs, resources = outputs["ecs"], outputs["resources"]
    return {
        "PublicDomain": given.get("PublicDomain") or ecs["AlbDnsName"],
        "ClusterName": ecs["EcsCluster"], "VpcId": ecs["VpcId"], "TaskSubnetIds": ecs["EcsSubnets"],
        "AssignPublicIp": ecs["EcsAssignPublicIp"], "AlbListenerArn": ecs["AlbListenerArn"],
        "AlbSecurityGroupId": ecs["AlbSecurityGroupId"], "ServerSecurityGroupId": ecs["EcsSecurityGroups"],
        "ServerPort": ecs["EcsContainerPort"], "TableName": resources["TableName"],
        "RouteTopicArn": resources["RouteTopicArn"], "ArtifactsBucketName": resources["BucketName"],
    }


def router_bundle() -> bytes:
    """What a router task fetches at start: chalicelib/ (no bytecode, no CLI) and the runtime lock."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
            parts = Path(info.name).parts
            if "__pycache__" in parts or parts[:2] == ("chalicelib", "cli"):
                return None
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""  # same code, same digest
            return info
        tar.add(templates.ROOT / "chalicelib", "chalicelib", filter=keep)
        tar.add(templates.ROOT / "requirements.txt", "requirements.txt", filter=keep)
    return buffer.getvalue()


def _upload_router_code(s3: Any, bucket: str) -> str:
    body = router_bundle()
    return _upload_once(s3, bucket, f"router/{hashlib.sha256(body).hexdigest()}.tar.gz", body)


def _upload_code(s3: Any, bucket: str, names: StageNames, package_dir: Path) -> str:
    """The package's code zip in the bucket, keyed by its digest."""
    body = (package_dir / templates.CODE_ZIP).read_bytes()
    return _upload_once(s3, bucket, f"{names.code_prefix}{hashlib.sha256(body).hexdigest()}.zip", body)


def _upload_once(s3: Any, bucket: str, key: str, body: bytes) -> str:
    """Keys are digests of their content: an object already there is not sent again."""
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except Exception:
        s3.upload_fileobj(io.BytesIO(body), bucket, key)
    return key


def destroy(stage: str, environ: Mapping[str, str] = os.environ, out: Callable[[str], None] = print) -> list[str]:
    """Deletes the stage's stacks, newest first; returns the stacks deleted. Retained resources stay."""
    names = StageNames(check_stage(stage))
    stacks = Stacks(clients(environ)("cloudformation"))
    deleted = []
    for part in (console.PART, *reversed(STACK_PARTS)):  # the console stack imports the resources' bucket
        if stacks.delete(names.stack(part), progress=out):
            deleted.append(names.stack(part))
    return deleted


def print_report(report: Report, out: Callable[[str], None] = print) -> None:
    if report.left_out:
        out("left out (moto's CloudFormation cannot create them; AWS creates them from the same templates):")
        for part, left in report.left_out.items():
            for kind, items in (("resources", left.resources), ("outputs", left.outputs),
                                ("variables", left.variables), ("imports", left.imports)):
                if items:
                    out(f"  {part} stack, {kind}: {', '.join(items)}")
    out(f"settings secret holds: {', '.join(report.secret_values) or 'nothing yet'}")
    if "clickhouse_url" not in report.secret_values:
        out("  no ClickHouse yet: run again with MA_CLICKHOUSE_URL (and MA_CLICKHOUSE_USER, MA_CLICKHOUSE_PASSWORD)")
    first = report.day_one
    if first is not None:
        out(f"migration: {first.migration}")
        if first.token:
            out(f"owner API key of team {first.team_id} for user {first.owner_user_id} (shown once; store it now):")
            out(f"  {first.token}")
        else:
            out(f"bootstrap: team {first.team_id} has owner {first.owner_user_id} already; no key minted "
                "(--mint-owner-key mints a new one)")
    console_url = report.outputs.get(console.PART, {}).get("ConsoleUrl")
    out(f"console: {console_url}" if console_url else "console: no CloudFront here (the files are in the bucket)")
    functions = report.outputs.get(FUNCTIONS, {})
    for label, output in (("API", "EndpointURL"), ("WebSocket", "WebsocketConnectEndpointURL")):
        value = functions.get(output)
        out(f"{label}: {value}" if value else f"{label}: no URL ({output} is not an output here)")
    sys.stdout.flush()
