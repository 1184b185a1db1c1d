"""Where tokens come from on the wire. Each dialect picks its extractor; checking the token is
``core.tokens.TokenService.authenticate``. Nothing here logs or keeps a token.

A request carrying ``Authorization`` more than once is refused (``DuplicateHeader``: a 400 in the
dialect's own format) rather than resolved by picking one: proxies and frameworks disagree on
which of two copies wins (the first, the last, both joined with a comma), so whichever segmux
picked, some layer in front of it may have checked the other one."""

from __future__ import annotations

from starlette.requests import Request

from dialects.http import DuplicateHeader


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
    header = _authorization(request).strip()
    scheme, _, rest = header.partition(" ")
    if scheme.lower() == "bearer":
        return rest.strip() or None
    return header or None
