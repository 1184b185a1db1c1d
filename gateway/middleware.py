"""Pure ASGI middleware: request ids and access logs (cheap: no Request objects on the hot path)."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.logging import get_logger

_log = get_logger("segmux.access")
# An incoming X-Request-Id is kept only if it is short and tame, so logs cannot be forged.
_REQUEST_ID_RE = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")


class RequestContext:
    """Give each request an id (``X-Request-Id`` in, or a new UUID), bind it to every log line of
    the request, send it back, and log one access line when the response ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 0
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                _log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    status=status or 500,
                    ms=round((time.perf_counter() - started) * 1000, 2),
                )


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id" and _REQUEST_ID_RE.match(value):
            return value.decode()
    return None
