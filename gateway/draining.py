"""What a request cut by shutdown gets: a 503 in its dialect's format, not uvicorn's bare 500.

On SIGTERM uvicorn lets in-flight requests run for the grace (``segmux serve --grace``), then
cancels the ones still running and would answer each with a plain-text ``500 Internal Server
Error``. A request the gateway gave up on because it is stopping is not a server bug: it is
"unavailable here, retry" (another process behind the load balancer will take it), so it is
answered ``503`` with ``Retry-After`` in the format of the dialect it was sent to.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.logging import get_logger

_log = get_logger("segmux")

Render = Callable[[Request, Exception], Awaitable[Response]]


class CutByShutdown:
    """Pure ASGI: turn the shutdown's cancellation of a request that has not started its
    response into a 503 rendered by ``render`` (the app's per-prefix error renderer)."""

    def __init__(self, app: ASGIApp, render: Render) -> None:
        self.app = app
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except asyncio.CancelledError:
            # uvicorn cancels request tasks only when the shutdown grace ran out (a client
            # going away is a message, not a cancellation), so this is the end of the process.
            if started:
                raise  # a response was under way: nothing well-formed can follow it
            _log.warning("request cut by shutdown", path=scope["path"])
            exc = HTTPException(503, "the gateway is shutting down; retry the request",
                                headers={"Retry-After": "1"})
            response = await self.render(Request(scope), exc)
            await response(scope, receive, send)
