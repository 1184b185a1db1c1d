"""Confidence's segments API (and its IAM token endpoint) as a surface of the gateway
(``dialects.registry``)."""

from dialects.confidence import errors, routes
from dialects.confidence.view import VIEW
from dialects.registry import Surface

SURFACE = Surface(
    name="confidence",
    label="Confidence",
    prefix="/v1",
    build=routes.build,
    render_http=errors.render_http,
    spec="confidence",
    sandboxed=True,
    view=VIEW,
    codec="gateway.migrate.confidence",
)
