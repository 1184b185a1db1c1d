"""``/v2.3/data/segments``: decode, one service call, encode."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from core.model import NewSegment, SegmentPatch, Sort
from dialects.handlers import SurfaceApi, authenticate, json_body
from dialects.http import CatchAll, route
from dialects.ports import Services
from dialects.v23 import errors, translate
from dialects.v23.wire import ENCODER, Ok

ORDER = (Sort("created_at"), Sort("id"))


def _ok(result: Any, status: int = 200) -> Response:
    return Response(ENCODER.encode(Ok(result=result)), status_code=status, media_type=errors.JSON)


class V23Api(SurfaceApi):
    """The v2.3 segments API over the process's use cases: one method per endpoint, each
    serving the token's default sandbox only."""

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                route("/data/segments", GET=self.list_segments, POST=self.create_segment),
                route(
                    "/data/segments/{segment_id}",
                    PUT=self.update_segment,
                    DELETE=self.delete_segment,
                ),
            ],
            middleware=[Middleware(CatchAll, render=errors.server_error)],
            exception_handlers=errors.HANDLERS,
        )

    async def list_segments(self, request: Request) -> Response:
        services = self.services
        who = await authenticate(services.tokens, request)
        await services.answers.mark(request, who)
        query = request.query_params
        page = translate.int_param("page", query.getlist("page"), default=1, maximum=None)
        per_page = translate.int_param(
            "per_page",
            query.getlist("per_page"),
            default=translate.DEFAULT_PER_PAGE,
            maximum=translate.MAX_PER_PAGE,
        )

        async def render() -> bytes:
            result = await services.segments.list(
                who,
                sandbox=who.default_sandbox,
                offset=(page - 1) * per_page,
                limit=per_page,
                sort=ORDER,
            )
            listed = translate.list_result(result, current=page, per_page=per_page)
            return ENCODER.encode(Ok(result=listed))

        if page != 1:
            return Response(await render(), media_type=errors.JSON)
        # First pages are encoded once per tenant revision (core.cache.ResponseCache).
        body = await services.pages.get(who, ("v23.segments", per_page), render)
        return Response(body, media_type=errors.JSON)

    async def create_segment(self, request: Request) -> Response:
        services = self.services
        who = await authenticate(services.tokens, request)
        name = translate.name_from_body(await json_body(request, services.settings.body_limit))
        segment = await services.segments.create(
            who, NewSegment(name=name, sandbox=who.default_sandbox)
        )
        return _ok(translate.segment_out(segment))

    async def update_segment(self, request: Request) -> Response:
        services = self.services
        who = await authenticate(services.tokens, request)
        segment_id = request.path_params["segment_id"]
        body = await json_body(request, services.settings.body_limit)
        # Existence first: a PUT to an unknown id is a 404 whatever its body says.
        current = await services.segments.get(who, "id", segment_id, sandbox=who.default_sandbox)
        patch = SegmentPatch(name=translate.name_from_body(body))
        segment = await services.segments.update(
            who, segment_id, patch, sandbox=who.default_sandbox, current=current
        )
        return _ok(translate.segment_out(segment))

    async def delete_segment(self, request: Request) -> Response:
        services = self.services
        who = await authenticate(services.tokens, request)
        await services.segments.delete(
            who, request.path_params["segment_id"], sandbox=who.default_sandbox
        )
        # The API's documentation shows a body with its 204; HTTP forbids one
        # (docs/dialects/v23.md).
        return Response(status_code=204)


def build(services: Services) -> Starlette:
    """The surface's app (``dialects.v23.surface``)."""
    return V23Api(services).app()
