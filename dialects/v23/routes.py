"""``/v2.3/data/segments``: decode, one service call, encode."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from core.model import NewSegment, Principal, SegmentPatch, Sort
from dialects.http import (
    CatchAll,
    bearer_token,
    decode_json,
    read_body,
    require_json_content_type,
    route,
)
from dialects.ports import Services
from dialects.v23 import errors
from dialects.v23.translate import (
    DEFAULT_PER_PAGE,
    MAX_PER_PAGE,
    int_param,
    list_result,
    name_from_body,
    segment_out,
)
from dialects.v23.wire import ENCODER, Ok

ORDER = (Sort("created_at"), Sort("id"))


def _ok(result: Any, status: int = 200) -> Response:
    return Response(ENCODER.encode(Ok(result=result)), status_code=status, media_type=errors.JSON)


def build(services: Services) -> Starlette:
    async def principal(request: Request) -> Principal:
        return await services.tokens.authenticate(bearer_token(request))

    async def json_body(request: Request) -> Any:
        require_json_content_type(request)
        return decode_json(await read_body(request, services.settings.body_limit))

    async def list_segments(request: Request) -> Response:
        who = await principal(request)
        await services.answers.mark(request, who)
        query = request.query_params
        page = int_param("page", query.getlist("page"), default=1, maximum=None)
        per_page = int_param(
            "per_page", query.getlist("per_page"), default=DEFAULT_PER_PAGE, maximum=MAX_PER_PAGE
        )

        async def render() -> bytes:
            result = await services.segments.list(
                who,
                sandbox=who.default_sandbox,
                offset=(page - 1) * per_page,
                limit=per_page,
                sort=ORDER,
            )
            return ENCODER.encode(Ok(result=list_result(result, current=page, per_page=per_page)))

        if page != 1:
            return Response(await render(), media_type=errors.JSON)
        # First pages are encoded once per tenant revision (core.cache.ResponseCache).
        body = await services.pages.get(who, ("v23.segments", per_page), render)
        return Response(body, media_type=errors.JSON)

    async def create_segment(request: Request) -> Response:
        who = await principal(request)
        name = name_from_body(await json_body(request))
        segment = await services.segments.create(
            who, NewSegment(name=name, sandbox=who.default_sandbox)
        )
        return _ok(segment_out(segment))

    async def update_segment(request: Request) -> Response:
        who = await principal(request)
        segment_id = request.path_params["segment_id"]
        body = await json_body(request)
        # Existence first: a PUT to an unknown id is a 404 whatever its body says.
        await services.segments.get(who, "id", segment_id, sandbox=who.default_sandbox)
        segment = await services.segments.update(
            who, segment_id, SegmentPatch(name=name_from_body(body)), sandbox=who.default_sandbox
        )
        return _ok(segment_out(segment))

    async def delete_segment(request: Request) -> Response:
        who = await principal(request)
        await services.segments.delete(
            who, request.path_params["segment_id"], sandbox=who.default_sandbox
        )
        # The API's documentation shows a body with its 204; HTTP forbids one
        # (docs/dialects/v23.md).
        return Response(status_code=204)

    return Starlette(
        routes=[
            route("/data/segments", GET=list_segments, POST=create_segment),
            route("/data/segments/{segment_id}", PUT=update_segment, DELETE=delete_segment),
        ],
        middleware=[Middleware(CatchAll, render=errors.server_error)],
        exception_handlers=errors.HANDLERS,  # type: ignore[arg-type]
    )
