"""Core and transport errors as Adobe answers them (``docs/dialects/adobe.md``).

Two families: the Platform gateway's ``{"error_code", "message"}`` (credentials, headers,
content type) and the Segmentation service's UPS format
``{"requestId", "errors": {"<status>": [{code, message}]}, "type", "title", "status"}``.
Every body is JSON: aepp returns ``res.json()`` of any error.
"""

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
from core.tokens import Refused
from dialects.adobe.translate import not_expressible_message
from dialects.adobe.wire import ENCODER
from dialects.http import (
    BodyTooLarge,
    DuplicateHeader,
    MalformedJSON,
    UnsupportedMediaType,
    allow_header,
)

JSON = "application/json"
_TYPES = "https://ns.adobe.com/aep/errors/"
# Documented type codes; the others follow the validation code's family [project].
_TYPE_CODES = {
    400: "UPAPI-113434-400",
    403: "UPAPI-113752-403",
    404: "UPAPI-113430-404",
}
MALFORMED_JSON = (
    "There is a problem extracting the user JSON, field(s) missing or invalid. "
    "Correct and try again."
)
_GATEWAY = {
    "token_missing": (401, "403010", "Oauth token is missing."),
    "token_invalid": (401, "401013", "Oauth token is not valid"),
    "api_key_missing": (403, "403000", "Api Key is required"),
    "api_key_invalid": (403, "403003", "Api Key is invalid"),
    "org_missing": (400, "400003", "Missing header"),
    "org_invalid": (403, "403025", "Profile is not valid"),
}


def _json(body: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(ENCODER.encode(body), status_code=status, media_type=JSON, headers=headers)


def gateway_error(status: int, code: str, message: str) -> Response:
    return _json({"error_code": code, "message": message}, status)


def content_type_error() -> Response:
    return _json(
        {
            "type": "/placeholder/type/uri",
            "status": 400,
            "title": "BadRequestError",
            "detail": "A valid content-type must be specified",
        },
        400,
    )


def service_error(
    request: Request,
    status: int,
    message: str,
    *,
    type_code: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = {
        "requestId": _request_id(request),
        "errors": {str(status): [{"code": status, "message": message}]},
        "type": _TYPES + (type_code or _TYPE_CODES.get(status, f"UPAPI-113434-{status}")),
        "title": message,
        "status": status,
    }
    return _json(body, status, headers)


def _request_id(request: Request) -> str:
    state = request.scope.get("state") or {}
    return str(state.get("request_id", ""))


def invalid_message(exc: Invalid) -> str:
    if exc.field == "expression":  # the PQL parsers' errors
        return f"Invalid PQL expression: {exc.reason}"
    if exc.field:
        return f"Invalid segment definition: {exc.field}: {exc.reason}"
    return f"Invalid segment definition: {exc.reason}"


def render_core(request: Request, exc: Exception) -> Response:
    if isinstance(exc, Refused):
        return gateway_error(*_GATEWAY[exc.check])
    if isinstance(exc, UnsupportedMediaType):
        return content_type_error()
    if isinstance(exc, Unauthorized):
        return gateway_error(401, "401013", "Oauth token is not valid")
    if isinstance(exc, DuplicateHeader):
        return service_error(request, 400, exc.message)
    if isinstance(exc, MalformedJSON):
        return service_error(request, 400, MALFORMED_JSON, type_code="UPLIB-101206-500")
    if isinstance(exc, BodyTooLarge):
        return service_error(request, 413, "The request body is too large.")
    if isinstance(exc, Forbidden):
        return service_error(
            request,
            403,
            "The caller is not authorized to change segment "
            "definitions (this token can only read).",
        )
    if isinstance(exc, NotFound):
        return service_error(
            request,
            404,
            f"Segment definition with id {exc.key!r} was not found."
            if exc.kind == "segment"
            else exc.message,
        )
    if isinstance(exc, NotExpressible):
        return service_error(request, 422, not_expressible_message(exc))
    if isinstance(exc, InUse):
        return service_error(
            request, 409, f"The segment definition is in use and cannot be deleted: {exc.message}."
        )
    if isinstance(exc, Conflict) and exc.field == "name":
        return service_error(
            request,
            422,
            "A segment definition with this name already "
            "exists in the sandbox. In order to update a segment definition, "
            "use the PATCH operation instead.",
        )
    if isinstance(exc, Conflict):
        return service_error(request, 409, exc.message)
    if isinstance(exc, Invalid):
        return service_error(request, 400, invalid_message(exc))
    if isinstance(exc, Unavailable):
        return service_error(
            request,
            503,
            "The service is unavailable; retry later.",
            headers={"Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, CoreError):
        return service_error(request, 400, exc.message)
    return server_error(request, exc)


def render_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        allow = allow_header(exc)
        return service_error(
            request,
            405,
            f"Method {request.method} is not allowed here; use {allow}.",
            headers={"Allow": allow},
        )
    if exc.status_code == 404:
        return service_error(request, 404, f"No such resource: {request.url.path}")
    return service_error(request, exc.status_code, str(exc.detail))


def server_error(request: Request, exc: Exception) -> Response:
    return service_error(request, 500, "Internal error; see the server log for the request id.")


HANDLERS = {HTTPException: render_http, CoreError: render_core}
