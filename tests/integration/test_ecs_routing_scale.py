"""More deployments than one ALB can hold target groups for (100, a hard quota), on the ECS runner.

Each of 101 deployments is deployed by the real deploy worker with the ECS runner against moto
server (ECS, EC2, ELBv2, S3, Secrets Manager, DynamoDB); then each slug is resolved through the
router's own lookup (`RouteTable` over `dynamodb_lookup`), as a router task would resolve a request
for `{slug}.{domain}`. No traffic is sent to moto's task addresses. The ALB's rules and target
groups are the same after the first deployment and after the last.
"""
from __future__ import annotations

import dataclasses

import pytest

from chalicelib.db import deployments as deployment_store
from chalicelib.db import deploys as deploy_store
from chalicelib.db import keys
from chalicelib.db import servers as server_store
from chalicelib.db.models import Build, Deploy, Deployment, Project, utcnow
from chalicelib.ids import new_id
from chalicelib.router.routes import RouteTable, dynamodb_lookup
from chalicelib.runners.ecs_deploy import _private_ip
from chalicelib.services.deploys import worker
from tests.support.local_aws import hold_ecs_tasks, moto_server
from tests.support.moto_ecs import ecs_world, pointed_at

pytestmark = [pytest.mark.integration,
              pytest.mark.timeout(900)]  # 101 real deploys at ~37 moto calls each; minutes on a loaded machine

DEPLOYMENTS = 101


@pytest.fixture(scope="module")
def world():
    with moto_server() as url:
        hold_ecs_tasks(url)
        with pointed_at(url, "routing-scale"):
            settings, runner, clients = ecs_world(url)
            ec2, elbv2 = clients["ec2"], clients["elbv2"]
            vpc = settings.vpc_id
            subnet_b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24",
                                         AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
            alb = elbv2.create_load_balancer(Name="mastra-admin", Subnets=[settings.ecs_subnets[0], subnet_b],
                                             SecurityGroups=list(settings.ecs_security_groups),
                                             Type="application")["LoadBalancers"][0]["LoadBalancerArn"]
            listener = elbv2.create_listener(LoadBalancerArn=alb, Protocol="HTTP", Port=80, DefaultActions=[
                {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}])["Listeners"][0]
            # The worker's timers made instant: moto's tasks are RUNNING and HEALTHY at once.
            settings = dataclasses.replace(settings, drain_seconds=0, deploy_health_timeout_seconds=10,
                                           alb_listener_arn=listener["ListenerArn"])
            runner.settings = settings
            yield {"settings": settings, "runner": runner, "elbv2": elbv2, "ecs": clients["ecs"], "listener": listener["ListenerArn"],
                   "alb": alb}


def _alb_resources(world) -> tuple[int, int]:
    elbv2 = world["elbv2"]
    rules = elbv2.describe_rules(ListenerArn=world["listener"])["Rules"]
    groups = elbv2.describe_target_groups()["TargetGroups"]
    return len(rules), len(groups)


def _deployment_with_a_build(n: int) -> tuple[Deployment, Deploy]:
    now = utcnow()
    team_id, project_id = new_id("team"), new_id("project")
    deployment_id, build_id, deploy_id = new_id("deployment"), new_id("build"), new_id("deploy")
    Project(keys.project(project_id), keys.META, project_id=project_id, team_id=team_id, name=f"p{n}",
            slug=f"p{n}", source={"kind": "local", "path": "/nowhere"}, default_branch="main").save()
    deployment = Deployment(keys.deployment(deployment_id), keys.META, deployment_id=deployment_id,
                            project_id=project_id, team_id=team_id, type="production", branch="main",
                            slug=f"agent-{n}")
    deployment_store.create(deployment)
    Build(keys.build(build_id), keys.META, build_id=build_id, deployment_id=deployment_id, project_id=project_id,
          team_id=team_id, status="succeeded", artifact_key="artifacts/bld_x.tgz", artifact_sha256="f" * 64,
          runner="codebuild").save()
    deploy = Deploy(keys.deploy(deploy_id), keys.META, gsi1pk=keys.deployment_deploys(deployment_id),
                    gsi1sk=keys.sorted_by_time(now.isoformat(), deploy_id), deploy_id=deploy_id,
                    deployment_id=deployment_id, project_id=project_id, team_id=team_id, action="deploy",
                    trigger="manual", build_id=build_id, status="queued", attempt=0, queued_at=now,
                    created_at=now, updated_at=now)
    deploy_store.create(deploy)
    return deployment, deploy


def test_more_than_100_ecs_deployments_route_through_the_router_lookup_with_a_constant_alb(world):
    before = _alb_resources(world)
    assert before == (1, 0), "the listener's default rule and no target group"
    deployed: list[Deployment] = []
    for n in range(DEPLOYMENTS):
        deployment, deploy = _deployment_with_a_build(n)
        assert worker.process(deploy.deploy_id, runner=world["runner"], settings=world["settings"]) == "succeeded"
        deployed.append(deployment)
        if n == 0:
            assert _alb_resources(world) == before
    assert _alb_resources(world) == before, "nothing on the ALB grew with the deployments"

    routes = RouteTable(60.0, dynamodb_lookup)
    upstreams = set()
    for deployment in deployed:
        route = routes.get(deployment.slug)
        stored = deployment_store.find(deployment.deployment_id)
        server = server_store.find(stored.server_id)
        assert route.known and route.status == "running", deployment.slug
        task = world["ecs"].describe_tasks(cluster=world["settings"].ecs_cluster, tasks=[server.task_arn])["tasks"][0]
        assert route.upstream == f"{_private_ip(task)}:{world['settings'].ecs_container_port}", "the task's own address"
        upstreams.add(route.upstream)
    assert len(upstreams) == DEPLOYMENTS, "each deployment routes to its own task"
    assert not routes.get("no-such-agent").known
