"""The API surfaces segmux serves, one descriptor each, in one list.

Everything that does something per surface reads this list — the app that mounts them and
renders their routing errors, the portability matrix (``dialects.renderings``) and the UI's
columns, migrate's endpoints and help text, the tests that loop over them — so a new surface is
one package under ``dialects/`` with a ``surface.py`` exporting ``SURFACE``, and one line here
(ARCHITECTURE.md, "Adding an API surface")."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp

from dialects.ports import Services
from dialects.views import SegmentRendering

RenderError = Callable[[Request, Exception], Response]


@dataclass(frozen=True)
class Surface:
    """One API surface: its name, where it lives, how it is built, how it answers errors."""

    name: str
    """Short name (``unleash``): in specs' URLs, migrate endpoints and renderings."""
    label: str
    """What a person reads (``Unleash``): the UI's columns, messages."""
    prefix: str | None
    """Mount prefix (``/api``); ``None`` for a surface at the root that takes only its own
    paths (it is mounted last, so it never shadows a prefix)."""
    build: Callable[[Services], ASGIApp]
    """The surface's ASGI app over the process's use cases."""
    render_http: RenderError
    """A routing error (404, 405) or a request cut by shutdown, in the surface's own format."""
    spec: str | None = None
    """Name of its OpenAPI document in ``openapi/`` (served at ``/segmux/openapi/<spec>.json``)."""
    sandboxed: bool = False
    """Serves only the token's default sandbox (others name the sandbox in the request)."""
    extra_routes: Callable[[], Sequence[BaseRoute]] = field(default=lambda: ())
    """Routes beside the surface's app that need no use case (static files)."""
    root_route: Callable[[ASGIApp, tuple[str, ...]], BaseRoute] | None = None
    """For a root surface: the route that takes its paths and none under ``reserved``."""
    view: SegmentRendering | None = None
    """How it shows a core segment (its column of the portability matrix); ``None`` for a
    surface that serves no segments or whose form is segmux's own."""
    serves_segments: bool = True
    """Whether segments are read or written through it (False: flags only, like OFREP)."""
    codec: str | None = None
    """Dotted path of its ``segmux migrate`` codec module (a client of the vendor's API,
    imported only when a migration names the surface); ``None``: not a migrate endpoint."""
    express: tuple[str, ...] = ()
    """Paths under ``prefix`` whose ``GET`` is hot enough to skip the gateway's router
    (``gateway.express``): polls no kept answer can serve."""

    def express_paths(self) -> tuple[str, ...]:
        return tuple(f"{self.prefix}{path}" for path in self.express if self.prefix is not None)

    def routes(self, services: Services, reserved: tuple[str, ...] = ()) -> list[BaseRoute]:
        app = self.build(services)
        if self.prefix is None:
            if self.root_route is None:
                raise ValueError(f"surface {self.name!r} at the root needs a root_route")
            main: BaseRoute = self.root_route(app, reserved)
        else:
            main = Mount(self.prefix, app=app)
        return [*self.extra_routes(), main]


def _surfaces() -> tuple[Surface, ...]:
    from dialects.adobe.surface import IMS
    from dialects.adobe.surface import SURFACE as ADOBE
    from dialects.confidence.surface import SURFACE as CONFIDENCE
    from dialects.hal.surface import SURFACE as HAL
    from dialects.ofrep.surface import SURFACE as OFREP
    from dialects.segmux.surface import SURFACE as SEGMUX
    from dialects.unleash.surface import SURFACE as UNLEASH
    from dialects.v23.surface import SURFACE as V23

    return (V23, UNLEASH, SEGMUX, ADOBE, IMS, CONFIDENCE, OFREP, HAL)


SURFACES: tuple[Surface, ...] = _surfaces()
"""Every surface, prefixed ones first, root ones last (the order they are mounted in)."""


def by_name(name: str) -> Surface:
    for surface in SURFACES:
        if surface.name == name:
            return surface
    raise KeyError(name)


def owner_of(path: str) -> Surface | None:
    """The prefixed surface whose prefix ``path`` is under, if any."""
    for surface in SURFACES:
        if surface.prefix is not None and path.startswith(surface.prefix + "/"):
            return surface
    return None
