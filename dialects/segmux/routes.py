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
from core.expr.languages import translate
from core.model import Principal, Segment
from dialects.cancellation import ClientGone, client_gone, until_disconnected
from dialects.http import (
    CatchAll,
    bearer_token,
    convert,
    decode_json,
    read_body,
    require_json_content_type,
    route,
)
from dialects.ports import Services
from dialects.segmux import errors
from dialects.segmux.translate import etag, if_match, new_segment, segment_patch
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
    return Response(ENCODER.encode(value), status_code=status, media_type="application/json",
                    headers=headers)


def _segment(who: Principal, segment: Segment, status: int = 200) -> Response:
    """A segment as ``who`` sees it through every dialect, with its version as the ETag that
    ``If-Match`` takes back."""
    headers = {"ETag": etag(segment.version)}
    if status == 201:
        headers["Location"] = f"/segmux/v1/segments/{segment.id}"
    return _json(segment_out(segment, who.default_sandbox), status, headers)


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


def build(services: Services) -> Starlette:
    async def principal(request: Request) -> Principal:
        return await services.tokens.authenticate(bearer_token(request))

    async def body(request: Request) -> Any:
        require_json_content_type(request)
        return decode_json(await read_body(request, services.settings.body_limit))

    async def translate_expression(request: Request) -> Response:
        await principal(request)
        args = convert(await body(request), TranslateIn)
        return _json(TranslateOut(expression=translate(args.from_, args.to, args.expression)))

    def budget(field: str) -> Budget:
        return Budget(services.settings.evaluate_budget_ms, field)

    async def evaluate(request: Request) -> Response:
        who = await principal(request)
        args = convert(await body(request), EvaluateIn)

        async def work() -> dict[str, bool]:
            if args.unit is None:
                return await services.evaluation.evaluate(who, args.context, args.segments)
            return await services.lifecycle.members(who, args.segments, args.context, args.unit)

        try:
            results = await until_disconnected(request, budget("context"), work)
        except ClientGone:
            return client_gone()
        reasons = await services.evaluation.reasons(who, args.segments, unit=args.unit is not None)
        return _json(evaluate_out(results, reasons))

    async def evaluate_batch(request: Request) -> Response:
        who = await principal(request)
        args = convert(await body(request), BatchIn)

        async def work() -> list[dict[str, bool]]:
            if args.unit is None:
                return await services.evaluation.evaluate_batch(
                    who, args.contexts, args.segments)
            return await services.lifecycle.members_many(
                who, args.segments, args.contexts, args.unit
            )

        try:
            results = await until_disconnected(request, budget("contexts"), work)
        except ClientGone:
            return client_gone()
        reasons = await services.evaluation.reasons(who, args.segments, unit=args.unit is not None)
        return _json(BatchOut(results=[evaluate_out(r, reasons) for r in results]))

    async def list_segments(request: Request) -> Response:
        who = await principal(request)
        await services.answers.mark(request, who)
        cursor, limit, q = _single(request, "cursor"), _limit(_single(request, "limit")), \
            _single(request, "q")

        async def render() -> bytes:
            items, after = await services.segments.browse(who, cursor=cursor, limit=limit, q=q)
            return ENCODER.encode(segment_list(items, after, who.default_sandbox))

        if cursor is not None:
            return Response(await render(), media_type="application/json")
        # First pages are encoded once per tenant revision (core.cache.ResponseCache); the
        # renderings' URLs are paths, so the body depends on nothing of the request but these.
        body = await services.pages.get(who, ("segmux.segments", limit, q), render)
        return Response(body, media_type="application/json")

    async def get_segment(request: Request) -> Response:
        who = await principal(request)
        await services.answers.mark(request, who)
        return _segment(who, await services.segments.get_by_id(who, request.path_params["id"]))

    async def create_segment(request: Request) -> Response:
        who = await principal(request)
        new = new_segment(await body(request), who)
        return _segment(who, await services.segments.create(who, new), 201)

    async def update_segment(request: Request) -> Response:
        who = await principal(request)
        version = if_match(_header(request, "if-match"))
        patch = segment_patch(await body(request))
        return _segment(who, await services.segments.update(
            who, request.path_params["id"], patch, if_version=version))

    async def delete_segment(request: Request) -> Response:
        who = await principal(request)
        await services.segments.delete(who, request.path_params["id"])
        return Response(status_code=204)

    return Starlette(
        routes=[
            route("/segments", GET=list_segments, POST=create_segment),
            route("/segments/{id}", GET=get_segment, PATCH=update_segment,
                  DELETE=delete_segment),
            route("/translate", POST=translate_expression),
            route("/evaluate", POST=evaluate),
            route("/evaluate:batch", POST=evaluate_batch),
        ],
        middleware=[Middleware(CatchAll, render=errors.server_error)],
        exception_handlers=errors.HANDLERS,
    )
