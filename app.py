"""The mastra-admin Chalice app: blueprints, middleware and event handlers; nothing else.

Cold start is a budget (bench/cold_start.py): every function of the stage imports this module, so
each handler imports what it needs inside itself, and the routes are registered at their first use
(`App`, chalicelib/api/app_routes.py).
"""
from chalice import Rate

from chalicelib import channels
from chalicelib.api.app_routes import App, register
from chalicelib.settings import get_settings

app = App(app_name="mastra-admin")
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.api.cors = False
app.on_routes(register)
_settings = get_settings()


def _live_sink(channel, message):
    from chalicelib.services.live import broadcaster

    broadcaster.sink(channel, message)


def _route_sink(channel, message):  # scale (issue 14): route changes reach the router fleet
    from chalicelib.router import invalidation as route_invalidation

    route_invalidation.sink(channel, message)


def _live_sink_many(items):  # what a health shard published, at its end (chalicelib/channels.py `held`)
    from chalicelib.services.live import broadcaster

    broadcaster.sink_many(items)


channels.add_sink(_live_sink, many=_live_sink_many)
channels.add_sink(_route_sink)


@app.on_sqs_message(queue=_settings.build_queue_name, batch_size=1)
def build_queue_consumer(event):
    from chalicelib.workers import builds as build_workers

    return build_workers.handle_build_messages(event.to_dict(), event.context)


@app.on_sqs_message(queue=_settings.deploy_queue_name, batch_size=1)
def deploy_queue_consumer(event):
    from chalicelib.workers import deploys as deploy_workers

    return deploy_workers.handle_deploy_messages(event.to_dict(), event.context)


# --- scale (issue 14): every schedule only fans out shard messages; the shard consumer does the work.
@app.schedule(Rate(1, unit=Rate.MINUTES))
def build_reaper(event):
    from chalicelib.workers import shards

    shards.fan_out("build-reaper")


@app.schedule(Rate(1, unit=Rate.MINUTES))
def deploy_reaper(event):
    from chalicelib.workers import shards

    shards.fan_out("deploy-reaper")


@app.schedule(Rate(1, unit=Rate.MINUTES))
def server_health_checks(event):
    # EventBridge rates stop at one minute; locally the supervisor fans out every MA_HEALTH_INTERVAL.
    from chalicelib.workers import shards

    shards.fan_out("health")


@app.schedule(Rate(1, unit=Rate.MINUTES))
def ecs_reconciler(event):
    # Server items of the ECS runner against the cluster's tasks: stopped tasks, orphan tasks.
    if _settings.deploy_runner == "ecs":
        from chalicelib.workers import shards

        shards.fan_out("ecs-servers")
        shards.fan_out("ecs-orphans")


@app.on_sqs_message(queue=_settings.shard_queue_name, batch_size=1)
def shard_queue_consumer(event):
    from chalicelib.workers import shards

    return shards.handle_shard_messages(event.to_dict(), event.context)
# --- end scale


@app.on_cw_event({
    "source": ["aws.ecs"],
    "detail-type": ["ECS Task State Change"],
    "detail": {"clusterArn": [{"suffix": f":cluster/{_settings.ecs_cluster}"}], "lastStatus": ["STOPPED"]},
}, name="ecs_task_state_change")
def ecs_task_state_change(event):
    from chalicelib.workers import deploys as deploy_workers

    deploy_workers.handle_ecs_task_state_change(event.to_dict())


@app.on_sqs_message(queue=_settings.ingest_queue_name, batch_size=10)
def ingest_queue_consumer(event):
    from chalicelib.workers import ingest  # lazy: only the ingest function needs it

    from chalicelib.services.guard import triggers  # release guard (issue 17): a debounced check of the new data

    result = ingest.handle(event.to_dict(), event.context)
    triggers.after_ingest_event(event.to_dict())
    return result


# --- release guard (issue 17): the guards that are on, judged every minute (sharded like the sweeps above)
@app.schedule(Rate(1, unit=Rate.MINUTES))
def release_guard(event):
    from chalicelib.workers import shards

    shards.fan_out("guard")


@app.on_cw_event({
    "source": ["aws.codebuild"],
    "detail-type": ["CodeBuild Build State Change"],
    "detail": {"project-name": [_settings.codebuild_project],
               "build-status": ["SUCCEEDED", "FAILED", "FAULT", "STOPPED", "TIMED_OUT"]},
}, name="codebuild_completion")
def codebuild_completion(event):
    from chalicelib.runners.codebuild_completion import handle_state_change

    return handle_state_change(event.to_dict())


# --- day one of a stage (make deploy, infra/stage/) ---------------------------------------------
@app.lambda_function(name="migrate")
def migrate(event, context):
    # The ClickHouse schema and price seed: run once per deploy, never at a function's start.
    from chalicelib.analytics.migrate import migrate as apply_schema

    return apply_schema()


@app.on_ws_connect()
def ws_connect(event):
    from chalicelib.services.live import websocket as service

    return service.connect(event.connection_id, event.to_dict().get("queryStringParameters"))


@app.on_ws_message()
def ws_message(event):
    from chalicelib.services.live import websocket as service

    service.message(event.connection_id, event.body)


@app.on_ws_disconnect()
def ws_disconnect(event):
    from chalicelib.services.live import websocket as service

    service.disconnect(event.connection_id)


# --- GitHub App: webhooks in, statuses and comments out (chalicelib/services/github) -------------
@app.on_routes
def _github_routes(target):
    from chalicelib.api import github_webhooks

    target.register_blueprint(github_webhooks.bp)


def _github_sink(channel, message):
    if channel.startswith("project:"):  # cheap filter first: the sink module loads on first use
        from chalicelib.services.github import reporting

        reporting.sink(channel, message)


channels.add_sink(_github_sink)


@app.on_sqs_message(queue=_settings.github_webhook_queue_name, batch_size=1)
def github_webhook_consumer(event):
    from chalicelib.workers import github as github_workers

    return github_workers.handle_webhook_messages(event.to_dict(), event.context)


@app.on_sqs_message(queue=_settings.github_writes_queue_name, batch_size=1)
def github_writes_consumer(event):
    from chalicelib.workers import github as github_workers

    return github_workers.handle_write_messages(event.to_dict(), event.context)
