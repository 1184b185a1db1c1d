"""``/segmux/ui``: the portability page — one static HTML page, its script and its stylesheet.

The page holds no data: in the browser it asks for an API token and calls ``/segmux/v1`` (list
with every rendering, evaluate) like any other client. So this app only serves the fixed files of
``static/`` (read once at build time; no directory listing, no path from the request ever touches
the file system) with headers that forbid inline script, foreign origins and MIME sniffing. The
page's one generated part, its dialect columns, is written into it at build time from the
registry (every surface with a view, in the order ``renderings`` lists them).
Anything else under the mount is a plain-text 404 (405 for a method other than GET/HEAD).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

STATIC = Path(__file__).with_name("static")
INDEX = "index.html"
COLUMNS_MARK = b"<!-- surfaces -->"
"""Where the page's dialect column headers go."""

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}

# default-src 'self' covers script, style, img and connect (fetch to /segmux/v1); the others do
# not fall back to default-src, so they are closed explicitly. No 'unsafe-inline' anywhere.
CSP = (
    "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    # Small files that change with the code: revalidate rather than serve a stale script.
    "Cache-Control": "no-cache",
}


def load_assets(folder: Path = STATIC) -> dict[str, tuple[bytes, str]]:
    """Every servable file of ``folder`` by name: its bytes and media type."""
    return {
        path.name: (path.read_bytes(), MEDIA_TYPES[path.suffix])
        for path in sorted(folder.iterdir())
        if path.is_file() and path.suffix in MEDIA_TYPES
    }


def column_headers() -> str:
    """One ``<th>`` per surface with a view: its name (the key of its rendering), its label,
    what the column holds, and whether a segment is only a name there."""
    from dialects.registry import SURFACES  # the registry imports this module's surface

    cells = []
    for surface in SURFACES:
        if surface.view is None:
            continue
        view = surface.view
        name_only = ' data-name-only="true"' if view.name_only else ""
        cells.append(
            f'<th scope="col" data-dialect="{escape(surface.name)}"{name_only}>'
            f"{escape(view.heading or surface.label)} <span>{escape(view.shows)}</span></th>"
        )
    return "\n              ".join(cells)


def with_columns(assets: dict[str, tuple[bytes, str]]) -> dict[str, tuple[bytes, str]]:
    page, media_type = assets[INDEX]
    if COLUMNS_MARK not in page:
        raise ValueError(f"{INDEX} has no {COLUMNS_MARK.decode()} for the dialect columns")
    return {**assets, INDEX: (page.replace(COLUMNS_MARK, column_headers().encode()), media_type)}


def _plain(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return PlainTextResponse(
        text, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})}
    )


def build() -> Starlette:
    assets = with_columns(load_assets())

    def serve(name: str) -> Response:
        found = assets.get(name)
        if found is None:
            return _plain(404, "Not Found")
        content, media_type = found
        return Response(content, media_type=media_type, headers=SECURITY_HEADERS)

    async def page(request: Request) -> Response:
        return serve(INDEX)

    async def asset(request: Request) -> Response:
        return serve(request.path_params["name"])

    async def routing_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            return _plain(405, "Method Not Allowed", {"Allow": "GET, HEAD"})
        return _plain(exc.status_code, "Not Found" if exc.status_code == 404 else str(exc.detail))

    return Starlette(
        routes=[Route("/", page, methods=["GET"]), Route("/{name}", asset, methods=["GET"])],
        exception_handlers={HTTPException: routing_error},
    )
