"""Deploys through the real local stack: build -> deploy queue -> worker -> local server -> router.

The tiny fixture's server answers every path with the id of the build that produced it, so a
response says which build is serving.
"""
from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from tests.support.builds import copy_tiny, handled_messages, start_build, tiny_deployment, wait_build
from tests.support.live import ws_client
from tests.support.deploys import (
    DEPLOY_ENV, server_processes, stack_serving, via_host, via_path, wait_deploy, wait_deploy_of_build,
)
from tests.support.waiting import wait_for


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with stack_serving(tmp_path_factory.mktemp("ma-deploys"), DEPLOY_ENV) as s:
        yield s


@pytest.fixture(scope="module")
def owner(stack):
    return stack.session(stack.owner_key)


@pytest.fixture(scope="module")
def team(stack, owner):
    return owner.get(stack.url("/teams")).json()["items"][0]["id"]


def _deployed(stack, owner, team, tmp_path, env=None, name="tiny"):
    """(projectId, deployment, build, deploy) of a tiny project built and deployed once."""
    src = copy_tiny(tmp_path / name)
    project, deployment_id = tiny_deployment(stack, owner, team, {"type": "local", "path": str(src)}, env=env,
                                             name=name)
    build = wait_build(stack, owner, start_build(stack, owner, deployment_id)["id"])
    assert build["status"] == "succeeded", build
    deploy = wait_deploy_of_build(stack, owner, deployment_id, build["id"])
    deployment = owner.get(stack.url(f"/deployments/{deployment_id}")).json()
    return project, deployment, build, deploy


def _events(stack) -> list[dict]:
    """Every message still on file, oldest first: the rotated generations (events.jsonl.N), then the current one."""
    rotated = sorted(stack.home.glob("events.jsonl.[0-9]*"), key=lambda p: -int(p.suffix[1:]))
    return [json.loads(line) for path in [*rotated, stack.home / "events.jsonl"] if path.exists()
            for line in path.read_text().splitlines()]


def test_a_succeeded_build_is_deployed_and_served_through_the_router(stack, owner, team, tmp_path):
    project, deployment, build, deploy = _deployed(stack, owner, team, tmp_path,
                                                   env={"TINY_SECRET": "planted-secret-value"})
    assert deploy["status"] == "succeeded", deploy
    assert deployment["status"] == "running"
    assert deployment["currentBuildId"] == build["id"]
    assert deployment["serverId"] == deploy["serverId"]
    slug = deployment["slug"]
    assert deployment["publicUrl"] == f"http://{slug}.localhost:{stack.env['MA_ROUTER_PORT']}"

    r = via_host(stack, slug, "/api/hello?x=1")
    assert r.status_code == 200 and r.json() == {"buildId": build["id"], "path": "/api/hello?x=1"}
    r = via_path(stack, slug, "/api/hello")
    assert r.status_code == 200 and r.json() == {"buildId": build["id"], "path": "/api/hello"}
    assert via_path(stack, "no-such-slug", "/").status_code == 404

    server = owner.get(stack.url(f"/servers/{deployment['serverId']}")).json()
    assert server["status"] == "running" and server["health"] == "healthy"
    assert server["buildId"] == build["id"] and server["pid"] and server["port"]
    # The next scheduled check records resource use.
    server = wait_for(lambda: (lambda s: s if s["memoryBytes"] else None)(
        owner.get(stack.url(f"/servers/{deployment['serverId']}")).json()), 10, what="resource use")
    assert server["memoryBytes"] > 1_000_000 and server["lastCheckAt"]

    # The server got the project's variables and its ids, never the control plane's settings.
    import psutil

    env = psutil.Process(server["pid"]).environ()
    assert env["TINY_SECRET"] == "planted-secret-value"
    assert env["MASTRA_ADMIN_DEPLOYMENT_ID"] == deployment["id"] and env["PORT"] == str(server["port"])
    assert env["MASTRA_ADMIN_SERVER_ID"] == server["id"] and env["MASTRA_ADMIN_BUILD_ID"] == build["id"]
    assert not [k for k in env if k.startswith(("MA_", "AWS_"))], "control-plane settings reached user code"

    # Logs: the API returns real lines, and the channel streamed them.
    logs = owner.get(stack.url(f"/servers/{server['id']}/logs"), params={"tail": 50}).json()
    assert any("listening on" in line for line in logs["lines"]), logs
    assert "GET /api/hello?x=1" in logs["lines"]
    more = owner.get(stack.url(f"/servers/{server['id']}/logs"), params={"since": logs["nextOffset"]}).json()
    assert more["lines"] == [] and more["offset"] == logs["nextOffset"]
    via_path(stack, slug, "/after")
    more = wait_for(lambda: (lambda m: m if m["lines"] else None)(owner.get(
        stack.url(f"/servers/{server['id']}/logs"), params={"since": logs["nextOffset"]}).json()), 5,
        what="a new log line")
    assert more["lines"] == ["GET /after"]
    wait_for(lambda: any(e["channel"] == f"server:{server['id']}:logs" and "GET /after" in e["lines"]
                         for e in _events(stack)), 5, what="the line on server:{id}:logs")
    assert any(e["channel"] == f"server:{server['id']}" and e.get("type") == "health"
               and e["health"] == "healthy" for e in _events(stack))
    assert any(e["channel"] == f"deployment:{deployment['id']}" and e.get("status") == "running"
               for e in _events(stack))


def test_redeploy_under_load_fails_no_request(stack, owner, team, tmp_path):
    _, deployment, build, _ = _deployed(stack, owner, team, tmp_path, name="load")
    slug = deployment["slug"]
    failures: list[str] = []
    served: list[str] = []
    stop = threading.Event()

    def hammer() -> None:
        session = requests.Session()
        while not stop.is_set():
            try:
                r = session.get(f"http://127.0.0.1:{stack.env['MA_ROUTER_PORT']}/d/{slug}/ping", timeout=10)
                if r.status_code != 200:
                    failures.append(f"{r.status_code} {r.text[:100]}")
                else:
                    served.append(r.json()["buildId"])
            except requests.RequestException as e:
                failures.append(repr(e))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        r = owner.post(stack.url(f"/deployments/{deployment['id']}/redeploy"), json={})
        assert r.status_code == 202, r.text
        first = wait_deploy(stack, owner, r.json()["id"])
        assert first["status"] == "succeeded", first
        new_build = wait_build(stack, owner, start_build(stack, owner, deployment["id"])["id"])
        second = wait_deploy_of_build(stack, owner, deployment["id"], new_build["id"])
        assert second["status"] == "succeeded", second
        time.sleep(1.0)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert failures == [], failures[:5]
    assert len(served) > 50
    assert served[0] == build["id"] and served[-1] == new_build["id"]
    # Old servers were stopped after the switch: one server process serves the deployment.
    servers = owner.get(stack.url(f"/deployments/{deployment['id']}/servers")).json()["items"]
    assert [s["status"] for s in servers] == ["running", "stopped", "stopped"]


def test_a_deploy_that_never_gets_healthy_fails_and_the_old_server_keeps_serving(stack, owner, team, tmp_path):
    _, deployment, build, _ = _deployed(stack, owner, team, tmp_path, name="unhealthy")
    r = owner.patch(stack.url(f"/deployments/{deployment['id']}"), json={"envOverrides": {"TINY_UNHEALTHY": "1"}})
    assert r.status_code == 200, r.text
    started = time.monotonic()
    r = owner.post(stack.url(f"/deployments/{deployment['id']}/redeploy"), json={})
    deploy = wait_deploy(stack, owner, r.json()["id"], timeout=60)
    assert deploy["status"] == "failed"
    assert "never became healthy" in deploy["reason"] and "503" in deploy["reason"]
    assert "listening on" in deploy["reason"], "the reason carries the server's last log lines"
    assert time.monotonic() - started < 30
    after = owner.get(stack.url(f"/deployments/{deployment['id']}")).json()
    assert after["status"] == "running" and after["serverId"] == deployment["serverId"]
    assert after["statusReason"].startswith(f"deploy {deploy['id']} failed")
    r = via_path(stack, deployment["slug"], "/still")
    assert r.status_code == 200 and r.json()["buildId"] == build["id"]
    failed = owner.get(stack.url(f"/servers/{deploy['serverId']}")).json()
    assert failed["status"] == "failed"
    wait_for(lambda: failed["pid"] not in server_processes(stack.home), 5, what="the failed server gone")


def test_rollback_serves_the_previous_build_without_rebuilding(stack, owner, team, tmp_path):
    _, deployment, first, _ = _deployed(stack, owner, team, tmp_path, name="rollback")
    second = wait_build(stack, owner, start_build(stack, owner, deployment["id"])["id"])
    wait_deploy_of_build(stack, owner, deployment["id"], second["id"])
    assert via_path(stack, deployment["slug"], "/").json()["buildId"] == second["id"]
    builds_before = owner.get(stack.url(f"/deployments/{deployment['id']}/builds")).json()["items"]

    r = owner.post(stack.url(f"/deployments/{deployment['id']}/rollback"), json={})
    assert r.status_code == 202, r.text
    assert r.json()["buildId"] == first["id"] and r.json()["trigger"] == "rollback"
    done = wait_deploy(stack, owner, r.json()["id"])
    assert done["status"] == "succeeded", done
    wait_for(lambda: via_path(stack, deployment["slug"], "/").json()["buildId"] == first["id"], 3,
             what="the old build serving")
    after = owner.get(stack.url(f"/deployments/{deployment['id']}")).json()
    assert after["currentBuildId"] == first["id"]
    assert owner.get(stack.url(f"/deployments/{deployment['id']}/builds")).json()["items"] == builds_before

    # Rolling back further has nowhere to go; an explicit build id goes forward again.
    r = owner.post(stack.url(f"/deployments/{deployment['id']}/rollback"), json={})
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_previous_build"
    r = owner.post(stack.url(f"/deployments/{deployment['id']}/rollback"), json={"buildId": second["id"]})
    assert wait_deploy(stack, owner, r.json()["id"])["status"] == "succeeded"
    assert via_path(stack, deployment["slug"], "/").json()["buildId"] == second["id"]


def test_stop_then_restart(stack, owner, team, tmp_path):
    _, deployment, build, _ = _deployed(stack, owner, team, tmp_path, name="stoprestart")
    old_server = owner.get(stack.url(f"/servers/{deployment['serverId']}")).json()
    r = owner.post(stack.url(f"/deployments/{deployment['id']}/stop"))
    assert r.status_code == 202, r.text
    assert wait_deploy(stack, owner, r.json()["id"])["status"] == "succeeded"
    stopped = owner.get(stack.url(f"/deployments/{deployment['id']}")).json()
    assert stopped["status"] == "stopped" and stopped["serverId"] is None
    assert owner.get(stack.url(f"/servers/{old_server['id']}")).json()["status"] == "stopped"
    assert old_server["pid"] not in server_processes(stack.home)
    r = via_path(stack, deployment["slug"], "/")
    assert r.status_code == 503 and r.json()["error"]["code"] == "deployment_not_running"

    r = owner.post(stack.url(f"/deployments/{deployment['id']}/restart"))
    assert r.status_code == 202, r.text
    assert wait_deploy(stack, owner, r.json()["id"])["status"] == "succeeded"
    assert via_path(stack, deployment["slug"], "/").json()["buildId"] == build["id"]


def test_a_killed_server_is_noticed_by_the_next_health_check(stack, owner, team, tmp_path):
    import os
    import signal

    _, deployment, _, _ = _deployed(stack, owner, team, tmp_path, name="killed")
    server = owner.get(stack.url(f"/servers/{deployment['serverId']}")).json()
    os.killpg(server["pid"], signal.SIGKILL)
    killed_at = time.monotonic()
    dead = wait_for(lambda: (lambda s: s if s["status"] == "exited" else None)(
        owner.get(stack.url(f"/servers/{server['id']}")).json()), 10, what="the server marked exited")
    assert dead["health"] == "dead"
    assert time.monotonic() - killed_at < 1 + 3  # one check interval (1 s here) plus slack
    # Published right after the state write that the wait above saw.
    wait_for(lambda: any(e["channel"] == f"server:{server['id']}" and e.get("health") == "dead"
                         for e in _events(stack)), 5, what="the dead health event on server:{id}")
    after = owner.get(stack.url(f"/deployments/{deployment['id']}")).json()
    assert after["status"] == "failed" and "died" in after["statusReason"]


def test_a_redelivered_deploy_message_does_nothing_twice(stack, owner, team, tmp_path):
    _, deployment, _, deploy = _deployed(stack, owner, team, tmp_path, name="redelivered")
    sqs = stack.aws("sqs")
    url = sqs.get_queue_url(QueueName="mastra-admin-local-deploys")["QueueUrl"]
    before = handled_messages(stack, "deploy", "deployId", deploy["id"])
    for _ in range(2):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"deployId": deploy["id"]}))
    sqs.send_message(QueueUrl=url, MessageBody="not json")  # poison: fails alone, ends in the DLQ
    wait_for(lambda: handled_messages(stack, "deploy", "deployId", deploy["id"]) >= before + 2, 30,
             what="both redelivered messages handled")
    again = owner.get(stack.url(f"/deploys/{deploy['id']}")).json()
    assert again == deploy
    servers = owner.get(stack.url(f"/deployments/{deployment['id']}/servers")).json()["items"]
    assert [s["id"] for s in servers] == [deployment["serverId"]]
    assert via_path(stack, deployment["slug"], "/").status_code == 200


def test_observability_files_are_shipped_when_closed_and_at_stop(stack, owner, team, tmp_path):
    project, deployment, build, _ = _deployed(stack, owner, team, tmp_path, name="shipping")
    server = owner.get(stack.url(f"/servers/{deployment['serverId']}")).json()
    import psutil

    obs = psutil.Process(server["pid"]).environ()["MASTRA_ADMIN_OBSERVABILITY_DIR"]
    from pathlib import Path

    closed = Path(obs) / "spans" / "closed"
    closed.mkdir(parents=True)
    name = "20261123T120000Z_6f1c2d9e-0000-4000-8000-000000000001.jsonl"
    (closed / name).write_text('{"kind":"span","n":1}\n')
    s3 = stack.aws("s3")
    prefix = f"observability/spans/{team}/{project}/{deployment['id']}/"

    def keys():
        return [o["Key"] for o in s3.list_objects_v2(Bucket="mastra-admin-local-123456789012-artifacts",
                                                      Prefix=prefix).get("Contents", [])]

    wait_for(lambda: keys() == [prefix + name], 10, what="the closed file shipped")
    wait_for(lambda: not (closed / name).exists(), 5, what="the shipped file removed")
    # A file the server could not rotate (killed) is shipped at stop, whole lines only.
    (Path(obs) / "logs").mkdir(exist_ok=True)
    (Path(obs) / "logs" / "current.jsonl").write_text('{"kind":"log","n":1}\n{"kind":"log","n":2}\n{"half')
    r = owner.post(stack.url(f"/deployments/{deployment['id']}/stop"))
    assert wait_deploy(stack, owner, r.json()["id"])["status"] == "succeeded"
    logs_prefix = f"observability/logs/{team}/{project}/{deployment['id']}/"
    objects = s3.list_objects_v2(Bucket="mastra-admin-local-123456789012-artifacts", Prefix=logs_prefix).get("Contents", [])
    assert len(objects) == 1
    body = s3.get_object(Bucket="mastra-admin-local-123456789012-artifacts", Key=objects[0]["Key"])["Body"].read().decode()
    assert body == '{"kind":"log","n":1}\n{"kind":"log","n":2}\n'


def test_deleting_a_deployment_stops_its_server_at_the_next_check(stack, owner, team, tmp_path):
    _, deployment, _, _ = _deployed(stack, owner, team, tmp_path, name="deleted")
    server = owner.get(stack.url(f"/servers/{deployment['serverId']}")).json()
    assert owner.delete(stack.url(f"/deployments/{deployment['id']}")).status_code == 204
    wait_for(lambda: server["pid"] not in server_processes(stack.home), 10, what="the server stopped")
    assert via_path(stack, deployment["slug"], "/").status_code == 404


def test_health_changes_arrive_on_the_server_channel_of_a_websocket_client(stack, owner, team, tmp_path):
    import os
    import signal

    _, deployment, _, _ = _deployed(stack, owner, team, tmp_path, name="watched")
    server = owner.get(stack.url(f"/servers/{deployment['serverId']}")).json()
    channel = f"server:{server['id']}"

    def health_messages(ws, until):
        deadline = time.monotonic() + 30
        seen = []
        while time.monotonic() < deadline:
            message = json.loads(ws.recv(timeout=deadline - time.monotonic()))
            if message.get("type") == "health":
                seen.append(message)
                if until(message):
                    return seen
        raise AssertionError(f"no such health message; saw {seen}")

    with ws_client(stack, stack.owner_key) as ws:
        ws.send(json.dumps({"action": "subscribe", "channel": channel}))
        assert json.loads(ws.recv(timeout=10))["type"] == "subscribed"
        assert health_messages(ws, lambda m: m["health"] == "healthy")[-1]["channel"] == channel
        os.killpg(server["pid"], signal.SIGKILL)
        dead = health_messages(ws, lambda m: m["health"] == "dead")[-1]
    assert dead["channel"] == channel and dead["serverId"] == server["id"]


def test_a_websocket_client_sees_the_deployment_go_running_and_the_servers_log_lines(stack, owner, team, tmp_path):
    src = copy_tiny(tmp_path / "live")
    _, deployment_id = tiny_deployment(stack, owner, team, {"type": "local", "path": str(src)}, name="live")
    with ws_client(stack, stack.owner_key) as ws:
        ws.send(json.dumps({"action": "subscribe", "channel": f"deployment:{deployment_id}"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "subscribed"
        build = wait_build(stack, owner, start_build(stack, owner, deployment_id)["id"])
        deadline = time.monotonic() + 60
        running = None
        while running is None and time.monotonic() < deadline:
            message = json.loads(ws.recv(timeout=deadline - time.monotonic()))
            if message.get("type") == "status" and message.get("status") == "running":
                running = message
        assert running is not None and running["channel"] == f"deployment:{deployment_id}"
        assert running["currentBuildId"] == build["id"] and running["publicUrl"]

        logs_channel = f"server:{running['serverId']}:logs"
        ws.send(json.dumps({"action": "subscribe", "channel": logs_channel}))
        while (ack := json.loads(ws.recv(timeout=10))).get("type") != "subscribed":
            assert ack["channel"] == f"deployment:{deployment_id}"  # the deployment's own news meanwhile
        assert ack["channel"] == logs_channel
        assert via_path(stack, running["publicUrl"].split("//")[1].split(".")[0], "/seen-live").status_code == 200
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            message = json.loads(ws.recv(timeout=deadline - time.monotonic()))
            if message.get("channel") == logs_channel and any("/seen-live" in line for line in message["lines"]):
                break
        else:
            raise AssertionError("the request's log line never arrived on the server's log channel")
