"""The mastra-admin Chalice app: blueprints, middleware and event handlers; nothing else."""
from chalice import Chalice, Rate

from chalicelib.api.app_routes import register
from chalicelib.settings import get_settings
from chalicelib.workers import builds as build_workers

app = Chalice(app_name="mastra-admin")
app.api.cors = False
register(app)
_settings = get_settings()


@app.on_sqs_message(queue=_settings.build_queue_name, batch_size=1)
def build_queue_consumer(event):
    return build_workers.handle_build_messages(event.to_dict(), event.context)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def build_reaper(event):
    build_workers.run_reaper()


@app.on_sqs_message(queue=_settings.ingest_queue_name, batch_size=10)
def ingest_queue_consumer(event):
    from chalicelib.workers import ingest  # lazy: only the ingest function needs it

    return ingest.handle(event.to_dict(), event.context)
