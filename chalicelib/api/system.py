"""Unauthenticated system routes: health and the API description."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.responses import json_response
from chalicelib.api.routing import route
from chalicelib.models import api

bp = Blueprint(__name__)


@route(bp, "GET", "/health", permission=None, public=True, response=api.Health, errors=(503,))
def health():
    """Report each component; 200 only when all are up."""
    from chalicelib.services import health as service

    report = service.check()
    return json_response(200 if report.status == "ok" else 503, report)


@route(bp, "GET", "/openapi.json", permission=None, public=True)
def openapi():
    """This API's OpenAPI 3.1 document."""
    from chalicelib.api.openapi import document

    return json_response(200, document())


@route(bp, "GET", "/docs", permission=None, public=True)
def api_reference():
    """The API reference: this document rendered as one HTML page (no script, nothing from elsewhere)."""
    from chalicelib.api.docs_page import render
    from chalicelib.api.openapi import document

    return Response(body=render(document()), status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})
