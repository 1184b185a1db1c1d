"""Errors of segmux's own API: ``{"error": <code>, "reason": <text>, …}`` with plain statuses."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from core.errors import (
    Conflict,
    CoreError,
    Forbidden,
    InUse,
    Invalid,
    NotExpressible,
    NotFound,
    Unauthorized,
    Unavailable,
)
from dialects.http import TransportError, UnsupportedMediaType, allow_header
from dialects.segmux.wire import ENCODER, Error


def error(
    status: int, code: str, reason: str, headers: dict[str, str] | None = None, **extra: object
) -> Response:
    body = ENCODER.encode(Error(error=code, reason=reason, **extra))  # type: ignore[arg-type]
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def render_core(request: Request, exc: Exception) -> Response:
    if isinstance(exc, Unauthorized):
        return error(
            401, "unauthorized", "a valid token is required", {"WWW-Authenticate": "Bearer"}
        )
    if isinstance(exc, Forbidden):
        return error(403, "forbidden", exc.message)
    if isinstance(exc, NotFound):
        return error(404, "not_found", exc.message)
    if isinstance(exc, NotExpressible):
        return error(422, "not_expressible", exc.reason, language=exc.language)
    if isinstance(exc, Invalid):
        return error(400, "invalid", exc.reason, field=exc.field or None, position=exc.position)
    if isinstance(exc, InUse):
        return error(409, "in_use", exc.message)
    if isinstance(exc, Conflict) and exc.field == "version":
        # Only an If-Match that names an older version makes the store refuse on "version".
        return error(
            412,
            "precondition_failed",
            f"{exc.message}; read it again (its ETag) and retry",
            field="If-Match",
        )
    if isinstance(exc, Conflict):
        return error(409, "conflict", exc.message, field=exc.field)
    if isinstance(exc, UnsupportedMediaType):
        return error(415, "unsupported_media_type", "send application/json")
    if isinstance(exc, TransportError):
        return error(exc.status, "bad_request", exc.message)
    if isinstance(exc, Unavailable):
        return error(503, "unavailable", exc.message, {"Retry-After": str(exc.retry_after)})
    if isinstance(exc, CoreError):
        return error(400, "invalid", exc.message)
    return server_error(request, exc)


def render_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        allow = allow_header(exc)
        return error(405, "method_not_allowed", f"use {allow}", {"Allow": allow})
    return error(
        exc.status_code, "not_found" if exc.status_code == 404 else "error", str(exc.detail)
    )


def server_error(request: Request, exc: Exception) -> Response:
    return error(500, "internal", "internal error; see the server log for the request id")


HANDLERS = {HTTPException: render_http, CoreError: render_core}
