"""What every handler of the Confidence surface reads from a request the same way: query
parameters bound as Google's HTTP transcoding binds them, custom methods (``{id}:verb``), and a
JSON object body in either spelling of its field names."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from core.errors import Invalid
from dialects.confidence.wire import ENCODER, camel_keys
from dialects.http import decode_json, read_body, require_json_content_type

SYSTEM_PARAMS = frozenset({"prettyPrint", "$.xgafv"})
"""Google's system parameters, accepted everywhere (and ignored: segmux always sends JSON)."""


def json_response(value: Any) -> Response:
    return Response(ENCODER.encode(value), media_type="application/json")


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def only(request: Request, *names: str) -> None:
    """Transcoding binds query parameters to request fields; one that binds to nothing is
    INVALID_ARGUMENT, as Google's front end answers."""
    allowed = set(names) | {snake(n) for n in names} | SYSTEM_PARAMS
    for key in request.query_params:
        if key not in allowed:
            raise Invalid(key, f'unknown name "{key}": cannot bind query parameter')


def param(request: Request, name: str) -> str | None:
    """A query parameter by its camelCase or snake_case name (given once)."""
    snake_name = snake(name)
    values = request.query_params.getlist(name) + (
        request.query_params.getlist(snake_name) if snake_name != name else []
    )
    if len(values) > 1:
        raise Invalid(snake_name, "is given more than once")
    return values[0] if values else None


def split(rest: str) -> tuple[str, str | None]:
    """``id:verb`` -> (id, verb); (id, None) without a verb."""
    resource_id, colon, verb = rest.partition(":")
    return resource_id, (verb if colon else None)


async def object_body(
    request: Request, limit: int, *, optional: bool = False, opaque: frozenset[str] = frozenset()
) -> Any:
    """The body as a JSON object with lowerCamelCase keys (``opaque`` fields kept as sent).
    Read before its content type is checked: an ``optional`` body (a custom method's) may be
    empty, with no content type."""
    raw = await read_body(request, limit)
    if optional and not raw.strip():
        return {}
    require_json_content_type(request)
    decoded = decode_json(raw)
    if not isinstance(decoded, dict):
        raise Invalid("", "the request body must be a JSON object")
    return camel_keys(decoded, opaque=opaque)
