"""CORS on the Unleash frontend API, and on nothing else: preflights answered without a token,
the browser SDK's headers allowed, ``ETag`` exposed, origins from ``SEGMUX_CORS_ORIGINS``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import msgspec
import pytest

from core.store import Store
from gateway.app import create_app
from gateway.settings import SettingError, Settings
from tests.conftest import make_token

PAGE = "https://app.example.com"
SDK_HEADERS = (
    "authorization,content-type,if-none-match,unleash-appname,unleash-connection-id,unleash-sdk"
)


@pytest.fixture
def gateway(store: Store, settings: Settings) -> Callable[..., Any]:
    @asynccontextmanager
    async def open_client(**changes: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(msgspec.structs.replace(settings, **changes), store=store)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://segmux.test") as c:
            yield c

    return open_client


def preflight(origin: str, method: str = "GET") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": SDK_HEADERS,
    }


async def test_any_origin_by_default(client: httpx.AsyncClient, store: Store) -> None:
    token = await make_token(store, "tenant-a", scope="frontend:development", name="web")
    for path in ("/api/frontend", "/api/frontend/client/metrics", "/api/frontend/x"):
        r = await client.options(path, headers=preflight("https://any.example"))
        assert r.status_code == 204, path
        assert r.content == b""
        assert r.headers["access-control-allow-origin"] == "*"
        allowed = set(r.headers["access-control-allow-headers"].split(","))
        assert set(SDK_HEADERS.split(",")) <= allowed
        assert set(r.headers["access-control-allow-methods"].split(",")) == {"GET", "POST"}
        assert r.headers["access-control-max-age"] == "86400"
        assert "access-control-allow-credentials" not in r.headers
    r = await client.get(
        "/api/frontend", headers={"Origin": "https://any.example", "Authorization": token}
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["access-control-expose-headers"] == "ETag"
    assert "Origin" in r.headers.get_list("vary")
    # Refusals carry the headers too, so a page can read why.
    r = await client.get("/api/frontend", headers={"Origin": "https://any.example"})
    assert r.status_code == 401
    assert r.headers["access-control-allow-origin"] == "*"


async def test_listed_origins_only(gateway: Callable[..., Any], store: Store) -> None:
    token = await make_token(store, "tenant-a", scope="frontend:development", name="web")
    async with gateway(cors_origins=(PAGE, "http://localhost:3000")) as c:
        for origin in (PAGE, "http://localhost:3000"):
            r = await c.options("/api/frontend", headers=preflight(origin))
            assert r.status_code == 204
            assert r.headers["access-control-allow-origin"] == origin
            r = await c.get("/api/frontend", headers={"Origin": origin, "Authorization": token})
            assert r.headers["access-control-allow-origin"] == origin
            assert "Origin" in r.headers["vary"]
        for origin in ("https://evil.example", "https://app.example.com.evil.example", "null"):
            r = await c.options("/api/frontend", headers=preflight(origin))
            assert r.status_code == 204
            assert "access-control-allow-origin" not in r.headers
            r = await c.get("/api/frontend", headers={"Origin": origin, "Authorization": token})
            assert "access-control-allow-origin" not in r.headers


async def test_no_other_api_answers_a_browser_across_origins(
    client: httpx.AsyncClient, token_a: str, client_token_a: str
) -> None:
    for path, token in (
        ("/api/admin/segments", token_a),
        ("/api/client/features", client_token_a),
        ("/segmux/v1/segments", f"Bearer {token_a}"),
        ("/v2.3/data/segments", f"Bearer {token_a}"),
    ):
        r = await client.get(path, headers={"Origin": PAGE, "Authorization": token})
        assert r.status_code == 200, path
        assert not [h for h in r.headers if h.startswith("access-control-")], path
        r = await client.options(path, headers=preflight(PAGE))
        assert "access-control-allow-origin" not in r.headers, path


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ("*",)),
        ("*", ("*",)),
        (" * ", ("*",)),
        ("https://app.example.com", ("https://app.example.com",)),
        (
            "https://a.example, http://localhost:3000,https://a.example",
            ("https://a.example", "http://localhost:3000"),
        ),
        ("http://[::1]:8080", ("http://[::1]:8080",)),
    ],
)
def test_cors_origins_setting(value: str | None, expected: tuple[str, ...]) -> None:
    env = {} if value is None else {"SEGMUX_CORS_ORIGINS": value}
    assert Settings.from_env(env).cors_origins == expected


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("", "SEGMUX_CORS_ORIGINS is empty"),
        ("https://a.example/", "SEGMUX_CORS_ORIGINS: 'https://a.example/' is not a web origin"),
        ("https://A.example", "SEGMUX_CORS_ORIGINS: 'https://A.example' is not a web origin"),
        ("https://a.example:443", "SEGMUX_CORS_ORIGINS: 'https://a.example:443' is not a web"),
        ("app.example.com", "SEGMUX_CORS_ORIGINS: 'app.example.com' is not a web origin"),
        ("https://*.example.com", "SEGMUX_CORS_ORIGINS: 'https://*.example.com' is not a web"),
        ("ftp://a.example", "SEGMUX_CORS_ORIGINS: 'ftp://a.example' is not a web origin"),
        ("https://a.example,*", "SEGMUX_CORS_ORIGINS mixes * with origins"),
        ("https://a.example,,", "SEGMUX_CORS_ORIGINS: '' is not a web origin"),
    ],
)
def test_a_bad_cors_origins_value_is_one_line_saying_so(value: str, said: str) -> None:
    with pytest.raises(SettingError) as caught:
        Settings.from_env({"SEGMUX_CORS_ORIGINS": value})
    assert str(caught.value).startswith(said)
    assert "\n" not in str(caught.value)
