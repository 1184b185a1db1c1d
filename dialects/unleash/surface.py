"""Unleash's admin, client and frontend APIs as a surface of the gateway (``dialects.registry``)."""

from dialects.registry import Surface
from dialects.unleash import errors, frontend
from dialects.unleash.view import VIEW

SURFACE = Surface(
    name="unleash",
    label="Unleash",
    prefix="/api",
    build=frontend.build,
    render_http=errors.render_http,
    spec="unleash",
    sandboxed=True,
    view=VIEW,
    codec="gateway.migrate.unleash",
    express=frontend.PREFIXES,  # the SDKs' poll
)
