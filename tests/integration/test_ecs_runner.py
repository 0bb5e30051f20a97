"""EcsDeployRunner against moto ECS, ELBv2, EC2, S3 and CloudWatch Logs: the calls it makes.

moto runs nothing: these tests pin the shapes of the calls (task definition, run_task with the
environment as overrides, the route as the task's private address for the router fleet, stop) and
how the runner reads state back. Explicit Settings and clients: no global settings are used.
"""
from __future__ import annotations

import hashlib
import json
import time
import urllib.request

import boto3
import pytest

from chalicelib.db.models import Deployment, Server
from chalicelib.runners.deploy_port import ServerSpec
from chalicelib.runners.ecs_deploy import EcsDeployRunner
from chalicelib.settings import Settings
from tests.support.local_aws import hold_ecs_tasks, moto_server

REGION = "us-east-1"


@pytest.fixture(scope="module")
def moto_url():
    with moto_server() as url:
        hold_ecs_tasks(url)
        yield url


@pytest.fixture(scope="module")
def world(moto_url):
    def client(name):
        return boto3.client(name, endpoint_url=moto_url, region_name=REGION, aws_access_key_id="testing",
                            aws_secret_access_key="testing")

    ec2, elbv2, ecs, s3, logs, sm = (client(n) for n in ("ec2", "elbv2", "ecs", "s3", "logs", "secretsmanager"))
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    # As Fargate VPCs have it; moto 5.2's ECS task attachments also need it (else a 500).
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")
               ["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]
    sg = ec2.create_security_group(GroupName="servers", Description="servers", VpcId=vpc)["GroupId"]
    alb = elbv2.create_load_balancer(Name="mastra-admin", Subnets=subnets, SecurityGroups=[sg],
                                     Type="application")["LoadBalancers"][0]["LoadBalancerArn"]
    listener = elbv2.create_listener(LoadBalancerArn=alb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}])["Listeners"][0]["ListenerArn"]
    ecs.create_cluster(clusterName="mastra-admin-test")
    s3.create_bucket(Bucket="artifacts")
    s3.put_object(Bucket="artifacts", Key="artifacts/bld_1.tgz", Body=b"tgz")
    logs.create_log_group(logGroupName="/mastra-admin/test/servers")
    settings = Settings(
        stage="test", region=REGION, bucket_name="artifacts", deploy_runner="ecs", ecs_cluster="mastra-admin-test",
        ecs_subnets=tuple(subnets), ecs_security_groups=(sg,), ecs_log_group="/mastra-admin/test/servers",
        alb_listener_arn=listener, vpc_id=vpc, public_domain="apps.example.com", drain_seconds=5,
    )
    runner = EcsDeployRunner(settings, ecs=ecs, logs=logs, s3=s3, secrets_manager=sm)
    return {"runner": runner, "ecs": ecs, "elbv2": elbv2, "logs": logs, "listener": listener, "settings": settings,
            "secretsmanager": sm}


DEPLOYMENT_ID = "dep_01hzzzzzzzzzzzzzzzzzzzzzzz"


def _spec(server_id: str) -> ServerSpec:
    return ServerSpec(
        server_id=server_id, deploy_id="dpl_01hzzzzzzzzzzzzzzzzzzzzzzz", deployment_id=DEPLOYMENT_ID,
        project_id="prj_01hzzzzzzzzzzzzzzzzzzzzzzz", team_id="team_01hzzzzzzzzzzzzzzzzzzzzzzz",
        build_id="bld_01hzzzzzzzzzzzzzzzzzzzzzzz", slug="weather", environment="production", commit="abc1234",
        artifact_bucket="artifacts", artifact_key="artifacts/bld_1.tgz", artifact_sha256="f" * 64,
        env={"OPENAI_API_KEY": "sk-user-secret", "GREETING": "hi"},
    )


def _deployment() -> Deployment:
    return Deployment("DEPLOYMENT#x", "#META", deployment_id=DEPLOYMENT_ID, project_id="p", team_id="t",
                      type="production", branch="main", slug="weather")


def _server(server_id: str, started) -> Server:
    return Server("SERVER#x", "#META", server_id=server_id, deployment_id=DEPLOYMENT_ID, build_id="b", team_id="t",
                  runner="ecs", status="starting", host=started.host, port=started.port, task_arn=started.task_arn)


def test_start_registers_a_task_definition_and_runs_fargate_with_the_environment(world):
    ecs, runner, sm = world["ecs"], world["runner"], world["secretsmanager"]
    started = runner.start(_spec("srv_01haaaaaaaaaaaaaaaaaaaaaaa"))
    assert started.task_arn and started.host and started.host.count(".") == 3  # the task ENI's private IP
    assert started.port == 8080

    task = ecs.describe_tasks(cluster="mastra-admin-test", tasks=[started.task_arn])["tasks"][0]
    assert task["launchType"] == "FARGATE" and task["lastStatus"] == "RUNNING"
    assert task["taskDefinitionArn"] == started.task_definition_arn
    assert "sk-user-secret" not in json.dumps(task, default=str), "DescribeTasks shows no variable's value"
    overrides = {e["name"]: e["value"] for e in task["overrides"]["containerOverrides"][0]["environment"]}
    assert set(overrides) == {"MASTRA_ADMIN_ARTIFACT_URL", "MASTRA_ADMIN_BOOT_URL"}
    with urllib.request.urlopen(overrides["MASTRA_ADMIN_ARTIFACT_URL"]) as r:  # presigned: no credentials
        assert r.read() == b"tgz"
    with urllib.request.urlopen(overrides["MASTRA_ADMIN_BOOT_URL"]) as r:  # the boot script of this package
        assert hashlib.sha256(r.read()).hexdigest() == runner.boot_script[1]

    definition = ecs.describe_task_definition(taskDefinition=started.task_definition_arn)["taskDefinition"]
    assert definition["family"] == f"mastra-admin-{DEPLOYMENT_ID}"
    assert definition["requiresCompatibilities"] == ["FARGATE"] and definition["networkMode"] == "awsvpc"
    container = definition["containerDefinitions"][0]
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert env["PORT"] == "8080" and env["MASTRA_ADMIN_DEPLOYMENT_ID"] == DEPLOYMENT_ID
    assert env["MASTRA_ADMIN_SERVER_ID"] == "srv_01haaaaaaaaaaaaaaaaaaaaaaa"
    assert env["MASTRA_ADMIN_OBSERVABILITY_BUCKET"] == "artifacts"
    assert "sk-user-secret" not in json.dumps(definition), "secrets never go into a task definition revision"
    # The variables are references into the server's own secret, which holds their values.
    refs = {r["name"]: r["valueFrom"] for r in container["secrets"]}
    secret = sm.get_secret_value(SecretId=runner.secret_name("srv_01haaaaaaaaaaaaaaaaaaaaaaa"))
    assert refs == {name: f"{secret['ARN']}:{name}::" for name in ("GREETING", "OPENAI_API_KEY")}
    assert json.loads(secret["SecretString"]) == {"OPENAI_API_KEY": "sk-user-secret", "GREETING": "hi"}
    assert not [k for k in env if k.startswith(("MA_", "AWS_"))]
    assert container["logConfiguration"]["options"]["awslogs-group"] == "/mastra-admin/test/servers"
    # A second deploy of the same deployment is a new revision of the same family.
    again = runner.start(_spec("srv_01hbbbbbbbbbbbbbbbbbbbbbbb"))
    assert again.task_definition_arn.rsplit(":", 1)[0] == started.task_definition_arn.rsplit(":", 1)[0]
    assert again.task_definition_arn != started.task_definition_arn


def test_activate_adds_nothing_to_the_alb_and_the_route_is_the_tasks_private_address(world):
    runner, elbv2 = world["runner"], world["elbv2"]
    rules_before = elbv2.describe_rules(ListenerArn=world["listener"])["Rules"]
    started = runner.start(_spec("srv_01hccccccccccccccccccccccc"))
    server = _server("srv_01hccccccccccccccccccccccc", started)
    server.host = None  # as the deploy worker has it before the ENI's address is known
    learnt = runner.activate(_deployment(), server, None)
    assert learnt and learnt["host"] == server.host and server.host
    assert runner.upstream(server) == f"{server.host}:8080"
    assert elbv2.describe_rules(ListenerArn=world["listener"])["Rules"] == rules_before
    assert elbv2.describe_target_groups()["TargetGroups"] == []

    probe = runner.probe(server)  # the container's own health check, as ECS reports it
    assert probe.alive and probe.healthy and probe.detail == "container healthy"
    runner.stop(server)
    probe = runner.probe(server)
    assert not probe.alive and probe.health == "dead" and "stopped" in probe.detail
    listed = world["secretsmanager"].list_secrets()["SecretList"]
    assert runner.secret_name(server.server_id) not in [x["Name"] for x in listed], "its variables went with it"


def test_logs_are_read_from_the_tasks_awslogs_stream_by_line_offset(world):
    runner, logs = world["runner"], world["logs"]
    started = runner.start(_spec("srv_01hddddddddddddddddddddddd"))
    server = _server("srv_01hddddddddddddddddddddddd", started)
    assert runner.logs(server, None, 10, 100).lines == []
    stream = runner.log_stream(server)
    assert stream == f"server/server/{started.task_arn.rsplit('/', 1)[-1]}"
    logs.create_log_stream(logGroupName="/mastra-admin/test/servers", logStreamName=stream)
    logs.put_log_events(logGroupName="/mastra-admin/test/servers", logStreamName=stream, logEvents=[
        {"timestamp": int(time.time() * 1000) + i, "message": f"line {i}"} for i in range(5)])
    tail = runner.logs(server, None, 2, 100)
    assert tail.lines == ["line 3", "line 4"] and tail.offset == 3 and tail.next_offset == 5
    since = runner.logs(server, 1, None, 100)
    assert since.lines == ["line 1", "line 2", "line 3", "line 4"] and since.next_offset == 5
