"""Helpers every surface's handlers share: who is calling, and the JSON body within the limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request

from core.model import Principal
from core.tokens import TokenService
from dialects.http import bearer_token, decode_json, read_body, require_json_content_type


async def authenticate(
    tokens: TokenService,
    request: Request,
    extract: Callable[[Request], str | None] = bearer_token,
) -> Principal:
    """The holder of the token ``extract`` reads from ``request``; ``Unauthorized`` if there is
    none or it is unknown, ``DuplicateHeader`` if the header came twice."""
    return await tokens.authenticate(extract(request))


async def json_body(request: Request, limit: int) -> Any:
    """The request's body as decoded JSON: refused if it is not declared JSON (415), larger than
    ``limit`` bytes (413) or malformed (400), in that order."""
    require_json_content_type(request)
    return decode_json(await read_body(request, limit))
