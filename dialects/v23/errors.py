"""Core and transport errors rendered as the v2.3 API answers them (Laravel shapes in the
``{success: false}`` envelope; see ``docs/dialects/v23.md``)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from core.errors import (
    Conflict,
    CoreError,
    Forbidden,
    Invalid,
    NotFound,
    Unauthorized,
    Unavailable,
)
from dialects.http import (
    BodyTooLarge,
    DuplicateHeader,
    MalformedJSON,
    UnsupportedMediaType,
    allow_header,
)
from dialects.v23 import translate
from dialects.v23.wire import ENCODER, Failure

JSON = "application/json"


def failure(
    status: int,
    message: str,
    headers: Mapping[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> Response:
    failed = Failure(message=message) if errors is None else Failure(message=message, errors=errors)
    body = ENCODER.encode(failed)
    return Response(body, status_code=status, media_type=JSON, headers=headers)


def validation(errors: dict[str, list[str]]) -> Response:
    first = next(iter(errors.values()))[0]
    return failure(422, first, errors=errors)


def render_core(request: Request, exc: Exception) -> Response:
    if isinstance(exc, translate.ValidationFailed):
        return validation(exc.errors)
    if isinstance(exc, Unauthorized):
        return failure(401, "Unauthenticated.")
    if isinstance(exc, Forbidden):
        return failure(403, "This action is unauthorized.")
    if isinstance(exc, NotFound):
        return failure(404, "Segment not found.")
    if isinstance(exc, Conflict) and exc.field == "name":
        return validation({"name": ["The name has already been taken."]})
    if isinstance(exc, Conflict):
        return failure(409, exc.message)
    if isinstance(exc, Invalid):
        return validation({exc.field or "request": [f"The {exc.field} field {exc.reason}."]})
    if isinstance(exc, DuplicateHeader):
        return failure(400, exc.message)
    if isinstance(exc, MalformedJSON):
        return failure(400, "Malformed JSON body.")
    if isinstance(exc, BodyTooLarge):
        return failure(413, "The request body is too large.")
    if isinstance(exc, UnsupportedMediaType):
        return failure(415, "The request body must be application/json.")
    if isinstance(exc, Unavailable):
        return failure(503, "Service Unavailable.", {"Retry-After": str(exc.retry_after)})
    if isinstance(exc, CoreError):
        return failure(400, exc.message)
    return server_error(request, exc)


def render_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        allow = allow_header(exc)
        route = request.url.path.lstrip("/")
        message = (
            f"The {request.method} method is not supported for route {route}. "
            f"Supported methods: {allow}."
        )
        return failure(405, message, {"Allow": allow})
    if exc.status_code == 404:
        return failure(404, "Not Found.")
    return failure(exc.status_code, exc.detail or "Error.", exc.headers)


def server_error(request: Request, exc: Exception) -> Response:
    return failure(500, "Server Error.")


HANDLERS = {
    HTTPException: render_http,
    CoreError: render_core,
    translate.ValidationFailed: render_core,
}
