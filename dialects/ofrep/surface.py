"""The OpenFeature Remote Evaluation Protocol as a surface of the gateway
(``dialects.registry``): flags, not segments, so no view and no migrate codec."""

from dialects.ofrep import errors, routes
from dialects.registry import Surface

SURFACE = Surface(
    name="ofrep",
    label="OFREP",
    prefix="/ofrep",
    build=routes.build,
    render_http=errors.render_http,
    spec="ofrep",
    serves_segments=False,
)
