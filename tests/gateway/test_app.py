"""Gateway-level routes: health, readiness, the served specs, unknown paths."""

from __future__ import annotations

import httpx

import openapi
from core.store import Store


async def test_healthz_needs_no_token(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_readyz_reports_the_store(client: httpx.AsyncClient, store: Store) -> None:
    assert (await client.get("/readyz")).status_code == 200
    await store.close()
    r = await client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["status"] == "unavailable"


async def test_specs_are_served_as_json(client: httpx.AsyncClient) -> None:
    for name in openapi.names():
        r = await client.get(f"/segmux/openapi/{name}.json")
        assert r.status_code == 200
        assert r.json() == openapi.load(name)
    missing = await client.get("/segmux/openapi/nope.json")
    assert missing.status_code == 404
    assert "v23" in missing.json()["specs"]


async def test_unknown_path_is_json_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/nothing/here")
    assert r.status_code == 404
    assert r.json() == {"error": "Not Found"}
