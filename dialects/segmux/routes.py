"""``/segmux/v1``: segmux's own API — translate between condition languages, evaluate."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from core.errors import Invalid
from core.expr.languages import translate
from core.model import Principal
from dialects.http import (
    CatchAll,
    convert,
    decode_json,
    read_body,
    require_json_content_type,
    route,
)
from dialects.segmux import errors
from dialects.segmux.wire import (
    ENCODER,
    EvaluateIn,
    EvaluateOut,
    TranslateIn,
    TranslateOut,
    segment_list,
    segment_out,
)
from gateway.auth import bearer_token
from gateway.services import Services


def _json(value: Any, status: int = 200) -> Response:
    return Response(ENCODER.encode(value), status_code=status, media_type="application/json")


DEFAULT_LIMIT = 100


def _single(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
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

    async def evaluate(request: Request) -> Response:
        who = await principal(request)
        args = convert(await body(request), EvaluateIn)
        if args.unit is None:
            results = await services.evaluation.evaluate(who, args.context, args.segments)
        else:
            results = await services.lifecycle.members(who, args.segments, args.context, args.unit)
        return _json(EvaluateOut(matches=[k for k, v in results.items() if v], results=results))

    async def list_segments(request: Request) -> Response:
        who = await principal(request)
        items, after = await services.segments.browse(
            who, cursor=_single(request, "cursor"), limit=_limit(_single(request, "limit")),
            q=_single(request, "q"),
        )
        return _json(segment_list(items, after))

    async def get_segment(request: Request) -> Response:
        who = await principal(request)
        return _json(segment_out(await services.segments.get_by_id(who, request.path_params["id"])))

    return Starlette(
        routes=[
            route("/segments", GET=list_segments),
            route("/segments/{id}", GET=get_segment),
            route("/translate", POST=translate_expression),
            route("/evaluate", POST=evaluate),
        ],
        middleware=[Middleware(CatchAll, render=errors.server_error)],
        exception_handlers=errors.HANDLERS,  # type: ignore[arg-type]
    )
