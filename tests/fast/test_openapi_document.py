"""The OpenAPI document the app serves: every route, each with its declared permission."""
from __future__ import annotations


def test_openapi_document_describes_every_route_with_its_permission(api):
    doc = api.session().get(api.url("/openapi.json")).json()
    assert doc["openapi"].startswith("3.1")
    ops = [(m.upper(), p) for p, methods in doc["paths"].items() for m in methods]
    for required in [("GET", "/teams"), ("POST", "/teams/{teamId}/members"), ("DELETE", "/api-keys/{keyId}"),
                     ("PUT", "/projects/{projectId}/env/{name}"), ("PATCH", "/deployments/{deploymentId}")]:
        assert required in ops
    for path, methods in doc["paths"].items():
        for op in methods.values():
            assert op["security"] in ([], [{"githubSignature": []}]) or "x-permission" in op \
                or path in ("/teams", "/ws/tickets"), path
