"""Core, schema and transport errors rendered as Unleash 8.2 answers them
(docs/dialects/unleash.md):
``{id?, name, message, details}`` bodies, ``{message}`` for the transport layer and tokens."""

from __future__ import annotations

import msgspec
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from core.constraints import ResourceLimit, SchemaInvalid
from core.errors import (
    Conflict,
    CoreError,
    Forbidden,
    InUse,
    Invalid,
    NotFound,
    Unauthorized,
    Unavailable,
)
from dialects.http import BodyTooLarge, DuplicateHeader, MalformedJSON, UnsupportedMediaType
from dialects.unleash.schema import SchemaError
from dialects.unleash.wire import (
    JSON,
    VALIDATION_MESSAGE,
    WITH_MESSAGE,
    ApiError,
    AuthRequired,
    Detail,
    Message,
    encode,
    new_id,
)

WRONG_TOKEN_KIND = "invalid token: expected a different token type for this endpoint"
CLIENT_TOKEN_REQUIRED = (
    "This endpoint requires an API token. Please add an authorization header to your request "
    "with a valid token"
)
LOGIN_REQUIRED = (
    "You must log in to use Unleash. Your request had no authorization header, so we could not "
    "authorize you. Try logging in at /auth/simple/login"
)


def respond(status: int, body: object, headers: dict[str, str] | None = None) -> Response:
    return Response(encode(body), status_code=status, media_type=JSON, headers=headers)


def api_error(
    status: int,
    name: str,
    message: str,
    *,
    with_id: bool = False,
    details: list[Detail] | None = None,
) -> Response:
    body = ApiError(
        name=name,
        message=message,
        details=details or [Detail(message=message)],
        id=new_id() if with_id else None,
    )
    return respond(status, body)


def bad_data(message: str) -> Response:
    """``BadDataError`` with a message of its own (no ``id``, as the sheet observed)."""
    return api_error(400, "BadDataError", WITH_MESSAGE + message, details=[Detail(message=message)])


def _joi_text(exc: SchemaInvalid) -> str:
    """joi's wording: ``"label" reason`` (a custom message has no label) and, when something
    was sent, what it was."""
    text = f'"{exc.field}" {exc.reason}' if exc.field else exc.reason
    if exc.value not in (None, "", 0, False):
        return f"{text}. You provided {msgspec.json.encode(exc.value).decode()}."
    return f"{text}."


def _creating_segment(request: Request) -> bool:
    return request.method == "POST" and request.url.path.rstrip("/") == "/api/admin/segments"


def _is_client_api(request: Request) -> bool:
    return request.url.path.startswith("/api/client/")


# Core refusals (a Conflict's field) that Unleash answers with an error of their own.
_REFUSALS = {
    "archived": (400, "ArchivedFeatureError"),
    "environment_variants": (403, "InvalidOperationError"),
    "project_mismatch": (403, "InvalidOperationError"),
}


def render_core(request: Request, exc: Exception) -> Response:
    if isinstance(exc, SchemaError):
        return api_error(
            400,
            "BadDataError",
            VALIDATION_MESSAGE,
            with_id=True,
            details=[Detail(path=exc.path, message=exc.message)],
        )
    if isinstance(exc, DuplicateHeader):
        return respond(400, Message(message=exc.message))
    if isinstance(exc, MalformedJSON):
        return respond(400, Message(message=exc.message))
    if isinstance(exc, BodyTooLarge):
        return respond(413, Message(message="request entity too large"))
    if isinstance(exc, Unauthorized):
        if _is_client_api(request):
            return respond(401, Message(message=CLIENT_TOKEN_REQUIRED))
        if not request.headers.get("authorization", "").strip():
            return respond(
                401,
                AuthRequired(
                    id=new_id(),
                    name="AuthenticationRequired",
                    message=LOGIN_REQUIRED,
                    details=[Detail(message=LOGIN_REQUIRED)],
                ),
            )
        return api_error(401, "UnauthorizedError", "You must log in to use Unleash.", with_id=True)
    if isinstance(exc, Forbidden):
        return respond(403, Message(message=WRONG_TOKEN_KIND))
    if isinstance(exc, UnsupportedMediaType):
        provided = exc.content_type or "you didn't provide one"
        return api_error(
            415,
            "ContentTypeError",
            f"We do not accept the content-type you provided ({provided}). Try using one of the "
            "content-types we do accept instead (application/json) and make sure the body is "
            "in the corresponding format.",
            with_id=True,
        )
    if isinstance(exc, SchemaInvalid):
        return api_error(
            400, "BadDataError", VALIDATION_MESSAGE, details=[Detail(message=_joi_text(exc))]
        )
    if isinstance(exc, ResourceLimit):
        return api_error(
            400,
            "ExceedsLimitError",
            f"Failed to create {exc.resource}. You can't create more than the established limit "
            f"of {exc.limit}.",
        )
    if isinstance(exc, Invalid):
        reason = exc.reason
        if exc.field and reason.startswith(("must ", "is ", "has ")):  # a core rule's words
            reason = f"{exc.field} {reason}"
        return bad_data(reason)
    if isinstance(exc, NotFound):
        message = exc.message
        if exc.kind == "segment" and message == f"segment {exc.key!r} not found":
            message = f'No segment exists with ID "{exc.key}"'
        return api_error(404, "NotFoundError", message)
    if isinstance(exc, InUse):
        return api_error(409, "ConflictError", exc.message)
    if isinstance(exc, Conflict) and exc.field in ("name", "flag"):
        message = "Segment name already exists" if exc.field == "name" else exc.message
        # Unleash's segments documentation makes a duplicate name on create a 400; PUT and
        # validate answer 409.
        return api_error(400 if _creating_segment(request) else 409, "NameExistsError", message)
    if isinstance(exc, Conflict) and exc.field in _REFUSALS:
        status, name = _REFUSALS[exc.field]
        return api_error(status, name, exc.message)
    if isinstance(exc, Conflict):
        message = exc.message
        if exc.field == "seq":
            message = "A segment with that id already exists"
        return api_error(409, "ConflictError", message)
    if isinstance(exc, Unavailable):
        return respond(
            503,
            ApiError(
                name="InternalError",
                message=exc.message,
                details=[Detail(message=exc.message)],
                id=new_id(),
            ),
            {"Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, CoreError):
        return bad_data(exc.message)
    return server_error(request, exc)


def path_not_found(request: Request) -> Response:
    message = f"The path you were looking for ({request.url.path}) is not available."
    return api_error(404, "NotFoundError", message, with_id=True)


def render_http(request: Request, exc: Exception) -> Response:
    """No route for this path or method: Unleash answers both with the path-not-found 404."""
    assert isinstance(exc, HTTPException)
    if exc.status_code in (404, 405):
        return path_not_found(request)
    return respond(exc.status_code, Message(message=str(exc.detail)))


def server_error(request: Request, exc: Exception) -> Response:
    return api_error(500, "InternalError", "Unexpected error occurred", with_id=True)


HANDLERS = {HTTPException: render_http, CoreError: render_core, SchemaError: render_core}
