"""Unleash's admin and client APIs as a surface of the gateway (``dialects.registry``)."""

from dialects.registry import Surface
from dialects.unleash import errors, routes
from dialects.unleash.view import VIEW

SURFACE = Surface(
    name="unleash",
    label="Unleash",
    prefix="/api",
    build=routes.build,
    render_http=errors.render_http,
    spec="unleash",
    sandboxed=True,
    view=VIEW,
    codec="gateway.migrate.unleash",
)
