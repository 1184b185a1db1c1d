"""The express lane (``gateway.express``): the hot paths it serves go to the route Starlette's
router would choose for them, and nothing else takes it."""

from __future__ import annotations

from typing import Any

from starlette.routing import Mount, Route, Router

from dialects.registry import SURFACES
from gateway.express import chosen


async def _endpoint(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("never called")


def test_each_express_path_takes_its_surface_s_mount(app: Any) -> None:
    paths = [(s, p) for s in SURFACES for p in s.express_paths()]
    assert ("unleash", "/api/frontend") in [(s.name, p) for s, p in paths]
    for surface, path in paths:
        route = chosen(app.router, path)
        assert isinstance(route, Mount) and route.path == surface.prefix, (path, route)


def test_the_first_full_match_wins_and_anything_unusual_leaves_it_to_the_router() -> None:
    first = Route("/a/b", _endpoint, methods=["POST"])  # a partial match for a GET
    mount = Mount("/a", app=_endpoint)
    router = Router([first, mount, Route("/a/b", _endpoint)])
    assert chosen(router, "/a/b") is mount
    assert chosen(router, "/nowhere") is None
    # A route whose match may read more than the path and method: the router decides.
    odd = type("OddRoute", (Route,), {})("/x", _endpoint)
    assert chosen(Router([odd, mount]), "/a/b") is None
