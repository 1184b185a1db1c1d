"""HTTP plumbing every dialect shares: reading bodies within the limit, decoding JSON, the
transport-level errors (413, 415, malformed JSON) each dialect renders in its own format, and a
last-resort guard so no exception ever reaches a client as a stack trace."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
import structlog
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import CoreError, Invalid


class Log:
    """A logger that follows the logging set-up in force at each call: a structlog logger bound
    at import would keep the set-up of that moment (the gateway configures logging after the
    dialects are imported). Used on rare paths only (errors, abandoned work), so building the
    bound logger per call costs nothing that matters."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, method: str) -> Any:
        return getattr(structlog.get_logger(self.name).bind(logger=self.name), method)


_log = Log("segmux.error")


ANSWER_KEY = "segmux.answer_key"
"""Scope key: the request's primary key (path, query, links' base: ``gateway.answers``), present
when the gateway may answer the request from the answers it keeps."""
ANSWER_MARK = "segmux.answer_mark"
"""Scope key: the mark a handler left (``Answers.mark``), making its 200 worth keeping."""


class TransportError(CoreError):
    """A request the dialect cannot even decode. ``status`` is the usual HTTP status; dialects
    whose vendor answers otherwise (Confidence: always 400) override it when rendering."""

    status = 400


class MalformedJSON(TransportError):
    status = 400


class BodyTooLarge(TransportError):
    status = 413


class DuplicateHeader(TransportError):
    """A header that must be sent once came more than once (``Authorization``): refused rather
    than resolved, since the layers in front of segmux may have resolved it otherwise."""

    status = 400

    def __init__(self, name: str) -> None:
        super().__init__(f"the {name} header must be sent at most once")
        self.name = name


class UnsupportedMediaType(TransportError):
    status = 415

    def __init__(self, content_type: str | None) -> None:
        super().__init__(f"unsupported content type {content_type!r}")
        self.content_type = content_type


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with ``BodyTooLarge`` as soon as it passes ``limit`` bytes (checked on
    the declared length first, then while streaming, so a lying client cannot exceed it)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def require_json_content_type(request: Request) -> None:
    content_type = request.headers.get("content-type")
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaType(content_type)


_json = msgspec.json.Decoder()
MAX_JSON_DEPTH = 64


def decode_json(body: bytes) -> Any:
    """Decode JSON text (UTF-8) into Python values, or raise ``MalformedJSON``; nesting deeper
    than :data:`MAX_JSON_DEPTH` is refused before decoding so it cannot exhaust the stack."""
    # Counting brackets runs in C; the Python scan only runs when nesting could be too deep.
    brackets = body.count(b"[") + body.count(b"{")
    if brackets > MAX_JSON_DEPTH and _nesting_depth(body) > MAX_JSON_DEPTH:
        raise MalformedJSON(f"JSON nesting deeper than {MAX_JSON_DEPTH}")
    try:
        return _json.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise MalformedJSON(f"malformed JSON: {exc}") from exc


def _nesting_depth(body: bytes) -> int:
    """Bracket depth outside strings: a linear scan, cheap next to decoding."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


RESPONSE_STATE = "segmux.response"
"""Scope key of the :class:`ResponseState` the gateway's outermost middleware keeps."""


class ResponseState:
    """The status of the response once it started (0 before): kept by the one ``send`` wrapper
    of the outermost middleware, so inner layers need not wrap ``send`` to know it."""

    __slots__ = ("status",)

    def __init__(self) -> None:
        self.status = 0


class CatchAll:
    """Innermost guard of a dialect app: an unexpected exception becomes a 500 in the dialect's
    own format (logged with its traceback, never sent), if no response has started yet."""

    def __init__(self, app: ASGIApp, render: Callable[[Request, Exception], Response]) -> None:
        self.app = app
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.get(RESPONSE_STATE)
        if isinstance(state, ResponseState):  # the gateway tracks the response: no wrapper
            try:
                await self.app(scope, receive, send)
            except Exception as exc:
                await self._failed(scope, receive, send, exc, started=state.status != 0)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            await self._failed(scope, receive, send, exc, started=started)

    async def _failed(
        self, scope: Scope, receive: Receive, send: Send, exc: Exception, *, started: bool
    ) -> None:
        _log.exception("unhandled", path=scope.get("path"))
        if started:
            raise exc
        response = self.render(Request(scope, receive), exc)
        await response(scope, receive, send)


Endpoint = Callable[[Request], Awaitable[Response]]


def route(path: str, **handlers: Endpoint) -> Route:
    """One route per path with a handler per method, so an unsupported method gets a 405 whose
    ``Allow`` lists every method of the path (Starlette's per-route 405 would list one route's)."""

    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await handlers[method](request)

    return Route(path, endpoint, methods=list(handlers))


_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allow_header(exc: HTTPException) -> str:
    """Starlette's 405 ``Allow`` comes from a set; give it one stable, conventional order."""
    methods = {m.strip() for m in (exc.headers or {}).get("Allow", "").split(",") if m.strip()}
    ordered = [m for m in _METHOD_ORDER if m in methods]
    return ", ".join(ordered + sorted(methods - set(ordered)))


T = TypeVar("T")


def convert(value: Any, into: type[T]) -> T:
    """Typed view of decoded JSON, or ``Invalid`` naming the field (msgspec's ``$.a.b`` path)."""
    try:
        return msgspec.convert(value, into)
    except msgspec.ValidationError as exc:
        text = str(exc)
        field = ""
        if " - at `$" in text:
            text, _, where = text.partition(" - at `$")
            field = where.rstrip("`").lstrip(".")
        raise Invalid(field, text) from exc


BASE_URL = "segmux.base_url"
"""Scope key: scheme://host[:port][/prefix] of the links and locations this request's answer
writes, decided by the gateway (``SEGMUX_PUBLIC_URL``, else forwarded headers from a trusted
proxy, else the address the client connected to) — never the client's ``Host`` header."""


def base_url(request: Request) -> str:
    """Where links in the answer to ``request`` point (no trailing slash)."""
    decided = request.scope.get(BASE_URL)
    if isinstance(decided, str):
        return decided
    return connected_url(request.scope)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def connected_url(scope: Scope) -> str:
    """scheme://address[:port] the client connected to (the socket's own address)."""
    scheme = scope.get("scheme", "http")
    server = scope.get("server")
    if not server:
        return f"{scheme}://localhost"
    host, port = server[0], server[1]
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


# --- where tokens come from on the wire ---------------------------------------------------------
#
# Each dialect picks its extractor; checking the token is
# ``core.tokens.TokenService.authenticate``. Nothing here logs or keeps a token. A request carrying
# ``Authorization`` more than once is refused (``DuplicateHeader``: a 400 in the dialect's own
# format) rather than resolved by picking one: proxies and frameworks disagree on which of two
# copies wins (the first, the last, both joined with a comma), so whichever segmux picked, some
# layer in front of it may have checked the other one.


def _authorization(request: Request) -> str:
    values = request.headers.getlist("authorization")
    if len(values) > 1:
        raise DuplicateHeader("Authorization")
    return values[0] if values else ""


def bearer_token(request: Request) -> str | None:
    """``Authorization: Bearer <token>`` (scheme case-insensitive), else None."""
    scheme, _, token = _authorization(request).partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def raw_or_bearer_token(request: Request) -> str | None:
    """Unleash style: ``Authorization: <token>``, with an optional ``Bearer`` prefix stripped."""
    return raw_or_bearer(_authorization(request))


def raw_or_bearer(header: str) -> str | None:
    """The token of one ``Authorization`` value, Unleash style (see above)."""
    header = header.strip()
    scheme, _, rest = header.partition(" ")
    if scheme.lower() == "bearer":
        return rest.strip() or None
    return header or None
