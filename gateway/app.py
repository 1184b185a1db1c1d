"""The ASGI application: every dialect mounted at its native paths on one port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

import openapi
from core.errors import CoreError
from core.store import Store, open_store
from dialects.registry import SURFACES, owner_of
from gateway.express import Express
from gateway.gc_tuning import tune_gc
from gateway.logging import configure, get_logger
from gateway.logging import flush as flush_logs
from gateway.metrics import build_metrics
from gateway.middleware import Edge, RequestContext
from gateway.services import Services
from gateway.settings import Settings, trusted_proxies
from gateway.welcome import BrowserRoot

_log = get_logger("segmux")


async def seed_admin_token(services: Services) -> None:
    """``SEGMUX_ADMIN_TOKEN`` becomes an admin token of tenant ``default`` (idempotent)."""
    token = services.settings.admin_token
    if token:
        await services.tokens.ensure(
            tenant="default", scope="admin", name="SEGMUX_ADMIN_TOKEN", token=token
        )


class Gateway(Starlette):
    """Starlette with the gateway's one middleware (request id, access log, metrics, kept
    answers, the shutdown's 503: ``gateway.middleware``) outside everything Starlette adds: a
    kept answer is sent without entering Starlette's error layers, and a 500 from them still
    carries the request id and is logged and counted."""

    context: RequestContext

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        await self.context(scope, receive, send)


def create_app(settings: Settings | None = None, store: Store | None = None) -> Starlette:
    """Build the app. With ``store`` the caller owns it (tests); otherwise the lifespan opens
    the store named by the settings and closes it on shutdown."""
    settings = settings or Settings.from_env()
    services = Services(settings)
    if store is not None:
        services.attach(store)
    metrics, metrics_endpoint = build_metrics(services, settings.metrics, services.sdks)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = store is None
        if owned:
            services.attach(await open_store(settings.database_url, settings.store_limits()))
        await seed_admin_token(services)
        _log.info("started", store=_safe_url(services.store.url))
        refreshing = None
        if metrics is not None and metrics.directory is not None:
            refreshing = asyncio.get_running_loop().create_task(metrics.refresh_forever())
        try:
            yield
        finally:
            if refreshing is not None:
                refreshing.cancel()
            if owned:
                await services.store.close()
            _log.info("stopped")  # after in-flight requests finished and the store closed
            flush_logs()  # every line of the requests before the next lines of the process

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        try:
            await services.store.ping()
        except (CoreError, RuntimeError) as exc:
            return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
        return JSONResponse({"status": "ok"})

    async def spec(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in openapi.names():
            return JSONResponse({"error": "no such spec", "specs": openapi.names()}, 404)
        return Response(openapi.as_json(name), media_type="application/json")

    # A path under a surface's prefix that no route takes (even one the Mount's pattern cannot
    # match, e.g. with a newline) is answered in that surface's own format; the root surface
    # (HAL) answers the rest.
    prefixes = tuple(s.prefix for s in SURFACES if s.prefix is not None)
    root = [s for s in SURFACES if s.prefix is None]

    async def not_routed(request: Request, exc: Exception) -> Response:
        owner = owner_of(request.url.path)
        if owner is not None:
            return owner.render_http(request, exc)
        assert isinstance(exc, HTTPException)
        return JSONResponse({"error": exc.detail}, exc.status_code, headers=exc.headers)

    async def cut_short(request: Request, exc: Exception) -> Response:
        """A request cut by shutdown, in its surface's format (the root surface's otherwise)."""
        owner = owner_of(request.url.path) or root[0]
        return owner.render_http(request, exc)

    app = Gateway(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            Route("/segmux/openapi/{name}.json", spec),
            *(r for s in SURFACES if s.prefix is not None for r in s.routes(services)),
            BrowserRoot(),  # `/` for a browser: where the UI and the specs are; HAL's otherwise
            # Last: root surfaces take only their own paths, so they never shadow a prefix.
            *(r for s in root for r in s.routes(services, reserved=("/segmux", *prefixes))),
        ],
        exception_handlers={HTTPException: not_routed},
        lifespan=lifespan,
    )
    if metrics is not None:
        metrics.know_top_routes(app.routes)
    app.add_middleware(
        Express, router=app.router, paths=tuple(p for s in SURFACES for p in s.express_paths())
    )
    app.context = RequestContext(
        app.build_middleware_stack(),
        render=cut_short,
        answers=services.answers,
        edge=Edge(settings.public_url, trusted_proxies(settings)),
        metrics=metrics,
    )
    app.state.settings = settings
    app.state.services = services
    app.state.metrics = metrics
    return app


def app_from_env() -> Starlette:
    """Factory for ``uvicorn --factory`` and ``segmux serve`` workers."""
    settings = Settings.from_env()
    configure(settings.log_level, fmt=settings.log_format, serving=True)
    tune_gc()  # a serving process only: see gateway/gc_tuning.py
    return create_app(settings)


def _safe_url(url: str) -> str:
    """The store URL without its password, for logs."""
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
