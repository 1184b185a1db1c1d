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
from dialects.adobe import errors
from dialects.adobe import translate as t
from dialects.adobe.wire import ENCODER
from dialects.http import (
    ANSWER_MARK,
    CatchAll,
    base_url,
    bearer_token,
    decode_json,
    read_body,
    require_json_content_type,
    route,
)
from dialects.ports import Services


class Caller(msgspec.Struct, frozen=True):
    principal: Principal
    org: str
    sandbox: str


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(ENCODER.encode(body), status_code=status, media_type=errors.JSON,
                    headers=headers)


def build(services: Services) -> Starlette:
    async def caller(request: Request, *, writes: bool = False) -> Caller:
        """The gateway's checks in its order (§1): token, API key, org, then for writes the
        content type; then the sandbox the request runs in."""
        headers = request.headers
        principal = await services.tokens.authenticate_client(
            bearer_token(request), api_key=headers.get("x-api-key"),
            org=headers.get("x-gw-ims-org-id"),
        )
        if writes:
            require_json_content_type(request)
        org = headers["x-gw-ims-org-id"]
        return Caller(principal, org, t.sandbox_name(headers.get("x-sandbox-name")))

    async def answerable(request: Request, who: Caller) -> None:
        """Mark a GET's answer as one to keep (gateway.answers). The org was checked against
        the tenant before the revision was read: checked again after, so a kept answer never
        rests on an org the revision no longer has."""
        await services.answers.mark(request, who.principal)
        if ANSWER_MARK in request.scope:
            await services.tokens.check_org(who.principal, who.org)

    async def body(request: Request) -> Any:
        return decode_json(await read_body(request, services.settings.body_limit))

    async def list_definitions(request: Request) -> Response:
        who = await caller(request)
        await answerable(request, who)
        params = request.query_params
        query = t.list_query({k: params.getlist(k) for k in params})

        async def render() -> bytes:
            page = await services.segments.list(
                who.principal, sandbox=who.sandbox, offset=query.offset, limit=query.limit,
                sort=query.sort, tests=query.tests,
            )
            return ENCODER.encode(t.list_out(page, query, who.org))

        if query.offset != 0:
            return Response(await render(), media_type=errors.JSON)
        # First pages are encoded once per tenant revision (core.cache.ResponseCache), keyed on
        # the parsed parameters the page is made of (every spelling of one query shares it).
        key = ("adobe.definitions", who.sandbox, who.org, query.limit, query.page, query.start,
               query.sort_text, tuple(sorted(query.filters.items())))
        return Response(await services.pages.get(who.principal, key, render),
                        media_type=errors.JSON)

    async def create_definition(request: Request) -> Response:
        who = await caller(request, writes=True)
        definition = t.definition_in(await body(request))
        segment = await services.segments.create(
            who.principal, t.new_segment(definition, who.sandbox)
        )
        return _json(t.definition_out(segment, who.org),
                     headers={"X-Location": t.location(base_url(request), segment)})

    async def get_definition(request: Request) -> Response:
        who = await caller(request)
        await answerable(request, who)
        segment = await services.segments.get(
            who.principal, "id", request.path_params["segment_id"], sandbox=who.sandbox
        )
        return _json(t.definition_out(segment, who.org))

    async def patch_definition(request: Request) -> Response:
        who = await caller(request, writes=True)
        segment_id = request.path_params["segment_id"]
        definition = t.definition_in(await body(request))
        segment = await services.segments.update_with(
            who.principal, segment_id, t.patch_builder(definition, segment_id),
            sandbox=who.sandbox,
        )
        return _json(t.definition_out(segment, who.org),
                     headers={"X-Location": t.location(base_url(request), segment)})

    async def delete_definition(request: Request) -> Response:
        who = await caller(request)
        await services.segments.delete(
            who.principal, request.path_params["segment_id"], sandbox=who.sandbox
        )
        # Adobe's segment-definitions guide: "200 with no message" (the spec's MessageResponse
        # is not what it shows).
        return Response(status_code=200)

    async def bulk_get(request: Request) -> Response:
        who = await caller(request, writes=True)
        ids = t.bulk_ids(await body(request))
        found = await services.segments.get_many(who.principal, ids, sandbox=who.sandbox)
        return _json(t.bulk_out(ids, list(found), who.org), status=207)

    async def conversion(request: Request) -> Response:
        who = await caller(request, writes=True)
        converted = t.conversion_out(
            await body(request), who.org, who.principal.tenant, who.sandbox
        )
        return _json(converted)

    return Starlette(
        routes=[
            route("/segment/definitions", GET=list_definitions, POST=create_definition),
            route("/segment/definitions/bulk-get", POST=bulk_get),
            route(
                "/segment/definitions/{segment_id}",
                GET=get_definition, PATCH=patch_definition, DELETE=delete_definition,
            ),
            route("/segment/conversion", POST=conversion),
        ],
        middleware=[Middleware(CatchAll, render=errors.server_error)],
        exception_handlers=errors.HANDLERS,
    )
