"""``/data/core/ups``: Adobe's segment definitions. Each handler passes the gateway checks,
decodes, makes one service call and encodes (``docs/dialects/adobe.md``)."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from core.model import Principal
from dialects.adobe import errors, translate
from dialects.adobe.wire import ENCODER
from dialects.handlers import SurfaceApi, json_body
from dialects.http import (
    ANSWER_MARK,
    CatchAll,
    base_url,
    bearer_token,
    require_json_content_type,
    route,
)
from dialects.ports import Services

VARY = ("x-api-key", "x-gw-ims-org-id", "x-sandbox-name")
"""The request headers a read's answer depends on besides the token (:meth:`AdobeApi.caller`
reads them): what the gateway keeps a GET's answer under."""


class Caller(msgspec.Struct, frozen=True):
    principal: Principal
    org: str
    sandbox: str


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        ENCODER.encode(body), status_code=status, media_type=errors.JSON, headers=headers
    )


class AdobeApi(SurfaceApi):
    """The segment-definition handlers over the process's use cases."""

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                route(
                    "/segment/definitions", GET=self.list_definitions, POST=self.create_definition
                ),
                route("/segment/definitions/bulk-get", POST=self.bulk_get),
                route(
                    "/segment/definitions/{segment_id}",
                    GET=self.get_definition,
                    PATCH=self.patch_definition,
                    DELETE=self.delete_definition,
                ),
                route("/segment/conversion", POST=self.conversion),
            ],
            middleware=[Middleware(CatchAll, render=errors.server_error)],
            exception_handlers=errors.HANDLERS,
        )

    async def caller(self, request: Request, *, writes: bool = False) -> Caller:
        # Every header read here is in VARY: a kept answer depends on each of them.
        """The gateway's checks in its order (docs/dialects/adobe.md): token, API key, org, then
        for writes the content type; then the sandbox the request runs in."""
        headers = request.headers
        principal = await self.services.tokens.authenticate_client(
            bearer_token(request),
            api_key=headers.get("x-api-key"),
            org=headers.get("x-gw-ims-org-id"),
        )
        if writes:
            # Here, in the gateway's order (before a bad sandbox name), although ``json_body``
            # checks it again when the body is read.
            require_json_content_type(request)
        org = headers["x-gw-ims-org-id"]
        return Caller(principal, org, translate.sandbox_name(headers.get("x-sandbox-name")))

    async def answerable(self, request: Request, who: Caller) -> None:
        """Mark a GET's answer as one to keep (gateway.answers). The org was checked against
        the tenant before the revision was read: checked again after, so a kept answer never
        rests on an org the revision no longer has."""
        await self.services.answers.mark(request, who.principal, VARY)
        if ANSWER_MARK in request.scope:
            await self.services.tokens.check_org(who.principal, who.org)

    @property
    def body_limit(self) -> int:
        return self.services.settings.body_limit

    async def list_definitions(self, request: Request) -> Response:
        who = await self.caller(request)
        await self.answerable(request, who)
        params = request.query_params
        query = translate.list_query({k: params.getlist(k) for k in params})

        async def render() -> bytes:
            page = await self.services.segments.list(
                who.principal,
                sandbox=who.sandbox,
                offset=query.offset,
                limit=query.limit,
                sort=query.sort,
                tests=query.tests,
            )
            return ENCODER.encode(translate.list_out(page, query, who.org))

        if query.offset != 0:
            return Response(await render(), media_type=errors.JSON)
        # First pages are encoded once per tenant revision (core.cache.ResponseCache), keyed on
        # the parsed parameters the page is made of (every spelling of one query shares it).
        key = (
            "adobe.definitions",
            who.sandbox,
            who.org,
            query.limit,
            query.page,
            query.start,
            query.sort_text,
            tuple(sorted(query.filters.items())),
        )
        return Response(
            await self.services.pages.get(who.principal, key, render), media_type=errors.JSON
        )

    async def create_definition(self, request: Request) -> Response:
        who = await self.caller(request, writes=True)
        definition = translate.definition_in(await json_body(request, self.body_limit))
        segment = await self.services.segments.create(
            who.principal, translate.new_segment(definition, who.sandbox)
        )
        return _json(
            translate.definition_out(segment, who.org),
            headers={"X-Location": translate.location(base_url(request), segment)},
        )

    async def get_definition(self, request: Request) -> Response:
        who = await self.caller(request)
        await self.answerable(request, who)
        segment = await self.services.segments.get(
            who.principal, "id", request.path_params["segment_id"], sandbox=who.sandbox
        )
        return _json(translate.definition_out(segment, who.org))

    async def patch_definition(self, request: Request) -> Response:
        who = await self.caller(request, writes=True)
        segment_id = request.path_params["segment_id"]
        definition = translate.definition_in(await json_body(request, self.body_limit))
        segment = await self.services.segments.update_with(
            who.principal,
            segment_id,
            translate.patch_builder(definition, segment_id),
            sandbox=who.sandbox,
        )
        return _json(
            translate.definition_out(segment, who.org),
            headers={"X-Location": translate.location(base_url(request), segment)},
        )

    async def delete_definition(self, request: Request) -> Response:
        who = await self.caller(request)
        await self.services.segments.delete(
            who.principal, request.path_params["segment_id"], sandbox=who.sandbox
        )
        # Adobe's segment-definitions guide: "200 with no message" (the spec's MessageResponse
        # is not what it shows).
        return Response(status_code=200)

    async def bulk_get(self, request: Request) -> Response:
        who = await self.caller(request, writes=True)
        ids = translate.bulk_ids(await json_body(request, self.body_limit))
        found = await self.services.segments.get_many(who.principal, ids, sandbox=who.sandbox)
        return _json(translate.bulk_out(ids, list(found), who.org), status=207)

    async def conversion(self, request: Request) -> Response:
        who = await self.caller(request, writes=True)
        converted = translate.conversion_out(
            await json_body(request, self.body_limit), who.org, who.principal.tenant, who.sandbox
        )
        return _json(converted)


def build(services: Services) -> Starlette:
    return AdobeApi(services).app()
