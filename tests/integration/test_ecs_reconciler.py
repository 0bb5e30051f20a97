"""The ECS reconciler, the task state-change handler and Container Insights usage, against moto.

moto ECS runs nothing: tasks are held RUNNING by the state manager, and a crash is a stop_task
made behind the control plane's back. The state table lives on the same in-process moto server;
settings and clients are explicit.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib.db import keys
from chalicelib.db import servers as store
from chalicelib.db.models import Deployment, Server, utcnow
from chalicelib.ids import new_id
from chalicelib.runners.deploy_port import ServerSpec
from chalicelib.services.deploys import servers as server_service
from chalicelib.runners.ecs_reconciler import EcsReconciler
from tests.support.local_aws import hold_ecs_tasks, moto_server
from tests.support.moto_ecs import ecs_world, pointed_at

CLUSTER = "mastra-admin-test"


@pytest.fixture(scope="module")
def world():
    with moto_server() as url:
        hold_ecs_tasks(url)
        with pointed_at(url, "reconcile"):
            settings, runner, clients = ecs_world(url, CLUSTER)
            yield {"settings": settings, "runner": runner, **clients}


def _running_server(runner, status: str = "running") -> Server:
    """A deployment served by a server whose Fargate task is RUNNING."""
    deployment_id, server_id = new_id("deployment"), new_id("server")
    now = utcnow()
    Deployment(keys.deployment(deployment_id), keys.META, deployment_id=deployment_id, project_id="prj_x",
               team_id="team_x", type="production", branch="main", slug=deployment_id[-8:], status="running",
               server_id=server_id, upstream="10.0.1.5:8080").save()
    started = runner.start(_spec(server_id, deployment_id))
    server = Server(keys.server(server_id), keys.META, gsi1pk=keys.deployment_servers(deployment_id),
                    gsi1sk=keys.sorted_by_time(now.isoformat(), server_id), server_id=server_id,
                    deployment_id=deployment_id, build_id="bld_x", team_id="team_x", runner="ecs", status=status,
                    health="healthy", host=started.host, port=started.port, task_arn=started.task_arn,
                    task_definition_arn=started.task_definition_arn, created_at=now, updated_at=now)
    store.create(server)
    return server


def _spec(server_id: str, deployment_id: str, deploy_id: str = "dpl_01hzzzzzzzzzzzzzzzzzzzzzzz") -> ServerSpec:
    return ServerSpec(server_id=server_id, deploy_id=deploy_id, deployment_id=deployment_id, project_id="prj_x",
                      team_id="team_x", build_id="bld_x", slug="s", environment="production", commit=None,
                      artifact_bucket="artifacts", artifact_key="artifacts/bld_x.tgz")


def _task(world, arn: str) -> dict:
    return world["ecs"].describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"][0]


def test_a_stopped_task_exits_its_server_and_fails_its_deployment_once(world, published):
    reconciler = EcsReconciler(world["runner"], orphan_grace_seconds=3600)
    crashed, healthy = _running_server(world["runner"]), _running_server(world["runner"])
    world["ecs"].stop_task(cluster=CLUSTER, task=crashed.task_arn, reason="Essential container in task exited")

    out = reconciler.reconcile()
    assert out.exited == [crashed.server_id] and out.orphans == []
    server = store.find(crashed.server_id)
    assert server.status == "exited" and server.health == "dead"
    assert "Essential container in task exited" in server.reason
    assert crashed.server_id not in set(store.active_ids())
    deployment = Deployment.get(keys.deployment(crashed.deployment_id), keys.META)
    assert deployment.status == "failed" and deployment.upstream is None
    assert deployment.status_reason.startswith(f"server {crashed.server_id} died")
    on_server = [m for c, m in published if c == f"server:{crashed.server_id}"]
    assert [m["type"] for m in on_server] == ["health", "status"] and on_server[1]["status"] == "exited"
    assert any(c == f"deployment:{crashed.deployment_id}" and m["status"] == "failed" for c, m in published)
    assert store.find(healthy.server_id).status == "running"
    assert _task(world, healthy.task_arn)["lastStatus"] == "RUNNING"

    published.clear()
    assert not reconciler.reconcile(), "a second pass finds nothing to do"
    assert not [c for c, _ in published if crashed.server_id in c]


def test_a_stopping_server_whose_task_stopped_is_finished(world):
    server = _running_server(world["runner"], status="stopping")
    world["ecs"].stop_task(cluster=CLUSTER, task=server.task_arn)
    out = EcsReconciler(world["runner"], orphan_grace_seconds=3600).reconcile()
    assert server.server_id in out.stopped and store.find(server.server_id).status == "stopped"


def test_orphan_tasks_started_by_us_are_stopped_and_owned_ones_are_not(world):
    runner = world["runner"]
    owned = _running_server(runner)
    orphan = runner.start(_spec(new_id("server"), new_id("deployment")))  # its Server item was never written
    foreign = world["ecs"].run_task(  # not ours: no tags, not started by a deploy
        cluster=CLUSTER, taskDefinition=orphan.task_definition_arn, launchType="FARGATE", startedBy="someone-else",
        networkConfiguration={"awsvpcConfiguration": {"subnets": list(world["settings"].ecs_subnets),
                                                      "securityGroups": list(world["settings"].ecs_security_groups)}},
    )["tasks"][0]["taskArn"]

    # moto's tasks carry no createdAt (AWS's always do): the grace period is pinned on a task as AWS describes it
    young = {"createdAt": datetime.now(timezone.utc), "startedBy": "dpl_x", "taskArn": orphan.task_arn}
    assert EcsReconciler(runner, orphan_grace_seconds=300)._young(young)
    assert not EcsReconciler(runner, orphan_grace_seconds=0)._young(young)
    out = EcsReconciler(runner, orphan_grace_seconds=0).reconcile()
    assert out.orphans == [orphan.task_arn]
    assert _task(world, orphan.task_arn)["lastStatus"] == "STOPPED"
    assert _task(world, owned.task_arn)["lastStatus"] == "RUNNING"
    assert _task(world, foreign)["lastStatus"] == "RUNNING"
    world["ecs"].stop_task(cluster=CLUSTER, task=foreign)


def _event(arn: str, status: str = "STOPPED") -> dict:
    return {"version": "0", "id": "7e3c1b2a", "detail-type": "ECS Task State Change", "source": "aws.ecs",
            "time": datetime.now(timezone.utc).isoformat(), "region": "us-east-1",
            "detail": {"clusterArn": f"arn:aws:ecs:us-east-1:123456789012:cluster/{CLUSTER}", "taskArn": arn,
                       "lastStatus": status, "desiredStatus": "STOPPED", "stopCode": "EssentialContainerExited",
                       "stoppedReason": "Essential container in task exited",
                       "overrides": {"containerOverrides": [{"name": "server", "environment": [
                           {"name": "OPENAI_API_KEY", "value": "sk-user-secret"}]}]}}}


def test_the_task_state_change_event_exits_the_server_at_once_idempotently(world, published):
    reconciler = EcsReconciler(world["runner"])
    server = _running_server(world["runner"])
    assert not reconciler.task_state_changed(_event(server.task_arn, "RUNNING"))
    world["ecs"].stop_task(cluster=CLUSTER, task=server.task_arn)

    assert reconciler.task_state_changed(_event(server.task_arn)).exited == [server.server_id]
    assert store.find(server.server_id).status == "exited"
    deployment = Deployment.get(keys.deployment(server.deployment_id), keys.META)
    assert deployment.status == "failed"
    assert not reconciler.task_state_changed(_event(server.task_arn)), "a redelivered event changes nothing"
    assert len([m for c, m in published if c == f"server:{server.server_id}" and m["type"] == "status"]) == 1
    assert not reconciler.reconcile().exited
    assert not reconciler.task_state_changed(_event("arn:aws:ecs:us-east-1:123456789012:task/x/unknown"))


def test_health_checks_of_ecs_servers_store_container_insights_usage(world, monkeypatch):
    runner, cloudwatch = world["runner"], world["cloudwatch"]
    server = _running_server(runner)
    task_id = server.task_arn.rsplit("/", 1)[-1]
    dimensions = [{"Name": "ClusterName", "Value": CLUSTER},
                  {"Name": "TaskDefinitionFamily", "Value": f"mastra-admin-{server.deployment_id}"},
                  {"Name": "TaskId", "Value": task_id}]
    assert runner.usage(server) == (None, None), "nothing published yet"
    now = datetime.now(timezone.utc)
    cloudwatch.put_metric_data(Namespace="ECS/ContainerInsights", MetricData=[
        {"MetricName": "CpuUtilized", "Dimensions": dimensions, "Value": 128.0, "Unit": "None", "Timestamp": now},
        {"MetricName": "CpuReserved", "Dimensions": dimensions, "Value": 512.0, "Unit": "None", "Timestamp": now},
        {"MetricName": "MemoryUtilized", "Dimensions": dimensions, "Value": 300.0, "Unit": "Megabytes",
         "Timestamp": now},
        # another task of the same cluster: not this server's
        {"MetricName": "CpuUtilized", "Value": 500.0, "Unit": "None", "Timestamp": now,
         "Dimensions": [*dimensions[:2], {"Name": "TaskId", "Value": "other"}]},
    ])
    assert runner.usage(server) == (25.0, 300 * 1024 * 1024)

    monkeypatch.setattr(server_service, "deploy_runner_named", lambda name: runner)
    checked = server_service.check_one(server)
    assert checked.health == "healthy"  # the container's health check, as ECS reports it (moto: HEALTHY)
    stored = store.find(server.server_id)
    assert stored.cpu_percent == 25.0 and stored.memory_bytes == 300 * 1024 * 1024 and stored.last_check_at


def test_the_app_routes_stopped_tasks_of_our_cluster_to_the_handler_and_reconciles_every_minute():
    import app as chalice_app

    sources = {s.name: s for s in chalice_app.app.event_sources}
    pattern = sources["ecs_task_state_change"].event_pattern
    assert pattern["source"] == ["aws.ecs"] and pattern["detail-type"] == ["ECS Task State Change"]
    assert pattern["detail"]["lastStatus"] == ["STOPPED"]
    # the cluster of the settings app.py was imported with (an earlier test of this worker may have
    # imported it under another stage's environment)
    assert pattern["detail"]["clusterArn"] == [{"suffix": f":cluster/{chalice_app._settings.ecs_cluster}"}]
    assert chalice_app._settings.ecs_cluster.startswith("mastra-admin-")
    assert sources["ecs_reconciler"].schedule_expression.value == 1
