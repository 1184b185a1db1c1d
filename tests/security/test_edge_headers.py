"""What segmux believes of a request's origin (``gateway.middleware.Edge``), through HTTP.

Links and locations point to ``SEGMUX_PUBLIC_URL`` when it is set, else to the address the client
connected to; a client's ``Host`` header never becomes a link. ``X-Forwarded-*`` is believed only
from a peer in ``SEGMUX_FORWARDED_ALLOW_IPS`` (loopback is not trusted by default). A request
carrying ``Authorization`` twice is a 400 in each dialect's own error format.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import msgspec
import pytest

from core.store import Store
from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import make_token
from tests.dialects.adobe.common import DEFS, SEED_BODY
from tests.dialects.adobe.common import headers as adobe_headers

Client = Callable[..., Any]


@pytest.fixture
def gateway(store: Store, settings: Settings) -> Client:
    """``gateway(peer=…, **settings)``: a client of an app with those settings, whose requests
    come from ``peer`` (the address the ASGI server reports as the client)."""

    @asynccontextmanager
    async def open_client(
        peer: str = "127.0.0.1", **changes: Any
    ) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(msgspec.structs.replace(settings, **changes), store=store)
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://segmux.test") as c:
            yield c

    return open_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def hal_self(client: httpx.AsyncClient, token: str, **headers: str) -> str:
    r = await client.get("/prod/individual-segments", headers={**bearer(token), **headers})
    assert r.status_code == 200, r.text
    href: str = r.json()["_links"]["self"]["href"]
    return href


async def adobe_location(client: httpx.AsyncClient, token: str, name: str, **headers: str) -> str:
    r = await client.post(
        DEFS, json={**SEED_BODY, "name": name}, headers={**adobe_headers(token), **headers}
    )
    assert r.status_code == 200, r.text
    location: str = r.headers["x-location"]
    assert location.endswith(f"{DEFS}/{r.json()['id']}")
    return location


# --- links -----------------------------------------------------------------------------------


async def test_the_host_header_never_becomes_a_link(gateway: Client, store: Store) -> None:
    token = await make_token(store, "tenant-a")
    async with gateway() as c:
        spoofed = {
            "Host": "evil.example",
            "X-Forwarded-Host": "evil.example",
            "X-Forwarded-Proto": "https",
        }
        assert (await hal_self(c, token, **spoofed)).startswith("http://segmux.test/prod/")
        r = await c.get("/", headers={**bearer(token), **spoofed})
        assert all(
            link["href"].startswith("http://segmux.test/") for link in r.json()["_links"].values()
        ), r.text
        location = await adobe_location(c, token, "a", **spoofed)
        assert location.startswith(f"http://segmux.test{DEFS}/")


async def test_the_public_url_decides_every_link(gateway: Client, store: Store) -> None:
    token = await make_token(store, "tenant-a")
    public = "https://segments.example.com/api"
    async with gateway(public_url=public, forwarded_allow_ips=("*",)) as c:
        # Even a trusted proxy's forwarded host does not override the configured URL.
        forwarded = {"Host": "evil.example", "X-Forwarded-Host": "proxy.example"}
        assert await hal_self(c, token, **forwarded) == (
            f"{public}/prod/individual-segments?page=0&size=20"
        )
        r = await c.get("/", headers=bearer(token))
        assert {link["href"] for link in r.json()["_links"].values()} >= {f"{public}/"}
        assert all(link["href"].startswith(f"{public}/") for link in r.json()["_links"].values())
        location = await adobe_location(c, token, "b", **forwarded)
        assert location.startswith(f"{public}{DEFS}/"), location


async def test_the_public_url_is_the_adobe_location(gateway: Client, store: Store) -> None:
    token = await make_token(store, "tenant-a")
    async with gateway(public_url="https://segments.example.com") as c:
        location = await adobe_location(c, token, "e", Host="evil.example")
        assert location.startswith(f"https://segments.example.com{DEFS}/")


# --- forwarded headers -----------------------------------------------------------------------

FORWARDED = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "api.example",
    "X-Forwarded-For": "203.0.113.9",
}


async def test_loopback_is_not_trusted_by_default(gateway: Client, store: Store) -> None:
    token = await make_token(store, "tenant-a")
    async with gateway(peer="127.0.0.1") as c:
        assert (await hal_self(c, token, **FORWARDED)).startswith("http://segmux.test/")


async def test_forwarded_headers_from_an_allowed_peer(gateway: Client, store: Store) -> None:
    token = await make_token(store, "tenant-a")
    allowed = ("10.0.0.0/8", "192.0.2.1")
    async with gateway(peer="10.1.2.3", forwarded_allow_ips=allowed) as c:
        assert (await hal_self(c, token, **FORWARDED)).startswith("https://api.example/prod/")
        location = await adobe_location(c, token, "f", **FORWARDED)
        assert location.startswith(f"https://api.example{DEFS}/")
        # Without X-Forwarded-Host, the Host the trusted proxy passed on.
        only_proto = {"X-Forwarded-Proto": "https", "Host": "public.example:8443"}
        assert (await hal_self(c, token, **only_proto)).startswith(
            "https://public.example:8443/prod/"
        )
        # A forwarded host that is not a host name is never echoed into a link.
        odd = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example/<script>"}
        assert (await hal_self(c, token, **odd)).startswith("https://segmux.test/prod/")


async def test_forwarded_headers_from_a_peer_not_allowed(gateway: Client, store: Store) -> None:
    token = await make_token(store, "tenant-a")
    for peer in ("192.0.2.7", "127.0.0.1", "10.1.2.3"):
        async with gateway(peer=peer, forwarded_allow_ips=("192.0.2.1",)) as c:
            assert (await hal_self(c, token, **FORWARDED)).startswith("http://segmux.test/")
            location = await adobe_location(c, token, f"g-{peer}", **FORWARDED)
            assert location.startswith(f"http://segmux.test{DEFS}/")


async def test_trust_proxy_trusts_loopback_only(gateway: Client, store: Store) -> None:
    """``SEGMUX_TRUST_PROXY=true`` without an allow list: a proxy on the same host."""
    token = await make_token(store, "tenant-a")
    async with gateway(peer="127.0.0.1", trust_proxy=True) as c:
        assert (await hal_self(c, token, **FORWARDED)).startswith("https://api.example/")
    async with gateway(peer="192.0.2.7", trust_proxy=True) as c:
        assert (await hal_self(c, token, **FORWARDED)).startswith("http://segmux.test/")


async def test_a_kept_answer_is_never_served_to_a_peer_it_was_not_built_for(
    store: Store, settings: Settings
) -> None:
    """Kept answers (gateway.answers) key on the base URL the gateway decided, not only on the
    headers: the same headers from an untrusted peer never get a trusted peer's links."""
    token = await make_token(store, "tenant-a")
    app = create_app(
        msgspec.structs.replace(settings, forwarded_allow_ips=("10.0.0.0/8",)), store=store
    )
    answers = app.state.services.answers
    hrefs = []
    for peer in ("10.1.2.3", "192.0.2.7", "10.1.2.3"):
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://segmux.test") as c:
            hrefs.append(await hal_self(c, token, **FORWARDED))
    assert hrefs[0].startswith("https://api.example/") and hrefs[2] == hrefs[0]
    assert hrefs[1].startswith("http://segmux.test/")
    assert answers.hits == 1


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"SEGMUX_PUBLIC_URL": "ftp://x.example"}, "SEGMUX_PUBLIC_URL"),
        ({"SEGMUX_PUBLIC_URL": "https://x.example/?a=1"}, "SEGMUX_PUBLIC_URL"),
        ({"SEGMUX_PUBLIC_URL": "https://user:pw@x.example"}, "SEGMUX_PUBLIC_URL"),
        ({"SEGMUX_FORWARDED_ALLOW_IPS": "10.0.0.0/8, proxy.local"}, "SEGMUX_FORWARDED_ALLOW_IPS"),
        ({"SEGMUX_HEADER_TIMEOUT": "0"}, "SEGMUX_HEADER_TIMEOUT"),
        ({"SEGMUX_HEADER_TIMEOUT": "soon"}, "SEGMUX_HEADER_TIMEOUT"),
        ({"SEGMUX_MAX_CONNECTIONS": "-5"}, "SEGMUX_MAX_CONNECTIONS"),
        ({"SEGMUX_MAX_CONNECTIONS": "1.5"}, "SEGMUX_MAX_CONNECTIONS"),
    ],
)
def test_edge_settings_refuse_what_they_cannot_mean(env: dict[str, str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Settings.from_env(env)


def test_edge_settings_from_the_environment() -> None:
    s = Settings.from_env(
        {
            "SEGMUX_PUBLIC_URL": "https://x.example/seg/",
            "SEGMUX_FORWARDED_ALLOW_IPS": "10.0.0.0/8, ::1",
            "SEGMUX_HEADER_TIMEOUT": "2.5",
            "SEGMUX_MAX_CONNECTIONS": "50",
        }
    )
    assert (s.public_url, s.forwarded_allow_ips) == ("https://x.example/seg", ("10.0.0.0/8", "::1"))
    assert (s.header_timeout, s.max_connections) == (2.5, 50)
    d = Settings.from_env({})
    assert (d.public_url, d.forwarded_allow_ips) == (None, ())


# --- duplicated Authorization ----------------------------------------------------------------

ADOBE = {k: v for k, v in adobe_headers("x").items() if k != "Authorization"}


def _hal_error(body: dict[str, Any]) -> bool:
    return body["status"] == 400 and body["error"] == "Bad Request" and "path" in body


# (path, how the token is sent, extra headers, the dialect's error format)
DIALECTS: dict[str, tuple[str, str, dict[str, str], Callable[[dict[str, Any]], bool]]] = {
    "v23": (
        "/v2.3/data/segments",
        "Bearer {}",
        {},
        lambda b: b["success"] is False and "message" in b,
    ),
    "unleash": ("/api/admin/segments", "{}", {}, lambda b: set(b) >= {"message"}),
    "confidence": ("/v1/segments", "Bearer {}", {}, lambda b: b["code"] == 3 and "message" in b),
    "adobe": (
        DEFS,
        "Bearer {}",
        ADOBE,
        lambda b: b["errors"]["400"][0]["code"] == 400 and "requestId" in b,
    ),
    "hal": ("/prod/individual-segments", "Bearer {}", {}, _hal_error),
    "segmux": (
        "/segmux/v1/segments",
        "Bearer {}",
        {},
        lambda b: b["error"] == "bad_request" and "reason" in b,
    ),
}


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize("second", ["same", "other"])
async def test_a_duplicated_authorization_header_is_a_400(
    client: httpx.AsyncClient, store: Store, dialect: str, second: str
) -> None:
    path, form, extra, in_format = DIALECTS[dialect]
    token = await make_token(store, "tenant-a")
    other = await make_token(store, "tenant-b")
    once = [("Authorization", form.format(token)), *extra.items()]
    r = await client.get(path, headers=once)
    assert r.status_code == 200, r.text  # the same request with the header once is answered
    twice = [*once, ("Authorization", form.format(token if second == "same" else other))]
    r = await client.get(path, headers=twice)
    assert r.status_code == 400, r.text
    body = r.json()
    assert in_format(body), body
    assert "Authorization header must be sent at most once" in r.text


async def test_unleash_client_api_refuses_a_duplicated_token(
    client: httpx.AsyncClient, store: Store
) -> None:
    sdk = await make_token(store, "tenant-a", scope="client:development", name="sdk")
    r = await client.get("/api/client/features", headers=[("Authorization", sdk)])
    assert r.status_code == 200, r.text
    r = await client.get(
        "/api/client/features", headers=[("Authorization", sdk), ("Authorization", sdk)]
    )
    assert r.status_code == 400 and "at most once" in r.json()["message"]
