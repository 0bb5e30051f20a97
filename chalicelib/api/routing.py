"""Route declaration: every route states its permission, body model and response model.

`route` wraps a handler so that it authenticates, parses and validates, checks that the service
authorized the call against the declared permission, and maps errors in one place. The same
registry feeds the OpenAPI document and the RBAC matrix test.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any, Callable

from pydantic import BaseModel, ValidationError

from chalicelib.api.params import parse_query
from chalicelib.api.responses import error_response, internal_error, json_response
from chalicelib.auth.access import Access, authenticate
from chalicelib.auth.rbac import check_permission_name
from chalicelib.errors import AppError, BadRequest, Invalid, PayloadTooLarge
from chalicelib.models.query import Query
from chalicelib.control_plane_log import logger
from chalicelib.settings import get_settings

MAX_LIMIT = 100
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str
    handler: str
    summary: str
    permission: str | None  # None: any authenticated caller (scoped to themselves)
    public: bool = False
    body: type[BaseModel] | None = None
    response: Any = None
    status: int = 200
    paginated: bool = False
    errors: tuple[int, ...] = ()
    query: type[Query] | None = None  # parses the query parameters besides limit/cursor
    signature: str | None = None  # authenticated by a signature over the body (webhooks), not a token


ROUTES: list[RouteSpec] = []


@dataclass(frozen=True)
class Call:
    """What a handler receives besides its path parameters."""

    access: Access
    body: Any
    limit: int
    cursor: str | None
    query: Any = None  # an instance of the route's query model


def _parse_body(raw: bytes | None, model: type[BaseModel] | None) -> Any:
    if model is None:
        return None
    if raw is not None and len(raw) > get_settings().max_body_bytes:
        raise PayloadTooLarge(f"Bodies are limited to {get_settings().max_body_bytes} bytes")
    if not raw:
        raise BadRequest("A JSON body is required", code="missing_body")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise BadRequest("The body is not valid JSON", code="invalid_json") from e
    except RecursionError as e:  # nested deeper than the interpreter's recursion limit
        raise BadRequest("The body is nested too deeply", code="invalid_json") from e
    try:
        return model.model_validate(data)
    except RecursionError as e:
        raise BadRequest("The body is nested too deeply", code="invalid_json") from e
    except ValidationError as e:
        # `input` is left out on purpose: it may hold a secret the caller sent.
        details = [{"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]} for err in e.errors()]
        raise Invalid("The body does not match the schema", details=details) from e


def _page_params(query: dict[str, str] | None) -> tuple[int, str | None]:
    query = query or {}
    raw_limit = query.get("limit")
    limit = DEFAULT_LIMIT
    if raw_limit is not None:
        if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise BadRequest(f"limit must be an integer from 1 to {MAX_LIMIT}", code="invalid_limit")
        limit = int(raw_limit)
    cursor = query.get("cursor")
    if cursor is not None and (len(cursor) > 2048 or not cursor):
        raise BadRequest("The cursor is malformed", code="invalid_cursor")
    return limit, cursor


def _parse_query(raw: dict[str, str] | None, model: type[Query] | None) -> Query | None:
    if model is None:
        return None
    return parse_query(model, {k: v for k, v in (raw or {}).items() if k not in ("limit", "cursor")})


def route(
    blueprint: Any,
    method: str,
    path: str,
    *,
    permission: str | None,
    public: bool = False,
    body: type[BaseModel] | None = None,
    response: Any = None,
    status: int = 200,
    paginated: bool = False,
    errors: tuple[int, ...] = (),
    query: type[Query] | None = None,
    cached_auth: bool = False,  # an API key verified within a few seconds is not read again (auth.access)
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    if permission is not None:
        check_permission_name(permission)

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        ROUTES.append(RouteSpec(
            method=method, path=path, handler=fn.__name__, summary=(fn.__doc__ or "").strip().split("\n")[0],
            permission=permission, public=public, body=body, response=response, status=status,
            paginated=paginated, errors=errors, query=query,
        ))

        @functools.wraps(fn)
        def handler(**params: str) -> Any:
            request = blueprint.current_request
            try:
                if public:
                    return json_response(status, fn(**params))
                principal = authenticate((request.headers or {}).get("authorization"), get_settings(),
                                         cached=cached_auth)
                access = Access(principal=principal, permission=permission)
                limit, cursor = _page_params(request.query_params) if paginated else (DEFAULT_LIMIT, None)
                call = Call(access=access, body=_parse_body(request.raw_body, body), limit=limit, cursor=cursor,
                            query=_parse_query(request.query_params, query))
                result = fn(call, **params)
                if not access.checked:  # a route that forgot to authorize must fail closed
                    raise AssertionError(f"{fn.__name__} returned without an authorization check")
                return json_response(status, result)
            except AppError as e:
                if e.status >= 500:
                    logger.warning("dependency unavailable", extra={"code": e.code, "route": path})
                return error_response(e)
            except Exception:
                logger.exception("unhandled error", extra={"route": path, "method": method})
                return internal_error()

        blueprint.route(path, methods=[method], content_types=["application/json", "text/plain"])(handler)
        return fn

    return decorate
