"""What a request cut by shutdown gets: a 503 in its dialect's format, not uvicorn's bare 500.

On SIGTERM uvicorn lets in-flight requests run for the grace (``segmux serve --grace``), then
cancels the ones still running and would answer each with a plain-text ``500 Internal Server
Error``. A request the gateway gave up on because it is stopping is not a server bug: it is
"unavailable here, retry" (another process behind the load balancer will take it), so it is
answered ``503`` with ``Retry-After`` in the format of the dialect it was sent to.

The cancellation is caught by ``gateway.middleware.RequestContext`` (the outermost layer, which
already tracks whether the response started); this module holds what it answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from gateway.logging import get_logger

_log = get_logger("segmux")

Render = Callable[[Request, Exception], Awaitable[Response]]


async def shutdown_response(scope: Scope, render: Render) -> Response:
    """The 503 for a request cut by shutdown before its response started, by ``render``."""
    _log.warning("request cut by shutdown", path=scope["path"])
    exc = HTTPException(
        503, "the gateway is shutting down; retry the request", headers={"Retry-After": "1"}
    )
    return await render(Request(scope), exc)
