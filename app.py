"""The mastra-admin Chalice app: blueprints, middleware and event handlers; nothing else."""
from chalice import Chalice, Rate

from chalicelib.api.app_routes import register
from chalicelib.settings import get_settings
from chalicelib.workers import builds as build_workers
from chalicelib.workers import deploys as deploy_workers

app = Chalice(app_name="mastra-admin")
app.api.cors = False
register(app)
_settings = get_settings()


@app.on_sqs_message(queue=_settings.build_queue_name, batch_size=1)
def build_queue_consumer(event):
    return build_workers.handle_build_messages(event.to_dict(), event.context)


@app.on_sqs_message(queue=_settings.deploy_queue_name, batch_size=1)
def deploy_queue_consumer(event):
    return deploy_workers.handle_deploy_messages(event.to_dict(), event.context)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def build_reaper(event):
    build_workers.run_reaper()


@app.schedule(Rate(1, unit=Rate.MINUTES))
def deploy_reaper(event):
    deploy_workers.run_deploy_reaper()


@app.schedule(Rate(1, unit=Rate.MINUTES))
def server_health_checks(event):
    # EventBridge rates stop at one minute; locally the supervisor checks every MA_HEALTH_INTERVAL.
    deploy_workers.run_health_checks()
