"""`POST /webhooks/github`: GitHub App deliveries, authenticated by their signature, not a token."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.responses import error_response, internal_error, json_response
from chalicelib.api.routing import ROUTES, RouteSpec
from chalicelib.control_plane_log import logger
from chalicelib.errors import AppError, PayloadTooLarge

bp = Blueprint(__name__)
PATH = "/webhooks/github"
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's own limit; GitHub caps deliveries at 25 MB

ROUTES.append(RouteSpec(
    method="POST", path=PATH, handler="github_webhook", public=True, permission=None, status=202,
    summary="Receive a GitHub App webhook delivery (verified by X-Hub-Signature-256)",
    signature="githubSignature", errors=(401, 413, 415, 422),
))


@bp.route(PATH, methods=["POST"], content_types=["application/json", "application/x-www-form-urlencoded"])
def github_webhook():
    from chalicelib.services.github import webhooks  # lazy: only this route needs it

    request = bp.current_request
    try:
        raw = request.raw_body or b""
        if len(raw) > MAX_BODY_BYTES:
            raise PayloadTooLarge("The delivery is too large")
        answer = webhooks.receive(request.headers or {}, raw)
        return json_response(answer.status, answer.body)
    except AppError as e:
        if e.status >= 500:
            logger.warning("webhook not accepted", extra={"code": e.code})
        return error_response(e)
    except Exception:
        logger.exception("unhandled error", extra={"route": PATH})
        return internal_error()
