"""The HAL Individual Segments API as a surface of the gateway (``dialects.registry``): it
lives at the root (``/``, ``/{projectId}/…``) and takes only its own paths."""

from dialects.hal import errors, routes
from dialects.hal.view import VIEW
from dialects.registry import Surface

SURFACE = Surface(
    name="hal",
    label="HAL",
    prefix=None,
    build=routes.build,
    render_http=errors.render_http,
    spec="hal",
    root_route=routes.HalRoutes,
    view=VIEW,
    codec="gateway.migrate.hal",
)
