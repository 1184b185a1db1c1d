"""Who may call OFREP: tokens by ``Authorization: Bearer`` or ``X-API-Key``, 401 and 403 with no
body, tenants apart, and CORS for the web providers."""

from __future__ import annotations

import httpx
import pytest

from core.store import Store
from tests.conftest import make_token
from tests.dialects.ofrep.helpers import BULK, SINGLE, bulk, evaluate, unleash_feature

CONTEXT = {"context": {"targetingKey": "u1"}}


@pytest.fixture
async def ofrep_a(store: Store) -> str:
    return await make_token(store, "tenant-a", scope="ofrep:development", name="ofrep")


@pytest.mark.parametrize("path", [BULK, SINGLE + "beta"])
async def test_no_token_or_an_unknown_one_is_401_with_no_body(
    client: httpx.AsyncClient, path: str
) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer smx_unknown"},
        {"X-API-Key": "smx_unknown"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
    ):
        r = await client.post(path, json=CONTEXT, headers=headers)
        assert r.status_code == 401, headers
        assert r.content == b""


@pytest.mark.parametrize("scope", ["admin", "frontend:development"])
async def test_a_token_that_may_not_evaluate_is_403_with_no_body(
    client: httpx.AsyncClient, store: Store, scope: str
) -> None:
    token = await make_token(store, "tenant-a", scope=scope, name="other")
    for path in (BULK, SINGLE + "beta"):
        r = await client.post(path, json=CONTEXT, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403 and r.content == b""


async def test_an_api_key_a_client_token_and_a_bearer_token_all_evaluate(
    client: httpx.AsyncClient, store: Store, token_a: str, ofrep_a: str
) -> None:
    await unleash_feature(client, token_a, "beta")
    sdk = await make_token(store, "tenant-a", scope="client:development", name="sdk")
    for headers in (
        {"X-API-Key": ofrep_a},
        {"Authorization": f"Bearer {ofrep_a}"},
        {"Authorization": f"bearer {sdk}"},
        {"Authorization": f"Bearer {ofrep_a}", "X-API-Key": ofrep_a},
    ):
        r = await client.post(SINGLE + "beta", json=CONTEXT, headers=headers)
        assert r.status_code == 200 and r.json()["value"] is True, headers
    # Two different tokens name no one caller.
    r = await client.post(
        SINGLE + "beta",
        json=CONTEXT,
        headers={"Authorization": f"Bearer {ofrep_a}", "X-API-Key": sdk},
    )
    assert r.status_code == 401 and r.content == b""


async def test_a_token_of_an_environment_without_features_sees_none(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    await unleash_feature(client, token_a, "beta")
    elsewhere = await make_token(store, "tenant-a", scope="ofrep:nowhere", name="nowhere")
    r = await bulk(client, elsewhere, {"targetingKey": "u1"})
    assert r.status_code == 200, r.text
    assert [f.get("value") for f in r.json()["flags"]] in ([], [False])


async def test_tenants_never_see_each_others_flags(
    client: httpx.AsyncClient, store: Store, token_a: str, ofrep_a: str
) -> None:
    await unleash_feature(client, token_a, "beta")
    ofrep_b = await make_token(store, "tenant-b", scope="ofrep:development", name="ofrep-b")
    r = await evaluate(client, ofrep_b, "beta", {"targetingKey": "u1"})
    assert r.status_code == 404
    r = await bulk(client, ofrep_b, {"targetingKey": "u1"})
    assert r.json() == {"flags": []}
    assert (await evaluate(client, ofrep_a, "beta", {"targetingKey": "u1"})).status_code == 200


async def test_an_ofrep_token_opens_nothing_else(client: httpx.AsyncClient, ofrep_a: str) -> None:
    r = await client.get("/api/client/features", headers={"Authorization": ofrep_a})
    assert r.status_code == 403
    r = await client.get("/api/frontend", headers={"Authorization": ofrep_a})
    assert r.status_code == 403
    r = await client.get("/segmux/v1/segments", headers={"Authorization": f"Bearer {ofrep_a}"})
    assert r.status_code == 403


async def test_cors_lets_web_providers_call_it(
    client: httpx.AsyncClient, token_a: str, ofrep_a: str
) -> None:
    await unleash_feature(client, token_a, "beta")
    r = await client.options(
        BULK,
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,if-none-match",
        },
    )
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert "if-none-match" in r.headers["access-control-allow-headers"]
    assert "x-api-key" in r.headers["access-control-allow-headers"]
    r = await bulk(client, ofrep_a, {"targetingKey": "u1"}, {"Origin": "https://app.example"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert "ETag" in r.headers["access-control-expose-headers"]
