"""Where tokens come from on the wire. Each dialect picks its extractor; checking the token is
``core.tokens.TokenService.authenticate``. Nothing here logs or keeps a token."""

from __future__ import annotations

from starlette.requests import Request


def bearer_token(request: Request) -> str | None:
    """``Authorization: Bearer <token>`` (scheme case-insensitive), else None."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def raw_or_bearer_token(request: Request) -> str | None:
    """Unleash style: ``Authorization: <token>``, with an optional ``Bearer`` prefix stripped."""
    header = request.headers.get("authorization", "").strip()
    scheme, _, rest = header.partition(" ")
    if scheme.lower() == "bearer":
        return rest.strip() or None
    return header or None
