"""The mastra-admin Chalice app: blueprints, middleware and event handlers; nothing else."""
from chalice import Chalice

from chalicelib.api.app_routes import register

app = Chalice(app_name="mastra-admin")
app.api.cors = False
register(app)
