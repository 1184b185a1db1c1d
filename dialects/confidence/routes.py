"""``/v1/segments…`` and ``/v1/oauth/token``: Confidence's admin API as Google's HTTP
transcoding serves it (decode, one service call, encode).

Custom methods are ``POST /v1/segments/{id}:verb``; Starlette's path parameters stop at ``/``
but not at ``:``, so ``{rest}`` carries ``id:verb`` and :func:`_split` separates them.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from core.buckets import share
from core.errors import Invalid, NotFound
from core.model import Allocation, Principal
from dialects.confidence import errors, translate
from dialects.confidence.filters import parse_filter
from dialects.confidence.flag_routes import FlagAdminApi
from dialects.confidence.paging import decode_token, encode_token, order_by, page_size
from dialects.confidence.requests import json_response as _json
from dialects.confidence.requests import object_body
from dialects.confidence.requests import only as _only
from dialects.confidence.requests import param as _param
from dialects.confidence.requests import split as _split
from dialects.confidence.resolver import ResolverApi
from dialects.confidence.wire import (
    ENCODER,
    AvailableSpaceIn,
    AvailableSpaceOut,
    DecimalOut,
    Empty,
    ListOut,
    SegmentIn,
    TokenIn,
    TokenOut,
)
from dialects.handlers import SurfaceApi, authenticate
from dialects.http import (
    CatchAll,
    convert,
    route,
)
from dialects.ports import Services

VIEWS = {
    "SEGMENT_VIEW_UNSPECIFIED": False,
    "BASIC": False,
    "FULL": True,
    "0": False,
    "1": False,
    "2": True,
}


def _view(request: Request) -> bool:
    raw = _param(request, "view")
    if raw is None:
        return False
    full = VIEWS.get(raw)
    if full is None:
        raise Invalid("view", "must be BASIC or FULL")
    return full


class ConfidenceApi(SurfaceApi):
    """The segments API and the token endpoint over the process's use cases."""

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                *ResolverApi(self.services).routes(),
                route("/segments", GET=self.list_segments, POST=self.create_segment),
                route(
                    "/segments/{rest}",
                    GET=self.get_segment,
                    PATCH=self.update_segment,
                    POST=self.custom_method,
                    DELETE=self.delete_segment,
                ),
                route("/oauth/token", POST=self.oauth_token),
                *FlagAdminApi(self.services).routes(),
            ],
            middleware=[Middleware(CatchAll, render=errors.server_error)],
            exception_handlers=errors.HANDLERS,
        )

    async def body(self, request: Request, *, optional: bool = False) -> Any:
        """The body as a JSON object with lowerCamelCase keys (see ``requests.object_body``)."""
        return await object_body(request, self.services.settings.body_limit, optional=optional)

    async def show(self, who: Principal, segment_slug: str, *, full: bool) -> Response:
        lifecycle = self.services.lifecycle
        segment = await lifecycle.get(who, segment_slug)
        translate.targeting_of(segment)  # NotExpressible before any work on buckets
        bitset = await lifecycle.bitset(who, segment) if full else None
        return _json(translate.segment_out(segment, bitset, full=full))

    async def create_segment(self, request: Request) -> Response:
        who = await authenticate(self.services.tokens, request)
        _only(request, "segmentId")
        segment_id = _param(request, "segmentId")
        sent = convert(await self.body(request), SegmentIn)
        new = translate.new_segment(sent, segment_id, who.default_sandbox)
        segment = await self.services.lifecycle.create(who, new)
        return _json(translate.segment_out(segment))

    async def list_segments(self, request: Request) -> Response:
        who = await authenticate(self.services.tokens, request)
        await self.services.answers.mark(request, who)
        _only(request, "pageSize", "pageToken", "filter", "orderBy", "view")
        size = page_size(_param(request, "pageSize"))
        filter_text, order_text = _param(request, "filter"), _param(request, "orderBy")
        full = _view(request)
        query = (filter_text, order_text, "FULL" if full else "BASIC")
        offset = decode_token(_param(request, "pageToken"), *query)
        keep = parse_filter(filter_text)
        sort = order_by(order_text)

        async def render() -> bytes:
            lifecycle = self.services.lifecycle
            expressible = translate.expressible
            found, more = await lifecycle.scan(
                who,
                keep=lambda s: expressible(s) and keep(s),
                sort=sort,
                offset=offset,
                limit=size,
            )
            items = [
                translate.segment_out(
                    s, await lifecycle.bitset(who, s) if full else None, full=full
                )
                for s in found
            ]
            token = encode_token(offset + len(found), *query) if more else ""
            return ENCODER.encode(ListOut(segments=items, nextPageToken=token))

        if offset != 0:
            return Response(await render(), media_type="application/json")
        # First pages are encoded once per tenant revision (core.cache.ResponseCache), keyed on
        # the parsed parameters: every spelling of one query shares an entry.
        key = ("confidence.segments", size, *query)
        return Response(
            await self.services.pages.get(who, key, render), media_type="application/json"
        )

    async def get_segment(self, request: Request) -> Response:
        who = await authenticate(self.services.tokens, request)
        await self.services.answers.mark(request, who)
        segment_id, verb = _split(request.path_params["rest"])
        if verb is not None:
            raise NotFound("method", verb, f"Method not found: GET :{verb}")
        _only(request, "view")
        full = _view(request)
        return await self.show(who, translate.check_id(segment_id), full=full)

    async def update_segment(self, request: Request) -> Response:
        who = await authenticate(self.services.tokens, request)
        segment_id, verb = _split(request.path_params["rest"])
        if verb is not None:
            raise NotFound("method", verb, f"Method not found: PATCH :{verb}")
        translate.check_id(segment_id)
        _only(request, "updateMask")
        mask = translate.parse_mask(_param(request, "updateMask"))
        sent = convert(await self.body(request), SegmentIn)
        segment = await self.services.lifecycle.update(
            who, segment_id, lambda current: translate.patch_for(current, sent, mask)
        )
        return _json(translate.segment_out(segment))

    async def custom_method(self, request: Request) -> Response:
        who = await authenticate(self.services.tokens, request)
        segment_id, verb = _split(request.path_params["rest"])
        if verb not in ("allocate", "archive", "segmentAvailableSpace"):
            raise NotFound("method", str(verb), f"Method not found: POST :{verb}")
        translate.check_id(segment_id)
        _only(request)
        lifecycle = self.services.lifecycle
        if verb == "segmentAvailableSpace":
            args = convert(await self.body(request, optional=True), AvailableSpaceIn)
            _same_name(args.name, segment_id)
            allocation = None
            if args.queryParams is not None:
                allocation = Allocation(
                    exclusivity_tags=tuple(args.queryParams.exclusivityTags or ()),
                    exclusive_to=tuple(args.queryParams.exclusiveTo or ()),
                )
            buckets = await lifecycle.available(who, segment_id, allocation)
            return _json(AvailableSpaceOut(availableSpace=DecimalOut(share(buckets))))
        _same_name(convert(await self.body(request, optional=True), Empty).name, segment_id)
        # Refuse a segment this dialect cannot show before changing it.
        translate.targeting_of(await lifecycle.get(who, segment_id))
        if verb == "allocate":
            segment = await lifecycle.allocate(who, segment_id)
        else:
            segment = await lifecycle.archive(who, segment_id)
        return _json(translate.segment_out(segment))

    async def delete_segment(self, request: Request) -> Response:
        await authenticate(self.services.tokens, request)
        return errors.deletion_refused()

    async def oauth_token(self, request: Request) -> Response:
        _only(request)
        args = convert(await self.body(request), TokenIn)
        if args.grantType not in (None, "client_credentials"):
            raise Invalid("grant_type", "only client_credentials is supported")
        issued = await self.services.tokens.issue_access_token(
            args.clientId or "", args.clientSecret or ""
        )
        return _json(TokenOut(accessToken=issued.token, expiresIn=str(issued.expires_in)))


def build(services: Services) -> Starlette:
    return ConfidenceApi(services).app()


def _same_name(name: str | None, segment_id: str) -> None:
    """A custom method's body may repeat the resource name; it must be this one."""
    if name and translate.id_from_name(name) != segment_id:
        raise Invalid("name", f"{name} is not segments/{segment_id}")
