"""``POST /ims/token/v3``: Adobe IMS's client-credentials grant, so SDKs that fetch their own
token (aepp's ``oauthV2``) work unchanged (``docs/dialects/adobe.md``).

Form-encoded ``grant_type=client_credentials&client_id=…&client_secret=…&scope=…``; the answer
is ``{"access_token", "token_type": "bearer", "expires_in"}`` (seconds: aepp refreshes at
``expires_in - 500`` and fails on a body without it). Errors are OAuth 2.0's (RFC 6749 §5.2).
The scope is accepted and not interpreted: the token acts as the client's registered token.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from core.errors import CoreError, Unauthorized, Unavailable
from dialects.adobe.wire import ENCODER
from dialects.handlers import SurfaceApi
from dialects.http import BodyTooLarge, CatchAll, allow_header, read_body, route
from dialects.ports import Services

FORM = "application/x-www-form-urlencoded"
# RFC 6749 §5.1: token responses must not be cached.
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(CoreError):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.status = status


def _json(body: object, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(
        ENCODER.encode(body),
        status_code=status,
        media_type="application/json",
        headers={**_NO_STORE, **(headers or {})},
    )


def oauth_error(
    error: str, description: str, status: int = 400, headers: dict[str, str] | None = None
) -> Response:
    return _json({"error": error, "error_description": description}, status, headers)


def form_fields(content_type: str | None, body: bytes) -> dict[str, str]:
    """The form's fields, each given once, or ``OAuthError("invalid_request")``."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != FORM:
        raise OAuthError("invalid_request", f"the request body must be {FORM}")
    try:
        parsed = parse_qs(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=100
        )
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "the form is not valid UTF-8 form data") from None
    repeated = sorted(k for k, v in parsed.items() if len(v) > 1)
    if repeated:
        raise OAuthError("invalid_request", f"parameter {repeated[0]!r} is given more than once")
    return {k: v[0] for k, v in parsed.items()}


class ImsApi(SurfaceApi):
    """The token endpoint over the process's token service (read per request: the gateway
    fills its services in when the store opens, after building its apps)."""

    def app(self) -> Starlette:
        return Starlette(
            routes=[route("/token/v3", POST=self.token_v3)],
            middleware=[Middleware(CatchAll, render=server_error)],
            exception_handlers={HTTPException: render_http, CoreError: render_core},
        )

    async def token_v3(self, request: Request) -> Response:
        form = form_fields(
            request.headers.get("content-type"),
            await read_body(request, self.services.settings.body_limit),
        )
        grant = form.get("grant_type")
        if not grant:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant != "client_credentials":
            raise OAuthError(
                "unsupported_grant_type",
                f"grant_type {grant!r} is not supported; use client_credentials",
            )
        for name in ("client_id", "client_secret"):
            if not form.get(name):
                raise OAuthError("invalid_request", f"{name} is required")
        issued = await self.services.tokens.issue_access_token(
            form["client_id"], form["client_secret"]
        )
        return _json(
            {"access_token": issued.token, "token_type": "bearer", "expires_in": issued.expires_in},
            200,
        )


def build(services: Services) -> Starlette:
    return ImsApi(services).app()


def render_core(request: Request, exc: Exception) -> Response:
    if isinstance(exc, OAuthError):
        return oauth_error(exc.error, exc.message, exc.status)
    if isinstance(exc, Unauthorized):
        return oauth_error("invalid_client", "invalid client credentials", 401)
    if isinstance(exc, BodyTooLarge):
        return oauth_error("invalid_request", "the request body is too large", 413)
    if isinstance(exc, Unavailable):
        return oauth_error(
            "temporarily_unavailable",
            "the service is unavailable; retry later",
            503,
            {"Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, CoreError):
        return oauth_error("invalid_request", exc.message)
    return server_error(request, exc)


def render_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        allow = allow_header(exc)
        return oauth_error("invalid_request", f"use {allow}", 405, {"Allow": allow})
    return oauth_error("invalid_request", f"no such endpoint: {request.url.path}", exc.status_code)


def server_error(request: Request, exc: Exception) -> Response:
    return oauth_error("server_error", "internal error; see the server log", 500)
