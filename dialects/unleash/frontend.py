"""Unleash's frontend API (``/api/frontend``), the one browser and mobile SDKs call: every
feature of the token's environment evaluated for one user's context, the enabled ones answered.

The pipeline is Unleash's (docs/dialects/unleash.md, "Frontend API"): CORS (``dialects.cors``;
a preflight is answered before any token) → JSON body parse → a frontend token (any other
kind: the wrong-token-kind 403) → content type → schema → the evaluation, by the one engine
the client API's SDKs agree with (``core.unleash_eval``).

Answers are never kept by the gateway (``gateway.answers``): what is enabled for a request
depends on more than the request's bytes and the tenant's revision — on the clock (date
constraints, ``DATE_AFTER``), on the caller's address (``remoteAddress`` defaults to it), and,
with no ``sessionId`` sent, on a random one drawn per request as Unleash does (random
rollouts). Each request is evaluated afresh, so a change is visible on the next one.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import random
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from core.errors import Invalid, Unauthorized
from core.model import Principal
from core.tokens import frontend_environment, require_frontend
from core.unleash_context import UnleashContext
from core.unleash_eval import FeatureAnswer
from core.unleash_variants import VariantAnswer
from dialects.cors import Cors
from dialects.handlers import SurfaceApi
from dialects.http import CatchAll, Endpoint, raw_or_bearer, raw_or_bearer_token, route
from dialects.ports import Services
from dialects.unleash import client, errors, routes, schema
from dialects.unleash.wire import JSON, Message, encode

PREFIXES = ("/frontend",)
"""Where the frontend API lives under ``/api``. (The older ``/api/proxy`` is a 404 on Unleash
8.2.0, and so here: a frontend token is still refused there, as on every other path.)"""
ROOT_FIELDS = ("appName", "environment", "userId", "sessionId", "remoteAddress")
"""Context fields Unleash keeps at the root; every other one goes under ``properties``."""
SDK_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "if-none-match",
    "unleash-appname",
    "unleash-connection-id",
    "unleash-sdk",
)
"""Request headers a page may send (what ``unleash-proxy-client`` sends)."""
NOT_IMPLEMENTED = "The frontend API does not support this endpoint."
_PROPERTY = re.compile(r"properties\[([^\[\]]+)\]")
# RFC 3339 date-time, the ``format: date-time`` of Unleash's context schema (ajv-formats: a
# date that exists, a time within the day, a zone).
_DATE_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:[Zz]|[+-](\d\d):?(\d\d))",
    re.ASCII,
)

_STRING: schema.Schema = {"type": "string"}
CONTEXT: schema.Schema = {
    "type": "object",
    "properties": {
        "appName": {"type": "string", "minLength": 1},
        "currentTime": _STRING,
        "environment": _STRING,
        "properties": {"type": "object", "additionalProperties": _STRING},
        "remoteAddress": _STRING,
        "sessionId": _STRING,
        "userId": _STRING,
    },
}
POST_BODY: schema.Schema = {"type": "object", "properties": {"context": CONTEXT}}
"""Unleash's ``frontendApiFeaturesPostSchema`` (its context: ``sdkContextSchema``'s fields)."""

FrontendHandler = Callable[[Request, Principal, Any], Awaitable[Response]]


def build(services: Services) -> ASGIApp:
    """The Unleash surface's app: the frontend API in front of the admin and client APIs."""
    return FrontendFirst(FrontendApi(services).app(), routes.build(services))


class FrontendFirst:
    """Paths of the frontend API go to its app (with CORS), every other one to ``rest``."""

    def __init__(self, frontend: ASGIApp, rest: ASGIApp) -> None:
        self.frontend = frontend
        self.rest = rest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _is_frontend(_route_path(scope)):
            await self.frontend(scope, receive, send)
        else:
            await self.rest(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path below the surface's mount (``/frontend/…``)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _is_frontend(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PREFIXES)


class Poll:
    """The SDKs' poll, ``GET /api/frontend``, answered in plain ASGI: the
    token, the query, the evaluation and the body, without Starlette's request, routing and
    error layers — the one request of this API that every browser makes every few seconds, and
    one no kept answer can serve. Anything but a plain success (no token or a refused one, a
    query no context can mean, a store that does not answer) is left to ``app``, the full
    pipeline, which answers it again from the start in Unleash's format (a GET has no body to
    have consumed, and reading changes nothing)."""

    def __init__(
        self, services: Services, app: ASGIApp, polls: dict[str, BaseRoute] | None = None
    ) -> None:
        self.services = services
        self.app = app
        self.polls = polls or {}
        """The route each poll path has in ``app``: the one this stands in for."""
        self.etags = ETags()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = _poll_path(scope)
        if path is not None:
            answer = await self._answer(scope)
            if answer is not None:
                # What Starlette's router would have left in the scope: the route that took
                # the request (the gateway's metrics label requests by its template).
                scope["route"] = self.polls.get(path)
                status, headers, body = answer
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        authorization: bytes | None = None
        if_none_match: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                if authorization is not None:
                    return None  # sent twice: the full pipeline's 400
                authorization = value
            elif name == b"if-none-match":
                if_none_match = value
        if authorization is None:
            return None
        client = scope.get("client")
        try:
            who = await self.services.tokens.authenticate(
                raw_or_bearer(authorization.decode("latin-1")), frontend_api=True
            )
            environment = frontend_environment(who)
            if environment is None:
                return None
            query = query_items(scope["query_string"].decode("latin-1"))
            context = query_context(query, client[0] if client else "")
            answers = await self.services.flags.evaluate_features(who, environment, context)
        except Exception:  # answered again, and in Unleash's words, by the full pipeline
            return None
        body = encode({"toggles": toggles(answers)})
        etag = self.etags.of(body)
        if if_none_match is not None and etag_matches(if_none_match.decode("latin-1"), etag[1]):
            return 304, [_NO_CACHE, (b"etag", etag[0])], b""
        return (
            200,
            [
                _JSON_TYPE,
                (b"content-length", str(len(body)).encode()),
                _NO_CACHE,
                (b"etag", etag[0]),
            ],
            body,
        )


_NO_CACHE = (b"cache-control", b"no-cache")
_JSON_TYPE = (b"content-type", JSON.encode())


def query_items(query: str) -> list[tuple[str, str]]:
    """What Starlette's ``query_params.multi_items()`` holds for a query string (decoded as
    latin-1): ``parse_qsl`` with blanks kept, and without it where nothing is escaped (a poll's
    usual ``appName=…&userId=…``), where it would only split."""
    if "%" in query or "+" in query:
        return parse_qsl(query, keep_blank_values=True)
    items = []
    for field in query.split("&"):
        if field:  # parse_qsl skips empty fields (``a=1&&b=2``)
            name, _, value = field.partition("=")
            items.append((name, value))
    return items


class ETags:
    """The weak ETags of the last few bodies: most polls of a tenant get one of a few bodies
    (the same features on for most users), and comparing bytes costs less than hashing them.
    Each: the header's bytes and its text."""

    LIMIT = 64
    LARGEST = 16 * 1024
    """Bytes of the largest body kept (at most ``LIMIT`` of them, 1 MiB)."""

    def __init__(self) -> None:
        self._known: dict[bytes, tuple[bytes, str]] = {}

    def of(self, body: bytes) -> tuple[bytes, str]:
        found = self._known.get(body)
        if found is None:
            text = weak_etag(body)
            found = (text.encode(), text)
            if len(body) > self.LARGEST:
                return found
            if len(self._known) >= self.LIMIT:
                self._known.clear()  # new bodies keep coming (variants per user): start over
            self._known[body] = found
        return found


def _poll_path(scope: Scope) -> str | None:
    """The prefix a GET of the frontend API's poll is under (None: not a poll)."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return None
    path = _route_path(scope).rstrip("/") or "/"
    return path if path in PREFIXES else None


class FrontendApi(SurfaceApi):
    def app(self) -> ASGIApp:
        guard = self._guard
        paths: list[Any] = []
        polls: dict[str, BaseRoute] = {}
        for prefix in PREFIXES:
            polls[prefix] = route(
                prefix, GET=guard(self.features), POST=guard(self.features, body=True)
            )
            paths += [
                polls[prefix],
                route(f"{prefix}/client/metrics", POST=guard(self.metrics, body=True)),
                route(f"{prefix}/client/register", POST=guard(self.register, body=True)),
                route(f"{prefix}/client/features", GET=guard(self.not_implemented)),
                route(f"{prefix}/health", GET=guard(self.not_implemented)),
                route(f"{prefix}/internal-backstage/prometheus", GET=guard(self.not_implemented)),
            ]
        app = Starlette(
            routes=paths,
            middleware=[Middleware(CatchAll, render=errors.server_error)],
            exception_handlers=errors.HANDLERS,
        )
        return Cors(
            Poll(self.services, routes.TrailingSlash(app), polls),
            origins=self.services.settings.cors_origins,
            methods=("GET", "POST"),
            headers=SDK_HEADERS,
            expose=("ETag",),
        )

    def _guard(self, handler: FrontendHandler, *, body: bool = False) -> Endpoint:
        services = self.services  # its use cases exist once the store is open: read per call

        async def run(request: Request) -> Response:
            data = await routes.early_body(request)
            try:
                who = await services.tokens.authenticate(
                    raw_or_bearer_token(request), frontend_api=True
                )
            except Unauthorized:
                # The frontend API's own 401 (as the client API's), whether no token or a bad one.
                return errors.respond(401, Message(message=errors.CLIENT_TOKEN_REQUIRED))
            require_frontend(who)
            if body:
                routes.require_json(request)
            return await handler(request, who, data)

        return run

    async def features(self, request: Request, who: Principal, body: Any) -> Response:
        environment = require_frontend(who)
        if request.method == "POST":
            context = post_context(body, _client_address(request))
        else:
            context = query_context(request.query_params.multi_items(), _client_address(request))
        answers = await self.services.flags.evaluate_features(who, environment, context)
        return features_response(request, toggles(answers))

    async def metrics(self, request: Request, who: Principal, body: Any) -> Response:
        client.check_report("/client/metrics", body)
        return _ok()

    async def register(self, request: Request, who: Principal, body: Any) -> Response:
        client.check_report("/client/register", body)
        self.services.sdks.seen("unleash", body["appName"])  # required by the check
        return _ok()

    async def not_implemented(self, request: Request, who: Principal, _: Any) -> Response:
        return errors.api_error(405, "NotImplementedError", NOT_IMPLEMENTED, with_id=True)


def _ok() -> Response:
    """Express's ``sendStatus(200)``, which Unleash answers metrics and registrations with."""
    return Response(b"OK", media_type="text/plain; charset=utf-8")


def _client_address(request: Request) -> str:
    """The caller's address as the gateway believes it (``gateway.middleware.Edge``: behind a
    trusted proxy, the forwarded one), Unleash's default ``remoteAddress``."""
    return request.client.host if request.client is not None else ""


# --- the context, as Unleash's create-context builds it -----------------------------------


def query_context(query: list[tuple[str, str]], address: str) -> UnleashContext:
    """The context of a GET: one query parameter per field, ``properties[name]=value`` for a
    property. A field sent twice, or a nesting other than ``properties[name]``, is refused:
    Unleash would evaluate a list or an object there, which no strategy can mean."""
    fields: dict[str, str] = {}
    properties: dict[str, str] = {}
    for key, value in query:
        found = _PROPERTY.fullmatch(key) if key.startswith("properties[") else None
        target, name = (properties, found[1]) if found else (fields, key)
        if name in target:
            raise Invalid("", f"the context field {key!r} is given more than once")
        if "[" in name or "]" in name:
            raise Invalid("", f"{key!r} is not a context field (properties go as properties[name])")
        if name == "properties":
            raise Invalid("", "properties go one by one, as properties[name]=value")
        target[name] = value
    return _create(fields, properties, address)


def post_context(body: Any, address: str) -> UnleashContext:
    """The context of a POST's ``{"context": {…}}``, checked against Unleash's schema (its
    coercions applied: a number for a string field becomes its text)."""
    if body is routes.NO_BODY:
        body = {}
    data = schema.validate(body, POST_BODY, "/body")
    context = data.get("context") or {}
    time = context.get("currentTime")
    if time is not None and not is_date_time(time):
        raise schema.SchemaError(
            "/body/context/currentTime",
            'The `/body/context/currentTime` property must match format "date-time". '
            f"You sent {encode(time).decode()}.",
        )
    fields: dict[str, str] = {}
    for name, value in context.items():
        if name == "properties":
            continue
        if value is None:
            continue
        if not isinstance(value, str):
            # Unleash passes it on to its SDK, whose operators compare strings: no strategy
            # could mean it. Refused rather than guessed at.
            path = f"/body/context/{name}"
            raise schema.SchemaError(
                path,
                f"The `{path}` property must be string. You sent {encode(value).decode()}.",
            )
        fields[name] = value
    return _create(fields, dict(context.get("properties") or {}), address)


def is_date_time(text: str) -> bool:
    found = _DATE_TIME.fullmatch(text)
    if found is None:
        return False
    year, month, day, hour, minute, second = (int(g) for g in found.groups()[:6])
    zone_hour, zone_minute = (int(g) if g else 0 for g in found.groups()[6:])
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    # 23:59:60 is a leap second, which RFC 3339 allows.
    time_ok = hour <= 23 and minute <= 59 and (second <= 59 or (second == 60 and minute == 59))
    return time_ok and zone_hour <= 23 and zone_minute <= 59


def _create(fields: dict[str, str], properties: dict[str, str], address: str) -> UnleashContext:
    """Root fields at the root (empty ones dropped), the rest under ``properties`` (where a
    ``properties`` entry wins over a root one of the same name); ``remoteAddress`` defaults to
    the caller's address and ``sessionId`` to a random one, as Unleash does."""
    rest = {k: v for k, v in fields.items() if k not in ROOT_FIELDS}
    properties = {**rest, **properties}
    # Unleash moves a page's currentTime under properties, where its SDK's date operators never
    # look: date constraints compare with the server's clock (observed on 8.2.0). The engine
    # would read a property of that name as the field, so it is not passed on.
    properties.pop("currentTime", None)
    return UnleashContext(
        app_name=fields.get("appName") or None,
        environment=fields.get("environment") or None,
        user_id=fields.get("userId") or None,
        session_id=fields.get("sessionId") or _session_id(),
        remote_address=fields.get("remoteAddress") or address or None,
        properties=properties,
    )


def _session_id() -> str:
    """A random session id, as Unleash draws one per request without: 36 hex digits (what
    ``secrets.token_hex(18)`` wrote), from the process's pseudorandom generator — it picks a
    user's place in random rollouts, like the random stickiness, and is never sent back or
    trusted — at a fraction of a system call's cost."""
    return f"{random.getrandbits(144):036x}"


# --- the answer ---------------------------------------------------------------------------


def toggles(answers: list[FeatureAnswer]) -> list[dict[str, Any]]:
    """The features that are on, as Unleash lists them (its key order)."""
    return [
        {
            "name": a.name,
            "enabled": True,
            "variant": _variant(a.variant),
            "impressionData": a.impression_data,
        }
        for a in answers
        if a.enabled
    ]


def _variant(v: VariantAnswer) -> dict[str, Any]:
    """As Unleash 8.2.0 writes it, deprecated ``featureEnabled`` included (SDKs of before
    ``feature_enabled`` read it)."""
    out: dict[str, Any] = {"name": v.name, "enabled": v.enabled}
    if v.payload is not None:
        out["payload"] = v.payload
    out["feature_enabled"] = True
    out["featureEnabled"] = True
    return out


def features_response(request: Request, toggles: list[dict[str, Any]]) -> Response:
    """``{"toggles": […]}`` with Express's weak ETag, a 304 when the SDK already holds it, and
    ``Cache-Control: no-cache`` (each poll must reach segmux, which may answer 304). Express
    answers 304 to a GET only: a POST always gets the body, its ETag still set."""
    body = encode({"toggles": toggles})
    etag = weak_etag(body)
    headers = {"Cache-Control": "no-cache", "ETag": etag}
    conditional = request.method in ("GET", "HEAD")
    if conditional and etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=JSON, headers=headers)


def weak_etag(body: bytes) -> str:
    """Express's default ETag (what Unleash sends): length in hex and a SHA-1 prefix."""
    digest = base64.b64encode(hashlib.sha1(body).digest()).decode()[:27]  # an ETag, not a secret
    return f'W/"{len(body):x}-{digest}"'


def etag_matches(header: str | None, etag: str) -> bool:
    """``If-None-Match`` holds ``etag`` (weak comparison) or ``*``."""
    if not header:
        return False
    bare = etag.removeprefix("W/")
    candidates = {c.strip().removeprefix("W/") for c in header.split(",")}
    return "*" in candidates or bare in candidates
