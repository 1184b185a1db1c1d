"""One segment, two dialects: a definition created through Adobe's API with
``workAddress.country = "US"`` is served by the Unleash dialect as an ``IN`` constraint on
``workAddress.country``, and evaluates identically through both — segmux's evaluator on the
stored condition, and Unleash's own SDK on the constraint it is served — on both backends."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.store import Store
from core.tokens import TokenService
from tests import pg
from tests.conftest import make_token
from tests.dialects.adobe.common import DEFS, DOC_PQL, headers
from tests.live import live_gateway

IN_US = [{"values": ["US"], "operator": "IN", "contextName": "workAddress.country"}]
COUNTRIES = ["US", "CA", "us", "", None]


def definition(name: str, pql: str = DOC_PQL) -> dict[str, Any]:
    return {
        "name": name,
        "schema": {"name": "_xdm.context.profile"},
        "expression": {"type": "PQL", "format": "pql/text", "value": pql},
    }


def nested(country: str | None) -> dict[str, Any]:
    return {} if country is None else {"workAddress": {"country": country}}


async def evaluate(
    client: httpx.AsyncClient, token: str, segment_id: str, context: dict[str, Any]
) -> bool:
    r = await client.post(
        "/segmux/v1/evaluate",
        headers={"Authorization": f"Bearer {token}"},
        json={"context": context, "segments": [segment_id]},
    )
    assert r.status_code == 200, r.text
    result: bool = r.json()["results"][segment_id]
    return result


async def test_adobe_definition_is_an_unleash_in_constraint(
    client: httpx.AsyncClient, token_a: str
) -> None:
    made = (await client.post(DEFS, json=definition("US workers"), headers=headers(token_a))).json()
    listed = (await client.get("/api/admin/segments", headers={"Authorization": token_a})).json()[
        "segments"
    ]
    [shown] = [s for s in listed if s["name"] == "US workers"]
    assert shown["constraints"] == IN_US
    one = (
        await client.get(f"/api/admin/segments/{shown['id']}", headers={"Authorization": token_a})
    ).json()
    assert one["constraints"] == IN_US

    # The same constraints made through Unleash mean the same as the Adobe definition, and
    # Adobe shows them as the same PQL.
    r = await client.post(
        "/api/admin/segments",
        headers={"Authorization": token_a},
        json={"name": "US workers (unleash)", "constraints": IN_US},
    )
    assert r.status_code == 201, r.text
    twin = next(
        s
        for s in (await client.get(DEFS, headers=headers(token_a))).json()["segments"]
        if s["name"] == "US workers (unleash)"
    )
    assert twin["expression"] == {"type": "PQL", "format": "pql/text", "value": DOC_PQL}
    for country in COUNTRIES:
        context = nested(country)
        assert (
            await evaluate(client, token_a, made["id"], context)
            == await evaluate(client, token_a, twin["id"], context)
            == (country == "US")
        )


async def test_an_or_across_attributes_is_not_served_weakened(
    client: httpx.AsyncClient, token_a: str
) -> None:
    r = await client.post(
        DEFS, json=definition("either", 'a = "1" or b = "2"'), headers=headers(token_a)
    )
    assert r.status_code == 200
    listed = (await client.get("/api/admin/segments", headers={"Authorization": token_a})).json()[
        "segments"
    ]
    assert "either" not in [s["name"] for s in listed]


# --- through Unleash's own SDK ----------------------------------------------------------------

ADMIN = "smx_cross-adobe-unleash"
FEATURE = "us-only"


@pytest.fixture
def gateway(store: Store, store_url: str) -> Iterator[str]:
    with live_gateway(store_url, ADMIN) as base:
        yield base


async def test_unleash_sdk_and_segmux_agree(gateway: str, store: Store, tmp_path: Path) -> None:
    unleash_client = pg.require("UnleashClient").UnleashClient
    adobe, _, _ = await TokenService(store).create_client(
        tenant="default", scope="admin", name="adobe", client_id="cross-test"
    )
    sdk_token = await make_token(store, "default", scope="client:development", name="sdk")
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as c:
        r = await c.post(
            DEFS,
            json=definition("US workers"),
            headers=headers(adobe, org="default@AdobeOrg", api_key="cross-test"),
        )
        assert r.status_code == 200, r.text
        segment_id = r.json()["id"]
        admin = {"Authorization": ADMIN}
        [shown] = [
            s
            for s in (await c.get("/api/admin/segments", headers=admin)).json()["segments"]
            if s["name"] == "US workers"
        ]
        base = "/api/admin/projects/default/features"
        assert (await c.post(base, json={"name": FEATURE}, headers=admin)).status_code == 201
        env = f"{base}/{FEATURE}/environments/development"
        r = await c.post(
            f"{env}/strategies", headers=admin, json={"name": "default", "segments": [shown["id"]]}
        )
        assert r.status_code == 200, r.text
        assert (await c.post(f"{env}/on", headers=admin)).status_code == 200

        sdk = unleash_client(
            url=f"{gateway}/api",
            app_name="cross-adobe-unleash",
            instance_id="t1",
            custom_headers={"Authorization": sdk_token},
            refresh_interval=1,
            disable_metrics=True,
            cache_directory=str(tmp_path),
            request_timeout=5,
            request_retries=0,
        )
        sdk.initialize_client()
        try:
            deadline = time.monotonic() + 10
            while not sdk.is_enabled(FEATURE, {"properties": {"workAddress.country": "US"}}):
                assert time.monotonic() < deadline, "the SDK never saw the feature"
                await asyncio.sleep(0.1)
            for country in COUNTRIES:
                properties = {} if country is None else {"workAddress.country": country}
                through_unleash = sdk.is_enabled(FEATURE, {"properties": properties})
                r = await c.post(
                    "/segmux/v1/evaluate",
                    headers={"Authorization": f"Bearer {ADMIN}"},
                    json={"context": nested(country), "segments": [segment_id]},
                )
                assert through_unleash == r.json()["results"][segment_id] == (country == "US")
        finally:
            sdk.destroy()
