"""Unleash's own Python SDK (``UnleashClient`` from PyPI, Yggdrasil engine) against a live
gateway, on both backends: it registers, polls ``/api/client/features`` (segments by reference:
it sends ``Unleash-Client-Spec``), evaluates a strategy whose segment was made through the
Unleash admin API — and through Adobe's API — and sees a segment change on its next poll.

Everything stays on 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.store import Store
from core.tokens import TokenService
from tests import pg
from tests.conftest import make_token
from tests.live import live_gateway

UnleashClient = pg.require("UnleashClient").UnleashClient

ADMIN = "smx_unleash-sdk-admin"
FEATURE = "new-checkout"
WAIT = 10.0


@pytest.fixture
def gateway(store: Store, store_url: str) -> Iterator[str]:
    with live_gateway(store_url, ADMIN) as base:
        yield base


@pytest.fixture
async def admin(gateway: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=gateway, headers={"Authorization": ADMIN}, timeout=10
    ) as c:
        yield c


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


async def feature_using(admin: httpx.AsyncClient, segment_id: int) -> None:
    base = "/api/admin/projects/default/features"
    ok(await admin.post(base, json={"name": FEATURE}), 201)
    env = f"{base}/{FEATURE}/environments/development"
    ok(await admin.post(f"{env}/strategies", json={"name": "default", "segments": [segment_id]}))
    ok(await admin.post(f"{env}/on"))


def sdk(gateway: str, token: str, cache: Path) -> Any:
    client = UnleashClient(
        url=f"{gateway}/api",
        app_name="segmux-sdk-test",
        instance_id="test-1",
        custom_headers={"Authorization": token},
        refresh_interval=1,
        disable_metrics=True,
        cache_directory=str(cache),
        request_timeout=5,
        request_retries=0,
    )
    client.initialize_client()
    return client


async def eventually(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, "the SDK did not see the change in time"
        await asyncio.sleep(0.1)


async def test_sdk_evaluates_a_segment_and_sees_it_change(
    gateway: str, admin: httpx.AsyncClient, store: Store, tmp_path: Path
) -> None:
    token = await make_token(store, "default", scope="client:development", name="sdk")
    segment = ok(
        await admin.post(
            "/api/admin/segments",
            json={
                "name": "beta",
                "constraints": [
                    {"contextName": "userId", "operator": "IN", "values": ["u1", "u2"]},
                    {"contextName": "plan", "operator": "NOT_IN", "values": ["free"]},
                ],
            },
        ),
        201,
    )
    await feature_using(admin, segment["id"])

    client = sdk(gateway, token, tmp_path)
    try:
        assert client.is_initialized
        assert client.is_enabled(FEATURE, {"userId": "u1"})
        assert client.is_enabled(FEATURE, {"userId": "u2", "properties": {"plan": "pro"}})
        assert not client.is_enabled(FEATURE, {"userId": "u1", "properties": {"plan": "free"}})
        assert not client.is_enabled(FEATURE, {"userId": "u9"})
        assert not client.is_enabled(FEATURE, {})

        r = await admin.put(
            f"/api/admin/segments/{segment['id']}",
            json={
                "name": "beta",
                "constraints": [{"contextName": "userId", "operator": "IN", "values": ["u9"]}],
            },
        )
        assert r.status_code == 204, r.text
        await eventually(lambda: client.is_enabled(FEATURE, {"userId": "u9"}))
        assert not client.is_enabled(FEATURE, {"userId": "u1"})
    finally:
        client.destroy()


async def test_sdk_evaluates_a_segment_made_through_adobes_api(
    gateway: str, admin: httpx.AsyncClient, store: Store, tmp_path: Path
) -> None:
    token = await make_token(store, "default", scope="client:development", name="sdk")
    adobe_token, _, _ = await TokenService(store).create_client(
        tenant="default", scope="admin", name="adobe", client_id="segmux-adobe-test"
    )
    definition = {
        "name": "US customers",
        "profileInstanceId": "ups",
        "schema": {"name": "_xdm.context.profile"},
        "expression": {"type": "PQL", "format": "pql/text", "value": 'country = "US"'},
    }
    r = await admin.post(
        "/data/core/ups/segment/definitions",
        json=definition,
        headers={
            "Authorization": f"Bearer {adobe_token}",
            "x-api-key": "segmux-adobe-test",
            "x-gw-ims-org-id": "default@AdobeOrg",
        },
    )
    assert r.status_code in (200, 201), r.text
    [shown] = [
        s
        for s in ok(await admin.get("/api/admin/segments"))["segments"]
        if s["name"] == "US customers"
    ]
    assert shown["constraints"] == [{"values": ["US"], "operator": "IN", "contextName": "country"}]
    await feature_using(admin, shown["id"])

    client = sdk(gateway, token, tmp_path)
    try:
        assert client.is_enabled(FEATURE, {"properties": {"country": "US"}})
        assert not client.is_enabled(FEATURE, {"properties": {"country": "FR"}})
    finally:
        client.destroy()
