"""``/segmux/v1``: segmux's own API — segments in the canonical model (with every dialect's
rendering), translate between condition languages, evaluate."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from core.budget import Budget
from core.errors import Invalid
from core.evaluation import Explained
from core.expr import languages
from core.model import Principal, Segment
from dialects.cancellation import ClientGone, client_gone, until_disconnected
from dialects.handlers import SurfaceApi, authenticate, json_body
from dialects.http import CatchAll, convert, route
from dialects.ports import Services
from dialects.segmux import errors, translate
from dialects.segmux.wire import (
    ENCODER,
    BatchIn,
    BatchOut,
    EvaluateIn,
    TranslateIn,
    TranslateOut,
    evaluate_out,
    segment_list,
    segment_out,
)


def _json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        ENCODER.encode(value), status_code=status, media_type="application/json", headers=headers
    )


async def _segment(
    services: Services, who: Principal, segment: Segment, status: int = 200
) -> Response:
    """A segment as ``who`` sees it through every dialect (and the flags that use it), with
    its version as the ETag that ``If-Match`` takes back."""
    headers = {"ETag": translate.etag(segment.version)}
    if status == 201:
        headers["Location"] = f"/segmux/v1/segments/{segment.id}"
    used = await services.store.flags_using(who.tenant, segment.id)
    return _json(segment_out(segment, who.default_sandbox, used.get(segment.id)), status, headers)


DEFAULT_LIMIT = 100


def _single(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise Invalid(name, "give it at most once")
    return values[0] if values else None


def _header(request: Request, name: str) -> str | None:
    values = request.headers.getlist(name)
    if len(values) > 1:
        raise Invalid(name, "give it at most once")
    return values[0] if values else None


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
        raise Invalid("limit", "must be an integer between 1 and 1000")
    return int(raw)


class SegmuxApi(SurfaceApi):
    """segmux's own API over the process's use cases: one method per endpoint."""

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                route("/segments", GET=self.list_segments, POST=self.create_segment),
                route(
                    "/segments/{id}",
                    GET=self.get_segment,
                    PATCH=self.update_segment,
                    DELETE=self.delete_segment,
                ),
                route("/translate", POST=self.translate_expression),
                route("/evaluate", POST=self.evaluate),
                route("/evaluate:batch", POST=self.evaluate_batch),
            ],
            middleware=[Middleware(CatchAll, render=errors.server_error)],
            exception_handlers=errors.HANDLERS,
        )

    def _budget(self, field: str) -> Budget:
        return Budget(self.services.settings.evaluate_budget_ms, field)

    async def translate_expression(self, request: Request) -> Response:
        services = self.services
        await authenticate(services.tokens, request)
        body = await json_body(request, services.settings.body_limit)
        args = convert(body, TranslateIn)
        expression = languages.translate(args.from_, args.to, args.expression)
        return _json(TranslateOut(expression=expression))

    async def evaluate(self, request: Request) -> Response:
        services = self.services
        who = await authenticate(services.tokens, request)
        args = convert(await json_body(request, services.settings.body_limit), EvaluateIn)

        async def work() -> Explained:
            if args.unit is None:
                return await services.evaluation.explained_batch(who, [args.context], args.segments)
            results = await services.lifecycle.members(who, args.segments, args.context, args.unit)
            return Explained(
                [results], await services.evaluation.reasons(who, args.segments, unit=True)
            )

        try:
            done = await until_disconnected(request, self._budget("context"), work)
        except ClientGone:
            return client_gone()
        return _json(evaluate_out(done.results[0], done.reasons))

    async def evaluate_batch(self, request: Request) -> Response:
        services = self.services
        who = await authenticate(services.tokens, request)
        args = convert(await json_body(request, services.settings.body_limit), BatchIn)

        async def work() -> Explained:
            if args.unit is None:
                return await services.evaluation.explained_batch(who, args.contexts, args.segments)
            results = await services.lifecycle.members_many(
                who, args.segments, args.contexts, args.unit
            )
            return Explained(
                results, await services.evaluation.reasons(who, args.segments, unit=True)
            )

        try:
            done = await until_disconnected(request, self._budget("contexts"), work)
        except ClientGone:
            return client_gone()
        return _json(BatchOut(results=[evaluate_out(r, done.reasons) for r in done.results]))

    async def list_segments(self, request: Request) -> Response:
        services = self.services
        who = await authenticate(services.tokens, request)
        await services.answers.mark(request, who)
        cursor = _single(request, "cursor")
        limit = _limit(_single(request, "limit"))
        q = _single(request, "q")

        async def render() -> bytes:
            items, after = await services.segments.browse(who, cursor=cursor, limit=limit, q=q)
            used = await services.store.flags_using(who.tenant)
            return ENCODER.encode(segment_list(items, after, who.default_sandbox, used))

        if cursor is not None:
            return Response(await render(), media_type="application/json")
        # First pages are encoded once per tenant revision (core.cache.ResponseCache); the
        # renderings' URLs are paths, so the body depends on nothing of the request but these.
        body = await services.pages.get(who, ("segmux.segments", limit, q), render)
        return Response(body, media_type="application/json")

    async def get_segment(self, request: Request) -> Response:
        services = self.services
        who = await authenticate(services.tokens, request)
        await services.answers.mark(request, who)
        segment = await services.segments.get_by_id(who, request.path_params["id"])
        return await _segment(services, who, segment)

    async def create_segment(self, request: Request) -> Response:
        services = self.services
        who = await authenticate(services.tokens, request)
        body = await json_body(request, services.settings.body_limit)
        new = translate.new_segment(body, who)
        return await _segment(services, who, await services.segments.create(who, new), 201)

    async def update_segment(self, request: Request) -> Response:
        services = self.services
        who = await authenticate(services.tokens, request)
        version = translate.if_match(_header(request, "if-match"))
        patch = translate.segment_patch(await json_body(request, services.settings.body_limit))
        segment = await services.segments.update(
            who, request.path_params["id"], patch, if_version=version
        )
        return await _segment(services, who, segment)

    async def delete_segment(self, request: Request) -> Response:
        services = self.services
        who = await authenticate(services.tokens, request)
        await services.segments.delete(who, request.path_params["id"])
        return Response(status_code=204)


def build(services: Services) -> Starlette:
    """The surface's app (``dialects.segmux.surface``)."""
    return SegmuxApi(services).app()
