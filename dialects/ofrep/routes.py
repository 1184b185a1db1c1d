"""The OpenFeature Remote Evaluation Protocol (``/ofrep/v1``): single and bulk evaluation of
the token's environment's Unleash features and Confidence flags (``core.ofrep``).

A request goes: CORS (``dialects.cors``: OFREP's web providers call it from pages) → the token,
``Authorization: Bearer`` or ``X-API-Key`` (none or unknown: 401; a token that may not
evaluate: 403; both empty-bodied, as the spec has them) → the body as JSON → the context → one
use case → the answer. The bulk answer carries a strong ETag of its own bytes and is a 304 to an
``If-None-Match`` holding it.

Answers are never kept by the gateway: like the Unleash frontend API's, they depend on the clock
(date constraints) and on random rollouts, so each request is evaluated afresh and a change is
seen by the next one.
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from core.errors import Unauthorized
from core.model import Principal
from core.ofrep import OfrepService, parse_request
from dialects.cors import Cors
from dialects.handlers import SurfaceApi
from dialects.http import CatchAll, DuplicateHeader, bearer_token, decode_json, read_body, route
from dialects.ofrep import errors, translate, wire
from dialects.ports import Services

SDK_HEADERS = ("accept", "authorization", "content-type", "if-none-match", "x-api-key")
"""Request headers a page may send (what the OFREP web provider sends, and its API key)."""


def build(services: Services) -> ASGIApp:
    return OfrepApi(services).app()


class OfrepApi(SurfaceApi):
    @property
    def service(self) -> OfrepService:
        """The use case over the process's engines (made when the store opens: read per call;
        it holds nothing of its own)."""
        return OfrepService(self.services.flags, self.services.resolver)

    def app(self) -> ASGIApp:
        app = Starlette(
            routes=[
                route("/v1/evaluate/flags", POST=self.bulk),
                route("/v1/evaluate/flags/{key:path}", POST=self.single),
            ],
            middleware=[Middleware(CatchAll, render=errors.server_error)],
            exception_handlers=errors.HANDLERS,
        )
        return Cors(
            app,
            origins=self.services.settings.cors_origins,
            methods=("POST",),
            headers=SDK_HEADERS,
            expose=("ETag",),
        )

    async def _who(self, request: Request) -> Principal:
        return await self.services.tokens.authenticate(_token(request), ofrep_api=True)

    async def _body(self, request: Request) -> Any:
        return decode_json(await read_body(request, self.services.settings.body_limit))

    async def single(self, request: Request) -> Response:
        who = await self._who(request)
        context = parse_request(await self._body(request))
        key: str = request.path_params["key"]
        found = await self.service.evaluate(who, key, context)
        body = wire.ENCODER.encode(translate.answer(found))
        return Response(body, status_code=translate.status(found), media_type=wire.JSON)

    async def bulk(self, request: Request) -> Response:
        who = await self._who(request)
        context = parse_request(await self._body(request))
        found = await self.service.evaluate_all(who, context)
        body = wire.ENCODER.encode(wire.Bulk(flags=[translate.answer(f) for f in found]))
        etag = strong_etag(body)
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=wire.JSON, headers=headers)


def _token(request: Request) -> str | None:
    """``Authorization: Bearer <token>`` or ``X-API-Key: <token>``; both sent must agree (two
    different credentials name no one caller)."""
    bearer = bearer_token(request)
    keys = request.headers.getlist("x-api-key")
    if len(keys) > 1:
        raise DuplicateHeader("X-API-Key")
    key = keys[0].strip() if keys else None
    if bearer and key and bearer != key:
        raise Unauthorized("Authorization and X-API-Key name different tokens")
    return bearer or key or None


def strong_etag(body: bytes) -> str:
    """A strong ETag of the answer's bytes (equal bytes, equal tag)."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(header: str | None, etag: str) -> bool:
    """``If-None-Match`` holds ``etag`` (weak comparison, as RFC 9110 has it for this header)
    or ``*``."""
    if not header:
        return False
    bare = etag.removeprefix("W/")
    candidates = {c.strip().removeprefix("W/") for c in header.split(",")}
    return "*" in candidates or bare in candidates
