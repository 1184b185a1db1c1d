"""Cross-origin requests from browsers (CORS), for the APIs made to be called from web pages.

Only a surface that browsers call directly wraps its app in :class:`Cors` (the Unleash frontend
API, OFREP); every other API sends no CORS header, so a browser keeps other sites' pages from
reading its answers. The behaviour follows what Unleash's frontend API answers (the ``cors``
package as Unleash configures it), narrowed where segmux can be sure of what its clients need:

* every answer says ``Vary: Origin`` and exposes ``ETag`` (the browser SDKs poll with it);
* ``Access-Control-Allow-Origin`` is ``*`` when any origin is allowed, else the request's
  ``Origin`` if it is listed, else absent — the browser then refuses the answer to the page;
* a preflight (``OPTIONS``) is answered here, before any token is asked for (browsers send
  none with it): ``204``, the allowed methods and request headers, and how long to keep them;
* credentials (cookies) are never allowed: no API of segmux reads a cookie, so a page has no
  reason to send one.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_AGE = 86_400
"""Seconds a browser may keep a preflight's answer (Unleash's default ``accessControlMaxAge``)."""


class Cors:
    """``app`` answered with CORS headers for ``origins`` (``("*",)``: any origin)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        origins: Sequence[str],
        methods: Sequence[str],
        headers: Sequence[str],
        expose: Sequence[str],
    ) -> None:
        self.app = app
        self.any_origin = "*" in origins
        self.origins = frozenset(o.encode("latin-1") for o in origins)
        self.preflight = [
            (b"access-control-allow-methods", ",".join(methods).encode()),
            (b"access-control-allow-headers", ",".join(headers).encode()),
            (b"access-control-max-age", str(MAX_AGE).encode()),
        ]
        self.expose = (b"access-control-expose-headers", ",".join(expose).encode())
        self.any_headers = (
            [(b"vary", b"Origin"), (b"access-control-allow-origin", b"*"), self.expose]
            if self.any_origin
            else None
        )
        """Every request's headers when any origin is allowed (only copied, never changed)."""

    def allow_origin(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        """The ``Access-Control-Allow-Origin`` header this request gets (none if refused)."""
        if self.any_origin:
            return [(b"access-control-allow-origin", b"*")]
        origins = [v for k, v in scope["headers"] if k == b"origin"]
        if len(origins) == 1 and origins[0] in self.origins:
            return [(b"access-control-allow-origin", origins[0])]
        return []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = self.any_headers or [(b"vary", b"Origin"), *self.allow_origin(scope), self.expose]
        if scope["method"] == "OPTIONS":
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [*headers, *self.preflight, (b"content-length", b"0")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *headers]}
            await send(message)

        await self.app(scope, receive, with_cors)
