"""The v2.3 segments API as a surface of the gateway (``dialects.registry``)."""

from dialects.registry import Surface
from dialects.v23 import errors, routes
from dialects.v23.view import VIEW

SURFACE = Surface(
    name="v23",
    label="v2.3",
    prefix="/v2.3",
    build=routes.build,
    render_http=errors.render_http,
    spec="v23",
    sandboxed=True,
    view=VIEW,
    codec="gateway.migrate.v23",
)
