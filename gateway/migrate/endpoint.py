"""A migration endpoint: ``<dialect>+<base URL>``, its token and per-dialect options.

The token is kept out of ``repr`` and never printed: reports and errors name the endpoint by
its dialect and URL only."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx


def dialects() -> tuple[str, ...]:
    """The surfaces a migration reads from or writes to: every registered one with a codec.
    The registry is read when a migration (or its help) needs it, not when the CLI starts: it
    imports every surface and its condition parsers, which the other commands do without."""
    from dialects.registry import SURFACES

    return tuple(s.name for s in SURFACES if s.codec is not None)


class MigrateError(Exception):
    """The migration cannot go on (bad endpoint, unreadable source); exit status 2."""


@dataclass(frozen=True)
class Endpoint:
    dialect: str
    base_url: str
    token: str = field(repr=False)
    ims_org: str = "default@AdobeOrg"
    """Adobe ``x-gw-ims-org-id`` (segmux's default org of tenant ``default``)."""
    api_key: str = "segmux-migrate"
    """Adobe ``x-api-key`` (the client id)."""
    sandbox: str = "prod"
    """Adobe ``x-sandbox-name``."""
    project: str = "prod"
    """HAL project id (segmux serves a sandbox's segments as the project of that name)."""

    def __str__(self) -> str:
        return f"{self.dialect}+{self.base_url}"


def parse_endpoint(spec: str) -> tuple[str, str]:
    """``unleash+http://host:4242`` → ``("unleash", "http://host:4242")``."""
    dialect, plus, url = spec.partition("+")
    known = dialects()
    if not plus or dialect not in known:
        raise MigrateError(
            f"{spec!r}: give <dialect>+<base URL>, dialect one of {', '.join(known)}"
        )
    if not url.startswith(("http://", "https://")):
        raise MigrateError(f"{spec!r}: the base URL must start with http:// or https://")
    return dialect, url.rstrip("/")


def client(endpoint: Endpoint, timeout: float = 30.0) -> httpx.Client:
    return httpx.Client(
        base_url=endpoint.base_url, timeout=timeout, headers={"Accept": "application/json"}
    )


def failure(response: httpx.Response) -> str:
    """``<status> <body>`` of a refused request, the body cut to a readable length."""
    text = response.text.strip().replace("\n", " ")
    return f"{response.status_code} {text[:500]}"


def expect(response: httpx.Response, *statuses: int) -> httpx.Response:
    """The response if its status is one of ``statuses``, else ``MigrateError``."""
    if response.status_code not in statuses:
        raise MigrateError(
            f"{response.request.method} {response.request.url.path}: {failure(response)}"
        )
    return response
