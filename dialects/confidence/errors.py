"""Core and transport errors as ``google.rpc.Status`` JSON, with the canonical gRPC → HTTP
mapping (``docs/dialects/confidence.md``). Spotify's tooling reads ``message`` and keys on
"400 + code 9", so state refusals say what was refused and why."""

from __future__ import annotations

from typing import Any

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
from core.segment_views import Hidden
from dialects.confidence.wire import ENCODER, Status
from dialects.http import TransportError

INVALID_ARGUMENT = 3
NOT_FOUND = 5
ALREADY_EXISTS = 6
PERMISSION_DENIED = 7
FAILED_PRECONDITION = 9
ABORTED = 10
INTERNAL = 13
UNAVAILABLE = 14
UNAUTHENTICATED = 16
HTTP_STATUS = {
    INVALID_ARGUMENT: 400,
    NOT_FOUND: 404,
    ALREADY_EXISTS: 409,
    PERMISSION_DENIED: 403,
    FAILED_PRECONDITION: 400,
    ABORTED: 409,
    INTERNAL: 500,
    UNAVAILABLE: 503,
    UNAUTHENTICATED: 401,
}
_IDENTITY_FIELDS = frozenset({"name", "slug", "id", "seq", "client_id", "token"})
_FLAGS_CONFLICT = "confidence_"
"""Conflict fields of the flags admin API's unique names (``core.store.confidence_flags``)."""
_NAMED_KINDS = frozenset({"flag", "variant", "rule", "client", "credential"})
"""NotFound kinds whose key is already a resource name (``flags/f``): said without quotes."""
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
PRECONDITION = "type.googleapis.com/google.rpc.PreconditionFailure"
RESOURCE_INFO = "type.googleapis.com/google.rpc.ResourceInfo"


def status(
    code: int,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = ENCODER.encode(Status(code=code, message=message, details=details or []))
    return Response(
        body, status_code=HTTP_STATUS[code], media_type="application/json", headers=headers
    )


def _violation(field: str, description: str) -> list[dict[str, Any]]:
    return [
        {"@type": BAD_REQUEST, "fieldViolations": [{"field": field, "description": description}]}
    ]


def _precondition(kind: str, subject: str, description: str) -> list[dict[str, Any]]:
    return [
        {
            "@type": PRECONDITION,
            "violations": [{"type": kind, "subject": subject, "description": description}],
        }
    ]


def render_core(request: Request, exc: Exception) -> Response:
    if isinstance(exc, Unauthorized):
        return status(
            UNAUTHENTICATED,
            "Request had invalid authentication credentials. Expected an OAuth 2 access token.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if isinstance(exc, Forbidden):
        return status(PERMISSION_DENIED, f"Permission denied: {exc.message}")
    if isinstance(exc, Hidden):
        # [project] like every dialect: a segment whose condition cannot be said here is absent
        # from lists and its detail is NOT_FOUND with the reason (ARCHITECTURE.md).
        message = (
            f"segment segments/{exc.key} cannot be shown in Confidence: its condition "
            f"is not expressible as targeting ({exc.reason})"
        )
        return status(
            NOT_FOUND,
            message,
            [
                {
                    "@type": RESOURCE_INFO,
                    "resourceType": "segment",
                    "resourceName": f"segments/{exc.key}",
                    "description": exc.reason,
                }
            ],
        )
    if isinstance(exc, NotFound):
        if exc.kind == "segment":
            return status(NOT_FOUND, f"segment segments/{exc.key} not found")
        if exc.kind in _NAMED_KINDS and exc.message == f"{exc.kind} {exc.key!r} not found":
            return status(NOT_FOUND, f"{exc.kind} {exc.key} not found")
        return status(NOT_FOUND, exc.message)
    if isinstance(exc, NotExpressible):
        return status(
            INVALID_ARGUMENT,
            f"not expressible as Confidence targeting: {exc.reason}",
            _violation("targeting", exc.reason),
        )
    if isinstance(exc, Invalid):
        return status(INVALID_ARGUMENT, exc.message, _violation(exc.field, exc.reason))
    if isinstance(exc, InUse):
        return status(
            FAILED_PRECONDITION,
            exc.message,
            _precondition("IN_USE", "flag rules", ", ".join(exc.users)),
        )
    if isinstance(exc, Conflict) and exc.field.startswith(_FLAGS_CONFLICT):
        # A name taken among flags, variants, rules, clients or credentials.
        return status(ALREADY_EXISTS, exc.message, _violation("name", exc.message))
    if isinstance(exc, Conflict) and exc.field in _IDENTITY_FIELDS:
        field = "display_name" if exc.field == "name" else "segment_id"
        message = (
            "a segment with this display name already exists"
            if exc.field == "name"
            else "a segment with this id already exists"
        )
        return status(ALREADY_EXISTS, message, _violation(field, message))
    if isinstance(exc, Conflict) and exc.field == "version":
        return status(ABORTED, exc.message)
    if isinstance(exc, Conflict):
        details = (
            _violation(exc.field, exc.message)
            if "." in exc.field
            else _precondition("STATE", "state", exc.message)
        )
        return status(FAILED_PRECONDITION, exc.message, details)
    if isinstance(exc, TransportError):
        return status(INVALID_ARGUMENT, exc.message)
    if isinstance(exc, Unavailable):
        return status(
            UNAVAILABLE,
            "The service is currently unavailable.",
            headers={"Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, CoreError):
        return status(INVALID_ARGUMENT, exc.message)
    return server_error(request, exc)


def render_http(request: Request, exc: Exception) -> Response:
    """Routing errors: every unknown path or method is NOT_FOUND (Google's front end has no
    405); a DELETE says how segments end."""
    assert isinstance(exc, HTTPException)
    if request.method == "DELETE" and "/segments/" in request.url.path:
        return deletion_refused()
    if exc.status_code in (404, 405):
        return status(NOT_FOUND, f"Method not found: {request.method} {request.url.path}")
    return status(INVALID_ARGUMENT, str(exc.detail))


def deletion_refused() -> Response:
    return status(
        NOT_FOUND, "segments cannot be deleted; archive one with POST /v1/segments/{id}:archive"
    )


def server_error(request: Request, exc: Exception) -> Response:
    return status(INTERNAL, "Internal error encountered.")


HANDLERS = {HTTPException: render_http, CoreError: render_core}
