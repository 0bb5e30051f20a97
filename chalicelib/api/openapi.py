"""The OpenAPI 3.1 document, generated from the route registry and the same pydantic models."""
from __future__ import annotations

import functools
import re
from typing import Any

from pydantic.json_schema import models_json_schema

from chalicelib.api.params import openapi_parameters
from chalicelib.api.routing import ROUTES, RouteSpec
from chalicelib.ids import USER_ID_PATTERN, id_pattern
from chalicelib.models import api

ERROR_TEXT = {
    400: "Malformed request (bad JSON, id, cursor or parameter)",
    401: "Missing or invalid credentials (or webhook signature)",
    403: "Your role lacks the permission",
    404: "No such resource, or not yours to see",
    409: "Conflicts with the current state",
    413: "Body too large",
    415: "The body is not sent as application/json",
    422: "The body does not match the schema",
    503: "A dependency is unavailable; retry",
}
PATH_PARAMS = {
    "teamId": {"type": "string", "pattern": id_pattern("team")},
    "projectId": {"type": "string", "pattern": id_pattern("project")},
    "deploymentId": {"type": "string", "pattern": id_pattern("deployment")},
    "buildId": {"type": "string", "pattern": id_pattern("build")},
    "keyId": {"type": "string", "pattern": id_pattern("apikey")},
    "deployId": {"type": "string", "pattern": id_pattern("deploy")},
    "serverId": {"type": "string", "pattern": id_pattern("server")},
    "userId": {"type": "string", "pattern": USER_ID_PATTERN},
    "name": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"},
    "traceId": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"},
}
SIGNATURE_SCHEMES = {
    "githubSignature": {"type": "apiKey", "in": "header", "name": "X-Hub-Signature-256",
                        "description": "sha256=HMAC-SHA256 of the raw body with the GitHub App's webhook secret"},
}
PAGE_PARAMS = [
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}},
    {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 2048},
     "description": "The nextCursor of the previous page"},
]


# Operations grouped by resource, so generated clients and rendered docs group them. The first rule
# whose pattern matches the path wins; a route that matches none gets no tag (a test catches it).
TAGS = {
    "teams": "Teams, members and API keys",
    "projects": "Projects, their environment variables and source tokens",
    "deployments": "Deployments and the deploys that change what serves them",
    "builds": "Builds and their logs",
    "servers": "Running servers, their health and logs",
    "observability": "Traces, logs, metrics, scores and usage",
    "system": "Health, this document, WebSocket tickets",
}
TAG_RULES = [
    (r"^/projects/{projectId}/(traces|logs|metrics|scores)\b|^/teams/{teamId}/usage$", "observability"),
    (r"/builds\b", "builds"),
    (r"/servers\b", "servers"),
    (r"/deploy", "deployments"),
    (r"/projects\b", "projects"),
    (r"^/(teams|api-keys)\b", "teams"),
    (r"^/(health|openapi\.json|docs|ws/|webhooks/)", "system"),
]


def tag_of(path: str) -> str | None:
    return next((tag for pattern, tag in TAG_RULES if re.search(pattern, path)), None)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _operation(spec: RouteSpec, refs: dict[tuple[Any, str], dict]) -> dict[str, Any]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": PATH_PARAMS[name]}
        for name in re.findall(r"{(\w+)}", spec.path)
    ]
    if spec.paginated:
        params += PAGE_PARAMS
    if spec.query is not None:
        params += openapi_parameters(spec.query)
    responses: dict[str, Any] = {}
    if spec.response is not None:
        responses[str(spec.status)] = {
            "description": "OK", "content": {"application/json": {"schema": refs[(spec.response, "serialization")]}},
        }
    else:
        responses[str(spec.status)] = {"description": "Done"}
    codes = {400, 503} | ({401, 403, 404, 409} if not spec.public else set()) | set(spec.errors)
    if spec.body is not None:
        codes |= {413, 415, 422}
    for code in sorted(codes):
        responses[str(code)] = {"description": ERROR_TEXT[code], "content": {"application/json": {"schema": _ref("Error")}}}
    op: dict[str, Any] = {
        "operationId": spec.handler,
        "summary": spec.summary,
        "tags": [tag] if (tag := tag_of(spec.path)) else [],
        "parameters": params,
        "responses": responses,
        "security": [{spec.signature: []}] if spec.signature else [] if spec.public else [{"bearer": []}],
    }
    if spec.signature:  # a webhook also answers 200: a ping, or a delivery it already received
        responses["200"] = {"description": "A ping, or a delivery already received (`duplicate`)"}
    if spec.permission:
        op["x-permission"] = spec.permission
    if spec.body is not None:
        op["requestBody"] = {
            "required": True, "content": {"application/json": {"schema": refs[(spec.body, "validation")]}},
        }
    return op


# What a create operation's answer identifies, as OpenAPI link expressions: clients (and stateful
# testers) follow them from the created resource to the operations on it.
CREATES = {
    "create_team": {"teamId": "$response.body#/id"},
    "add_member": {"userId": "$response.body#/userId"},
    "create_api_key": {"keyId": "$response.body#/id"},
    "create_project": {"projectId": "$response.body#/id"},
    "create_deployment": {"deploymentId": "$response.body#/id"},
    "create_build": {"buildId": "$response.body#/id"},
}


def _links(spec: RouteSpec) -> dict[str, Any]:
    """Links from a create operation to every operation whose path it fills (its own path parameters
    from the request, the new one from the response)."""
    made = CREATES.get(spec.handler, {})
    known = {name: f"$request.path.{name}" for name in re.findall(r"{(\w+)}", spec.path)} | made
    links = {}
    for target in ROUTES:
        needed = re.findall(r"{(\w+)}", target.path)
        if target is spec or not set(made) & set(needed) or not set(needed) <= set(known):
            continue
        links[target.handler] = {"operationId": target.handler, "parameters": {n: known[n] for n in needed}}
    return links


@functools.lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    models = {(s.body, "validation") for s in ROUTES if s.body} | {
        (s.response, "serialization") for s in ROUTES if s.response
    }
    models.add((api.Error, "serialization"))
    refs, schema = models_json_schema(sorted(models, key=lambda m: (m[0].__name__, m[1])),
                                      ref_template="#/components/schemas/{model}")
    paths: dict[str, dict[str, Any]] = {}
    for spec in ROUTES:
        op = paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, refs)
        if links := _links(spec):
            op["responses"][str(spec.status)]["links"] = links
    return {
        "openapi": "3.1.0",
        "info": {"title": "mastra-admin", "version": "0.1.0",
                 "description": "Control plane for fleets of Mastra agent servers."},
        "tags": [{"name": name, "description": text} for name, text in TAGS.items()],
        "paths": paths,
        "components": {
            "schemas": schema.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "An API key (ma_…) or a JWT"},
                                **SIGNATURE_SCHEMES},
        },
    }
