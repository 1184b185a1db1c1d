"""``GET /`` from a browser: a short page pointing to the portability page and the specs.

The root belongs to the HAL dialect (its root resource, behind a token). A person who opens the
gateway's address in a browser would get a bare 401 there, so a request that prefers HTML — it
names ``text/html`` at least as high as any JSON type, as browsers do — gets this page instead
(like Spring Data REST, which sends browsers to its HAL explorer). HAL clients ask for
``application/hal+json``, ``application/json`` or ``*/*`` and still get the HAL root. The page is
fixed text: no data, no script, no token needed.
"""

from __future__ import annotations

import html
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

import openapi
from dialects.segmux.ui import SECURITY_HEADERS

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_API_TYPES = ("application/hal+json", "application/json")
_HEADERS = {
    **SECURITY_HEADERS,
    # Nothing to load: no script, style or image of its own.
    "Content-Security-Policy": "default-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
    # The same URL answers HAL to API clients: a cache must key on Accept.
    "Vary": "Accept",
}


def prefers_html(accept: str) -> bool:
    """Whether an Accept header ranks an HTML type above zero and no lower than any JSON type
    (wildcards do not count as asking for HTML)."""
    weights: dict[str, float] = {}
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        weights[media] = max(q, weights.get(media, 0.0))
    html_q = max((weights.get(t, 0.0) for t in _HTML_TYPES), default=0.0)
    api_q = max((weights.get(t, 0.0) for t in _API_TYPES), default=0.0)
    return html_q > 0 and html_q >= api_q


def page() -> bytes:
    specs = "\n".join(
        f'<li><a href="/segmux/openapi/{n}.json">{html.escape(n)}</a></li>' for n in openapi.names()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>segmux</title></head>
<body>
<h1>segmux</h1>
<p>One store of audience segments behind five vendors' segment APIs.</p>
<ul>
<li><a href="/segmux/ui/">The portability page</a>: every segment in every dialect
(paste an API token).</li>
<li>The OpenAPI spec of each API:
<ul>
{specs}
</ul></li>
<li><a href="/healthz">/healthz</a> and <a href="/readyz">/readyz</a></li>
</ul>
<p>API clients: <code>GET /</code> with <code>Accept: application/hal+json</code> and a token
is the HAL root resource (the Individual Segments API).</p>
</body></html>
""".encode()


class BrowserRoot(BaseRoute):
    """Takes ``GET``/``HEAD /`` only when the request prefers HTML; everything else falls
    through to the routes after it (HAL's root)."""

    def __init__(self) -> None:
        self.body = page()

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["path"] == "/" and scope["method"] in ("GET", "HEAD"):
            accept = ", ".join(
                value.decode("latin-1") for name, value in scope["headers"] if name == b"accept"
            )
            if prefers_html(accept):
                return Match.FULL, {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = Response(self.body, media_type="text/html; charset=utf-8", headers=_HEADERS)
        await response(scope, receive, send)

    def __repr__(self) -> str:
        return "BrowserRoot()"
