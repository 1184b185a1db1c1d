"""Unleash's admin API (``/api/admin/…``) and client API (``/api/client/…``), mounted at ``/api``:
decode, one service call, encode. The request pipeline runs in Unleash's order
(docs/dialects/unleash.md):
JSON body parse (only for JSON content types; before auth) → token → token kind → content type
→ schema → use case."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from core.flag_checks import require_client
from core.model import Principal
from core.service import require_admin
from dialects.handlers import SurfaceApi, authenticate
from dialects.http import (
    CatchAll,
    Endpoint,
    MalformedJSON,
    UnsupportedMediaType,
    decode_json,
    raw_or_bearer_token,
    read_body,
    route,
)
from dialects.ports import Services
from dialects.unleash import client, errors, schema, translate
from dialects.unleash.wire import JSON, encode

BODY_LIMIT = 100 * 1024
"""Express's default JSON limit, which Unleash keeps (larger bodies are a 413)."""
NO_BODY = object()
Handler = Callable[[Request, Principal, Any], Awaitable[Response]]


def json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(encode(body), status_code=status, media_type=JSON, headers=headers)


def empty(status: int) -> Response:
    return Response(status_code=status)


def _is_json(request: Request) -> bool:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media == "application/json"


async def early_body(request: Request) -> Any:
    """The body as Express parses it before anything else: only for a JSON content type, an
    empty one as ``{}``, and (strict mode) only objects and arrays."""
    if not _is_json(request):
        return NO_BODY
    raw = await read_body(request, BODY_LIMIT)
    text = raw.strip(b" \t\r\n")
    if not text:
        return {}
    if text[:1] not in (b"{", b"["):
        snippet = text[:30].decode("utf-8", "replace")
        first = snippet[:1]
        raise MalformedJSON(f"Unexpected token '{first}', \"{snippet}\" is not valid JSON")
    try:
        return decode_json(raw)
    except MalformedJSON as exc:
        raise MalformedJSON(client.json_parse_message(raw, exc)) from exc


def require_json(request: Request) -> None:
    if not _is_json(request):
        raise UnsupportedMediaType(request.headers.get("content-type"))


def build(services: Services) -> ASGIApp:
    """The surface's app (``dialects.unleash.surface``)."""
    return UnleashApi(services).app()


def _where(request: Request) -> tuple[str, str, str]:
    """A strategy route's project, feature and environment."""
    p = request.path_params
    return p["project"], p["feature"], p["env"]


class UnleashApi(SurfaceApi):
    """The admin and client handlers over the use cases of ``services``.

    The use cases exist once the store is open (the lifespan may open it after the app is
    built), so handlers look them up on ``services`` per request."""

    def app(self) -> ASGIApp:
        admin, sdk = self._admin, self._sdk
        strategies = "/admin/projects/{project}/features/{feature}/environments/{env}"
        routes = [
            route(
                "/admin/segments",
                GET=admin(self.list_segments),
                POST=admin(self.create_segment, body=True),
            ),
            route("/admin/segments/validate", POST=admin(self.validate_name, body=True)),
            route("/admin/segments/strategies", POST=admin(self.set_strategy_segments, body=True)),
            route("/admin/segments/strategies/{strategy_id}", GET=admin(self.strategy_segments)),
            route(
                "/admin/segments/{id}",
                GET=admin(self.get_segment),
                PUT=admin(self.update_segment, body=True),
                DELETE=admin(self.delete_segment),
            ),
            route("/admin/segments/{id}/strategies", GET=admin(self.segment_strategies)),
            route(
                "/admin/projects/{project}/features",
                GET=admin(self.list_features),
                POST=admin(self.create_feature, body=True),
            ),
            route(
                "/admin/projects/{project}/features/{feature}",
                GET=admin(self.get_feature),
                DELETE=admin(self.archive_feature),
            ),
            route(strategies, GET=admin(self.get_feature_environment)),
            route(
                f"{strategies}/variants",
                GET=admin(self.environment_variants),
                PUT=admin(self.put_environment_variants, body=True),
                PATCH=admin(self.patch_environment_variants, body=True),
            ),
            route(
                "/admin/projects/{project}/archive", POST=admin(self.archive_features, body=True)
            ),
            route("/admin/projects/{project}/revive", POST=admin(self.revive_features)),
            route("/admin/archive/revive/{feature}", POST=admin(self.revive_feature)),
            route("/admin/archive/{feature}", DELETE=admin(self.delete_archived_feature)),
            route(
                f"{strategies}/strategies",
                GET=admin(self.list_strategies),
                POST=admin(self.add_strategy, body=True),
            ),
            route(
                f"{strategies}/strategies/{{strategy_id}}",
                GET=admin(self.get_strategy),
                PUT=admin(self.update_strategy, body=True),
                DELETE=admin(self.delete_strategy),
            ),
            route(f"{strategies}/on", POST=admin(self.enable)),
            route(f"{strategies}/off", POST=admin(self.disable)),
            route("/client/features", GET=sdk(self.client_features)),
            route("/client/features/{feature}", GET=sdk(self.client_feature)),
            route("/client/register", POST=sdk(self.registered, body=True)),
            route("/client/metrics", POST=sdk(self.accepted, body=True)),
        ]
        app = Starlette(
            routes=routes,
            middleware=[Middleware(CatchAll, render=errors.server_error)],
            exception_handlers=errors.HANDLERS,
        )
        return TrailingSlash(app)

    # --- the pipeline, in Unleash's order -------------------------------------------------
    def _admin(self, handler: Handler, *, body: bool = False) -> Endpoint:
        return self._guard(handler, require_admin, body)

    def _sdk(self, handler: Handler, *, body: bool = False) -> Endpoint:
        return self._guard(handler, require_client, body)

    def _guard(
        self, handler: Handler, require: Callable[[Principal], object], body: bool
    ) -> Endpoint:
        services = self.services

        async def run(request: Request) -> Response:
            data = await early_body(request)
            who = await authenticate(services.tokens, request, raw_or_bearer_token)
            require(who)
            if body:
                require_json(request)
            return await handler(request, who, data)

        return run

    # --- segments -------------------------------------------------------------------------
    async def list_segments(self, request: Request, who: Principal, _: Any) -> Response:
        services = self.services
        await services.answers.mark(request, who)

        async def render() -> bytes:
            views = await services.unleash_segments.list_segments(who)
            return encode({"segments": [translate.admin_segment(v, usage=True) for v in views]})

        # Encoded once per tenant revision (core.cache.ResponseCache), never served stale.
        body = await services.pages.get(who, "unleash.admin.segments", render)
        return Response(body, media_type=JSON)

    async def create_segment(self, request: Request, who: Principal, body: Any) -> Response:
        data = translate.segment_input(body, create=True)
        view = await self.services.unleash_segments.create(who, data)
        return json(
            translate.admin_segment(view), 201, {"Location": f"segments/{view.segment.seq}"}
        )

    async def get_segment(self, request: Request, who: Principal, _: Any) -> Response:
        await self.services.answers.mark(request, who)
        seq = translate.segment_id_param(request.path_params["id"])
        return json(translate.admin_segment(await self.services.unleash_segments.get(who, seq)))

    async def update_segment(self, request: Request, who: Principal, body: Any) -> Response:
        seq = translate.segment_id_param(request.path_params["id"])
        data = translate.segment_input(body, create=False)
        await self.services.unleash_segments.update(who, seq, data)
        return empty(204)

    async def delete_segment(self, request: Request, who: Principal, _: Any) -> Response:
        seq = translate.segment_id_param(request.path_params["id"])
        await self.services.unleash_segments.delete(who, seq)
        return empty(204)

    async def validate_name(self, request: Request, who: Principal, body: Any) -> Response:
        data = schema.validate(body, schema.NAME, "/body")
        await self.services.unleash_segments.validate_name(who, data["name"])
        return empty(204)

    async def segment_strategies(self, request: Request, who: Principal, _: Any) -> Response:
        seq = translate.segment_id_param(request.path_params["id"])
        uses = await self.services.unleash_segments.uses(who, seq)
        return json(translate.segment_strategies(uses))

    async def strategy_segments(self, request: Request, who: Principal, _: Any) -> Response:
        views = await self.services.flags.segments_of_rule(who, request.path_params["strategy_id"])
        return json({"segments": [translate.admin_segment(v) for v in views]})

    async def set_strategy_segments(self, request: Request, who: Principal, body: Any) -> Response:
        data = translate.strategy_segments_input(body)
        await self.services.flags.set_rule_segments(
            who,
            data["projectId"],
            data["environmentId"],
            data["strategyId"],
            data["segmentIds"],
        )
        return json(data, 201, {"Location": f"strategies/{data['strategyId']}"})

    # --- features and strategies ----------------------------------------------------------
    async def create_feature(self, request: Request, who: Principal, body: Any) -> Response:
        flag = await self.services.flags.create_flag(
            who, request.path_params["project"], translate.new_flag(body)
        )
        return json(translate.feature(flag), 201)

    async def list_features(self, request: Request, who: Principal, _: Any) -> Response:
        await self.services.answers.mark(request, who)
        name_prefix, tags = translate.feature_list_query(request.query_params)
        details = await self.services.flags.project_flags(
            who, request.path_params["project"], name_prefix=name_prefix, tags=tags
        )
        return json(translate.feature_list(details))

    async def get_feature(self, request: Request, who: Principal, _: Any) -> Response:
        await self.services.answers.mark(request, who)
        p = request.path_params
        detail = await self.services.flags.flag_detail(who, p["project"], p["feature"])
        with_variants = request.query_params.get("variantEnvironments") == "true"
        return json(translate.feature_detail(detail, environment_variants=with_variants))

    async def get_feature_environment(self, request: Request, who: Principal, _: Any) -> Response:
        await self.services.answers.mark(request, who)
        project, feature, environment = _where(request)
        env = await self.services.flags.flag_environment(who, project, feature, environment)
        return json(translate.feature_environment(feature, env))

    async def archive_feature(self, request: Request, who: Principal, _: Any) -> Response:
        p = request.path_params
        await self.services.flags.archive_flag(who, p["project"], p["feature"])
        return empty(202)

    async def archive_features(self, request: Request, who: Principal, body: Any) -> Response:
        names = translate.batch_features(body)
        await self.services.flags.archive_flags(who, request.path_params["project"], names)
        return empty(202)

    async def revive_feature(self, request: Request, who: Principal, _: Any) -> Response:
        await self.services.flags.revive_flag(who, request.path_params["feature"])
        return empty(200)

    async def revive_features(self, request: Request, who: Principal, body: Any) -> Response:
        # Unleash takes any content type here; a body it did not parse is an empty object.
        names = translate.batch_features({} if body is NO_BODY else body)
        await self.services.flags.revive_flags(who, request.path_params["project"], names)
        return empty(200)

    async def delete_archived_feature(self, request: Request, who: Principal, _: Any) -> Response:
        await self.services.flags.delete_archived_flag(who, request.path_params["feature"])
        return empty(200)

    async def environment_variants(self, request: Request, who: Principal, _: Any) -> Response:
        variants = await self.services.flags.environment_variants(who, *_where(request))
        return json({"version": 1, "variants": variants})

    async def put_environment_variants(
        self, request: Request, who: Principal, body: Any
    ) -> Response:
        schema.validate(body, schema.ENVIRONMENT_VARIANTS, "/body")
        project, feature, _env = _where(request)
        await self.services.flags.refuse_environment_variants(who, project, feature)

    async def patch_environment_variants(
        self, request: Request, who: Principal, body: Any
    ) -> Response:
        schema.validate(body, schema.PATCHES, "/body")
        project, feature, _env = _where(request)
        await self.services.flags.refuse_environment_variants(who, project, feature)

    async def list_strategies(self, request: Request, who: Principal, _: Any) -> Response:
        views = await self.services.flags.rules(who, *_where(request))
        return json([translate.strategy(v, listed=True) for v in views])

    async def add_strategy(self, request: Request, who: Principal, body: Any) -> Response:
        view = await self.services.flags.add_rule(who, *_where(request), translate.rule_input(body))
        return json(translate.strategy(view))

    async def get_strategy(self, request: Request, who: Principal, _: Any) -> Response:
        view = await self.services.flags.rule(
            who, *_where(request), request.path_params["strategy_id"]
        )
        return json(translate.strategy(view))

    async def update_strategy(self, request: Request, who: Principal, body: Any) -> Response:
        strategy_id = request.path_params["strategy_id"]
        view = await self.services.flags.update_rule(
            who, *_where(request), strategy_id, translate.rule_input(body, update=True)
        )
        return json(translate.strategy(view))

    async def delete_strategy(self, request: Request, who: Principal, _: Any) -> Response:
        await self.services.flags.delete_rule(
            who, *_where(request), request.path_params["strategy_id"]
        )
        return empty(200)

    async def enable(self, request: Request, who: Principal, _: Any) -> Response:
        await self.services.flags.set_enabled(who, *_where(request), True)
        return empty(200)

    async def disable(self, request: Request, who: Principal, _: Any) -> Response:
        await self.services.flags.set_enabled(who, *_where(request), False)
        return empty(200)

    # --- the client API -------------------------------------------------------------------
    async def client_features(self, request: Request, who: Principal, _: Any) -> Response:
        await self.services.answers.mark(request, who, client.VARY)
        query = client.parse_query(request)
        snapshot = await self.services.flags.client_snapshot(
            who, projects=query.projects, name_prefix=query.name_prefix, tags=query.tags
        )
        return client.features_response(request, snapshot, query)

    async def client_feature(self, request: Request, who: Principal, _: Any) -> Response:
        inline = client.inline_segments(request)
        snapshot = await self.services.flags.client_snapshot(
            who, only=request.path_params["feature"]
        )
        return json(translate.client_feature(snapshot.flags[0], snapshot, inline=inline))

    async def accepted(self, request: Request, who: Principal, body: Any) -> Response:
        client.check_report(request.url.path, body)
        return empty(202)

    async def registered(self, request: Request, who: Principal, body: Any) -> Response:
        client.check_report(request.url.path, body)
        self.services.sdks.seen("unleash", body["appName"])  # required by the check
        return empty(202)


class TrailingSlash:
    """Express routes match with or without a trailing slash; so do these (no redirect)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/"):
                trimmed = path.rstrip("/") or "/"
                scope = {**scope, "path": trimmed}
        await self.app(scope, receive, send)
