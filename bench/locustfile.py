"""Locust users of the local stack's API and WebSocket (run by `make load`, bench/load.py).

Each user, on start: its team (GET /teams), a project of its own (a local source) and a preview
deployment. Then, weighted: the main reads (projects, a project, deployments, a deployment, its
deploys), the main writes (a deployment's env overrides; a preview deployment created and deleted),
and the live path: a ticket, connect, subscribe to the deployment's channel, ask for a stop and
receive the deploy's message on the channel. WebSocket steps are reported as `WS connect`,
`WS subscribe` and `WS receive`.

Environment: MA_LOAD_KEY (an owner API key), MA_LOAD_SOURCE (a directory for local sources).
Only loopback addresses: the host is the local stack's API.
"""
from __future__ import annotations

import json
import os
import time
import uuid

from locust import HttpUser, between, task

RECEIVE_TIMEOUT = 15.0


class ControlPlaneUser(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {os.environ['MA_LOAD_KEY']}"
        self.team = self.client.get("/teams", name="GET /teams").json()["items"][0]["id"]
        tag = uuid.uuid4().hex[:10]
        self.project = self.client.post(f"/teams/{self.team}/projects", name="POST /teams/{id}/projects", json={
            "name": f"load-{tag}", "source": {"type": "local", "path": os.environ["MA_LOAD_SOURCE"]}}).json()["id"]
        self.deployment = self._new_deployment()

    def _new_deployment(self) -> str:
        return self.client.post(f"/projects/{self.project}/deployments", name="POST /projects/{id}/deployments",
                                json={"type": "preview", "branch": f"b-{uuid.uuid4().hex[:12]}"}).json()["id"]

    @task(5)
    def list_projects(self) -> None:
        self.client.get(f"/teams/{self.team}/projects", name="GET /teams/{id}/projects")

    @task(5)
    def get_project(self) -> None:
        self.client.get(f"/projects/{self.project}", name="GET /projects/{id}")

    @task(5)
    def get_deployment(self) -> None:
        self.client.get(f"/deployments/{self.deployment}", name="GET /deployments/{id}")

    @task(3)
    def list_deployments(self) -> None:
        self.client.get(f"/projects/{self.project}/deployments", name="GET /projects/{id}/deployments")

    @task(2)
    def list_deploys(self) -> None:
        self.client.get(f"/deployments/{self.deployment}/deploys", name="GET /deployments/{id}/deploys")

    @task(3)
    def set_override(self) -> None:
        # The deployment is versioned: a stop the worker carries out meanwhile moves its version, and
        # the API answers 409 version_conflict, as it must. A client reads again and retries, once.
        body = {"envOverrides": {"LOAD_ROUND": str(int(time.time()))}}
        with self.client.patch(f"/deployments/{self.deployment}", name="PATCH /deployments/{id}", json=body,
                               catch_response=True) as first:
            if first.status_code == 409 and first.json()["error"]["code"] == "version_conflict":
                first.success()
                self.client.patch(f"/deployments/{self.deployment}", name="PATCH /deployments/{id} (retry)",
                                  json=body)

    @task(1)
    def create_and_delete_preview(self) -> None:
        preview = self._new_deployment()
        self.client.delete(f"/deployments/{preview}", name="DELETE /deployments/{id}")

    @task(1)
    def live(self) -> None:
        from websockets.sync.client import connect

        url = self.client.post("/ws/tickets", name="POST /ws/tickets", json={}).json()["url"]
        channel = f"deployment:{self.deployment}"
        with self._timed("WS connect"):
            socket = connect(url, open_timeout=10).__enter__()
        with socket:
            with self._timed("WS subscribe"):
                socket.send(json.dumps({"action": "subscribe", "channel": channel}))
                self._until(socket, lambda m: m.get("type") == "subscribed" and m.get("channel") == channel)
            with self._timed("WS receive (stop requested -> its deploy on the channel)"):
                self.client.post(f"/deployments/{self.deployment}/stop", name="POST /deployments/{id}/stop",
                                 json={})
                self._until(socket, lambda m: m.get("channel") == channel and m.get("type") == "deploy")

    @staticmethod
    def _until(socket, wanted) -> dict:
        deadline = time.monotonic() + RECEIVE_TIMEOUT
        while True:
            message = json.loads(socket.recv(timeout=max(0.01, deadline - time.monotonic())))
            if message.get("type") == "error":
                raise RuntimeError(f"{message.get('code')}: {message.get('message')}")
            if wanted(message):
                return message

    def _timed(self, name: str):
        user = self

        class Timed:
            def __enter__(self):
                self.started = time.perf_counter()

            def __exit__(self, kind, exc, tb):
                user.environment.events.request.fire(
                    request_type="WS", name=name, response_time=(time.perf_counter() - self.started) * 1000,
                    response_length=0, exception=exc, context={})
                return False  # reported as a failure above, and the task stops here

        return Timed()
