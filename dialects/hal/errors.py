"""Core and transport errors in Spring Boot's error JSON (``{timestamp, status, error,
message, path}``), which a Spring Data REST service such as Pulpo answered with. Pulpo only
documented 401; the statuses are Spring's (see ``docs/dialects/hal.md``)."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus

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
from core.profiles import NotStatic
from core.segment_views import Hidden
from dialects.hal.wire import ENCODER, MEDIA_TYPE, Error
from dialects.http import (
    BodyTooLarge,
    DuplicateHeader,
    MalformedJSON,
    UnsupportedMediaType,
    allow_header,
)

STATIC_ONLY = {
    "added": "Membership POST requests can only be made to a static individual segment",
    "removed": "Membership DELETE requests can only be made to a static individual segment",
}
# Core names -> the names a HAL client sent.
_FIELDS = {
    "sandbox": "projectId",
    "kind": "segmentType",
    "expression": "filter",
    "slug": "identifier",
}
_KINDS = {"segment": "individual segment", "membership": "membership", "individual": "individual"}
_CONFLICTS = {
    "name": "an individual segment with this name already exists in the project",
    "slug": "an individual segment with this identifier already exists",
    "identifier": "an individual with this identifier already exists in the project",
}


def error(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    now = dt.datetime.now(dt.UTC)
    body = Error(
        timestamp=now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        status=status,
        error=HTTPStatus(status).phrase,
        message=message,
        path=request.url.path,
    )
    return Response(
        ENCODER.encode(body), status_code=status, media_type=MEDIA_TYPE, headers=headers
    )


def _not_found(exc: NotFound) -> str:
    if isinstance(exc, Hidden):
        return (
            f"individual segment {exc.key!r} cannot be shown here: its condition is not "
            f"expressible as an OData filter ({exc.reason})"
        )
    if exc.kind == "membership":
        return f"individual {exc.key!r} is not a member of this individual segment"
    if exc.key:
        return f"no {_KINDS.get(exc.kind, exc.kind)} with identifier {exc.key!r}"
    return exc.message


def _invalid(exc: Invalid) -> str:
    field = _FIELDS.get(exc.field, exc.field)
    if field == "filter":
        return f"invalid filter: {exc.reason}"
    return f"{field}: {exc.reason}" if field else exc.reason


def render_core(request: Request, exc: Exception) -> Response:
    if isinstance(exc, Unauthorized):
        return error(
            request,
            401,
            "Full authentication is required to access this resource: "
            "send Authorization: Bearer <token>",
            {"WWW-Authenticate": "Bearer"},
        )
    if isinstance(exc, Forbidden):
        return error(request, 403, exc.message)
    if isinstance(exc, NotStatic):
        return error(request, 400, STATIC_ONLY[exc.action])
    if isinstance(exc, NotFound):
        return error(request, 404, _not_found(exc))
    if isinstance(exc, Invalid):
        return error(request, 400, _invalid(exc))
    if isinstance(exc, InUse):
        return error(request, 409, exc.message)
    if isinstance(exc, Conflict) and exc.field == "kind":
        return error(request, 400, STATIC_ONLY["added"])
    if isinstance(exc, Conflict):
        return error(request, 409, _CONFLICTS.get(exc.field, exc.message))
    if isinstance(exc, NotExpressible):
        return error(request, 400, exc.message)
    if isinstance(exc, DuplicateHeader):
        return error(request, 400, exc.message)
    if isinstance(exc, MalformedJSON):
        return error(request, 400, f"JSON parse error: {exc.message}")
    if isinstance(exc, BodyTooLarge):
        return error(request, 413, exc.message)
    if isinstance(exc, UnsupportedMediaType):
        return error(
            request,
            415,
            f"Content type {exc.content_type or ''!r} not supported; send application/json",
        )
    if isinstance(exc, Unavailable):
        return error(request, 503, exc.message, {"Retry-After": str(exc.retry_after)})
    if isinstance(exc, CoreError):
        return error(request, 400, exc.message)
    return server_error(request, exc)


def render_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        allow = allow_header(exc)
        return error(
            request, 405, f"Request method {request.method!r} not supported", {"Allow": allow}
        )
    if exc.status_code == 404:
        return error(request, 404, f"No resource at {request.url.path}")
    return error(
        request, exc.status_code, str(exc.detail), dict(exc.headers) if exc.headers else None
    )


def server_error(request: Request, exc: Exception) -> Response:
    return error(request, 500, "internal error; see the server log for the request id")


HANDLERS = {HTTPException: render_http, CoreError: render_core}
