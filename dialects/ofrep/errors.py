"""Errors in OFREP's shapes: 401 and 403 with no body (the spec gives them none); a request the
server cannot read is a 400 ``PARSE_ERROR``, any other refusal a 400 ``GENERAL`` — with the
flag's ``key`` on the single evaluation, without it on the bulk one; routing errors and the
server's own failures as ``generalErrorResponse`` (``{"errorDetails": …}``)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from core.errors import CoreError, Forbidden, Unauthorized, Unavailable
from core.ofrep import RequestError
from dialects.http import BodyTooLarge, MalformedJSON, allow_header
from dialects.ofrep import wire


def empty(status: int) -> Response:
    return Response(status_code=status)


def general(status: int, details: str, headers: dict[str, str] | None = None) -> Response:
    body = wire.ENCODER.encode(wire.GeneralError(errorDetails=details))
    return Response(body, status_code=status, media_type=wire.JSON, headers=headers)


def failure(request: Request, status: int, code: str, details: str) -> Response:
    """A refusal of the request: ``evaluationFailure`` when a flag was named, else
    ``bulkEvaluationFailure``."""
    key = request.path_params.get("key")
    body: wire.Failure | wire.BulkFailure
    if isinstance(key, str):
        body = wire.Failure(key=key, errorCode=code, errorDetails=details)
    else:
        body = wire.BulkFailure(errorCode=code, errorDetails=details)
    return Response(wire.ENCODER.encode(body), status_code=status, media_type=wire.JSON)


def render_core(request: Request, exc: Exception) -> Response:
    if isinstance(exc, Unauthorized):
        return empty(401)
    if isinstance(exc, Forbidden):
        return empty(403)
    if isinstance(exc, RequestError):
        return failure(request, 400, exc.code, exc.details)
    if isinstance(exc, MalformedJSON):
        return failure(request, 400, "PARSE_ERROR", exc.message)
    if isinstance(exc, BodyTooLarge):
        return failure(request, 413, "PARSE_ERROR", exc.message)
    if isinstance(exc, Unavailable):
        return general(503, exc.message, {"Retry-After": str(exc.retry_after)})
    if isinstance(exc, CoreError):
        return failure(request, 400, "GENERAL", exc.message)
    return server_error(request, exc)


def render_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return general(405, f"{request.method} is not allowed here", {"Allow": allow_header(exc)})
    if exc.status_code == 404:
        return general(404, f"no OFREP endpoint at {request.url.path}")
    return general(exc.status_code, str(exc.detail))


def server_error(request: Request, exc: Exception) -> Response:
    return general(500, "internal error; see the server log for the request id")


HANDLERS = {HTTPException: render_http, CoreError: render_core}
