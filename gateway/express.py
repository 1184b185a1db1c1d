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
        self.routes: dict[str, tuple[BaseRoute, Scope]] = {}
        for path in paths:
            route = chosen(router, path)
            if route is not None:
                self.routes[path] = (route, route.matches(_get(path))[1])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            found = self.routes.get(scope["path"])
            if found is not None:
                route, child_scope = found
                if "path_params" in scope or "app_root_path" in scope:
                    # Not a server's own scope: ``matches`` derives the child scope from it.
                    child_scope = route.matches(scope)[1]
                # What ``Router.app`` does with the route it chose; the child scope is the one
                # ``matches`` gives a server's scope of this path (``path_params`` a new dict).
                scope.setdefault("router", self.router)
                scope["route"] = route
                scope.update(child_scope)
                scope["path_params"] = dict(child_scope["path_params"])
                await route.handle(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _get(path: str) -> Scope:
    """The scope a server gives a ``GET`` of ``path``, as far as routes read it."""
    return {"type": "http", "method": "GET", "path": path, "root_path": ""}


def chosen(router: Router, path: str) -> BaseRoute | None:
    """The route the router gives a ``GET`` of ``path`` (no root path), if the choice depends
    on nothing else: every route before it a plain ``Route`` or ``Mount``, whose match reads
    only the path and the method. None otherwise (the router decides, per request)."""
    scope = _get(path)
    for route in router.routes:
        if type(route) not in (Route, Mount):
            return None
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
    return None
