"""The express lane: a ``GET`` of one of a few hot exact paths (``Surface.express``: the
frontend API's poll, which browsers send every few seconds and no kept answer can serve) goes
straight to the route that takes it, without Starlette's router trying every route before it
and without its exception layer (the surface's own app has one). Measured on the frontend
poll: the router's walk and that layer were some 10% of a request's CPU.

Nothing changes for the request: the route is the one the router would choose — checked once
here, for the exact path, against every route before it — and it gets the scope the router
would give it (``matches``' child scope, ``route``, ``router``). A request with a
``root_path`` (an ASGI server mounted under a prefix) takes the router as always.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send


class Express:
    """Starlette middleware (inside its error layer, outside its exception layer)."""

    def __init__(self, app: ASGIApp, router: Router, paths: tuple[str, ...]) -> None:
        self.app = app
        self.router = router
        self.routes = {path: route for path in paths if (route := chosen(router, path)) is not None}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            route = self.routes.get(scope["path"])
            if route is not None:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    # What ``Router.app`` does with the route it chose.
                    scope.setdefault("router", self.router)
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def chosen(router: Router, path: str) -> BaseRoute | None:
    """The route the router gives a ``GET`` of ``path`` (no root path), if the choice depends
    on nothing else: every route before it a plain ``Route`` or ``Mount``, whose match reads
    only the path and the method. None otherwise (the router decides, per request)."""
    scope: Scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
    for route in router.routes:
        if type(route) not in (Route, Mount):
            return None
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
    return None
