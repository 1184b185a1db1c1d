"""Adobe's Segmentation API and its IMS token endpoint as surfaces of the gateway
(``dialects.registry``)."""

from dialects.adobe import errors, ims, routes
from dialects.registry import Surface

SURFACE = Surface(
    name="adobe", label="Adobe", prefix="/data/core/ups", build=routes.build,
    render_http=errors.render_http, spec="adobe",
)

IMS = Surface(
    name="ims", label="Adobe IMS", prefix="/ims", build=ims.build, render_http=ims.render_http,
)
