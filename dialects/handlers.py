"""Helpers every surface's handlers share: who is calling, and the JSON body within the limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request

from core.model import Principal
from core.tokens import TokenService
from dialects.http import bearer_token, decode_json, read_body, require_json_content_type
from dialects.ports import Services


async def authenticate(
    tokens: TokenService,
    request: Request,
    extract: Callable[[Request], str | None] = bearer_token,
) -> Principal:
    """The principal of the token ``extract`` finds on the request (``Unauthorized`` if none)."""
    return await tokens.authenticate(extract(request))


async def json_body(request: Request, limit: int) -> Any:
    """The body as JSON values: a JSON content type, at most ``limit`` bytes, well-formed."""
    require_json_content_type(request)
    return decode_json(await read_body(request, limit))


class SurfaceApi:
    """Base of every surface's handler class: the process's use cases, read on every request and
    never copied, because the gateway builds its apps before the store opens and fills the
    services in when it does."""

    def __init__(self, services: Services) -> None:
        self.services = services
