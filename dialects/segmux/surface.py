"""segmux's own API and its portability page as a surface of the gateway
(``dialects.registry``)."""

from starlette.routing import BaseRoute, Mount

from dialects.registry import Surface
from dialects.segmux import errors, routes, ui


def _ui() -> list[BaseRoute]:
    # The portability page: static files only; it calls /segmux/v1 from the browser.
    return [Mount("/segmux/ui", app=ui.build())]


SURFACE = Surface(
    name="segmux",
    label="segmux",
    prefix="/segmux/v1",
    build=routes.build,
    render_http=errors.render_http,
    spec="segmux",
    extra_routes=_ui,
    codec="gateway.migrate.segmux",
)
