"""OFREP's single and bulk evaluation over HTTP, on both backends: Unleash features and
Confidence flags through one namespace, values, variants, reasons and errors as the spec and
docs/dialects/ofrep.md have them."""

from __future__ import annotations

import httpx
import pytest

from core.store import Store
from tests.conftest import make_token
from tests.dialects.ofrep.helpers import (
    BULK,
    SINGLE,
    bearer,
    bulk,
    confidence_flag,
    evaluate,
    swedes,
    unleash_feature,
)


@pytest.fixture
async def ofrep_a(store: Store) -> str:
    return await make_token(store, "tenant-a", scope="ofrep:development", name="ofrep")


async def test_an_unleash_feature_is_a_boolean_flag(
    client: httpx.AsyncClient, token_a: str, ofrep_a: str
) -> None:
    await unleash_feature(client, token_a, "beta", users=["u1"])
    r = await evaluate(client, ofrep_a, "beta", {"targetingKey": "u1"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {
        "key": "beta",
        "reason": "TARGETING_MATCH",
        "variant": "enabled",
        "value": True,
        "metadata": {"namespace": "unleash", "key": "unleash:beta", "impressionData": False},
    }
    r = await evaluate(client, ofrep_a, "unleash:beta", {"targetingKey": "u2"})
    assert r.status_code == 200
    assert r.json()["value"] is False
    assert r.json()["reason"] == "DEFAULT"
    assert r.json()["variant"] == "disabled"


async def test_a_confidence_flag_is_an_object_flag(
    client: httpx.AsyncClient, token_a: str, ofrep_a: str
) -> None:
    await swedes(client, token_a)
    await confidence_flag(client, token_a, "dark")
    r = await evaluate(client, ofrep_a, "dark", {"targetingKey": "u1", "country": "SE"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["value"] == {"enabled": True, "color": "red"}
    assert body["variant"] == "on"
    assert body["reason"] == "TARGETING_MATCH"
    r = await evaluate(
        client, ofrep_a, "confidence:dark.color", {"targetingKey": "u1", "country": "SE"}
    )
    assert r.json()["value"] == "red"
    r = await evaluate(client, ofrep_a, "dark", {"targetingKey": "u1", "country": "NO"})
    assert r.status_code == 200
    assert "value" not in r.json() and r.json()["reason"] == "DEFAULT"


async def test_bulk_lists_both_namespaces_with_an_etag(
    client: httpx.AsyncClient, token_a: str, ofrep_a: str
) -> None:
    await unleash_feature(client, token_a, "beta", users=["u1"])
    await swedes(client, token_a)
    await confidence_flag(client, token_a, "dark")
    r = await bulk(client, ofrep_a, {"targetingKey": "u1", "country": "SE"})
    assert r.status_code == 200, r.text
    keys = [f["key"] for f in r.json()["flags"]]
    assert keys == ["beta", "dark"]
    etag = r.headers["etag"]
    again = await bulk(
        client, ofrep_a, {"targetingKey": "u1", "country": "SE"}, {"If-None-Match": etag}
    )
    assert again.status_code == 304 and again.content == b""


async def test_no_token_is_401_with_no_body(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.post(BULK, json={})
    assert r.status_code == 401 and r.content == b""
    r = await client.post(SINGLE + "x", json={}, headers=bearer(token_a))
    assert r.status_code == 403 and r.content == b""
