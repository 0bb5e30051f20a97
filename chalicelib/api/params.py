"""Query parameters: parsed by the route's model (chalicelib/models/query.py), and the same model
describes them in the OpenAPI document."""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from chalicelib.errors import BadRequest
from chalicelib.models.query import Query


def parse_query(model: type[Query], raw: dict[str, str]) -> Query:
    try:
        return model.model_validate(raw)
    except ValidationError as e:
        errors = e.errors()
        details = [{"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]} for err in errors]
        name = str(errors[0]["loc"][0]) if errors and errors[0]["loc"] else ""
        if model.field_codes and name:
            raise BadRequest(f"{name}: {errors[0]['msg']}", code=f"invalid_{name}",
                             details=details) from e
        raise BadRequest("Invalid query parameters", code="invalid_query", details=details) from e


def openapi_parameters(model: type[Query]) -> list[dict[str, Any]]:
    """The model's fields as OpenAPI query parameters (optional ones without their null branch)."""
    schema = model.model_json_schema(by_alias=True)
    params = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        branches = [b for b in prop.pop("anyOf", []) if b.get("type") != "null"]
        if len(branches) == 1:
            prop = {**branches[0], **prop}
        param = {"name": name, "in": "query", "required": name in schema.get("required", []), "schema": prop}
        if description:
            param["description"] = description
        if prop.get("default", 0) is None:
            del prop["default"]
        params.append(param)
    return params
