"""Adobe's Segmentation API and its IMS token endpoint as surfaces of the gateway
(``dialects.registry``)."""

from dialects.adobe import errors, ims, routes
from dialects.adobe.view import VIEW
from dialects.registry import Surface

SURFACE = Surface(
    name="adobe",
    label="Adobe",
    prefix="/data/core/ups",
    build=routes.build,
    render_http=errors.render_http,
    spec="adobe",
    view=VIEW,
    codec="gateway.migrate.adobe",
)

IMS = Surface(
    name="ims",
    label="Adobe IMS",
    prefix="/ims",
    build=ims.build,
    render_http=ims.render_http,
)
