"""In ``strict`` freshness caches never serve stale data: a write through one gateway is seen by
the very next read on another gateway over the same database (two stores and two apps stand for
two processes: each has its own caches, connections and, on PostgreSQL, its own LISTEN
connection). The default, ``notify``, is proven in ``test_freshness_notify.py``.

Each test warms the reading gateway's caches first, so the read after the write would be stale
if any cache were not invalidated.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest

from core.store import Store
from dialects.registry import SURFACES
from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import make_token
from tests.dialects.confidence.resolve_helpers import everyone_gets, make_client, make_flag, post

SE = {"contextName": "country", "operator": "IN", "values": ["SE"]}
NO = {"contextName": "country", "operator": "IN", "values": ["NO"]}


@pytest.fixture
async def other(other_store: Store, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A second gateway on the same database, in strict freshness."""
    strict = msgspec.structs.replace(settings, freshness="strict")
    transport = httpx.ASGITransport(app=create_app(strict, store=other_store))
    async with httpx.AsyncClient(transport=transport, base_url="http://other.test") as c:
        yield c


async def _evaluate(c: httpx.AsyncClient, token: str, context: dict[str, Any]) -> dict[str, Any]:
    r = await c.post(
        "/segmux/v1/evaluate",
        json={"context": context},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_evaluate_sees_each_write_of_another_gateway(
    client: httpx.AsyncClient, other: httpx.AsyncClient, store: Store
) -> None:
    token = await make_token(store, "tenant-a")
    admin = {"Authorization": token}
    assert (await _evaluate(other, token, {"country": "SE"}))["results"] == {}
    r = await client.post(
        "/api/admin/segments", json={"name": "se", "constraints": [SE]}, headers=admin
    )
    assert r.status_code == 201, r.text
    seq = r.json()["id"]
    first = await _evaluate(other, token, {"country": "SE"})
    assert len(first["matches"]) == 1 and list(first["results"].values()) == [True]
    r = await client.put(
        f"/api/admin/segments/{seq}", json={"name": "se", "constraints": [NO]}, headers=admin
    )
    assert r.status_code == 204, r.text
    changed = await _evaluate(other, token, {"country": "SE"})
    assert changed["matches"] == [] and list(changed["results"].values()) == [False]
    assert len((await _evaluate(other, token, {"country": "NO"}))["matches"]) == 1
    r = await client.delete(f"/api/admin/segments/{seq}", headers=admin)
    assert r.status_code == 204, r.text
    assert (await _evaluate(other, token, {"country": "NO"}))["results"] == {}


async def test_evaluate_with_ids_sees_a_deleted_segment_gone(
    client: httpx.AsyncClient, other: httpx.AsyncClient, store: Store
) -> None:
    token = await make_token(store, "tenant-a")
    r = await client.post(
        "/api/admin/segments",
        json={"name": "se", "constraints": [SE]},
        headers={"Authorization": token},
    )
    seq = r.json()["id"]
    (segment_id,) = (await _evaluate(other, token, {}))["results"]
    asked = {"context": {"country": "SE"}, "segments": [segment_id]}
    bearer = {"Authorization": f"Bearer {token}"}
    r = await other.post("/segmux/v1/evaluate", json=asked, headers=bearer)
    assert r.json()["matches"] == [segment_id]
    await client.delete(f"/api/admin/segments/{seq}", headers={"Authorization": token})
    r = await other.post("/segmux/v1/evaluate", json=asked, headers=bearer)
    assert r.status_code == 404, r.text


async def _features(c: httpx.AsyncClient, token: str) -> dict[str, Any]:
    r = await c.get("/api/client/features", headers={"Authorization": token})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_client_features_see_each_write_of_another_gateway(
    client: httpx.AsyncClient, other: httpx.AsyncClient, store: Store
) -> None:
    admin = {"Authorization": await make_token(store, "tenant-a")}
    sdk = await make_token(store, "tenant-a", scope="client:development", name="sdk")
    assert (await _features(other, sdk))["features"] == []
    r = await client.post(
        "/api/admin/segments", json={"name": "se", "constraints": [SE]}, headers=admin
    )
    seq = r.json()["id"]
    r = await client.post(
        "/api/admin/projects/default/features", json={"name": "f1"}, headers=admin
    )
    assert r.status_code in (200, 201), r.text
    polled = await _features(other, sdk)
    assert [f["name"] for f in polled["features"]] == ["f1"]
    assert polled["features"][0]["strategies"] == []
    strategies = "/api/admin/projects/default/features/f1/environments/development/strategies"
    r = await client.post(
        strategies,
        json={"name": "default", "constraints": [], "parameters": {}, "segments": [seq]},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    (strategy,) = (await _features(other, sdk))["features"][0]["strategies"]
    assert strategy["constraints"][0]["values"] == ["SE"]  # inlined for a spec-less client
    etag = (await other.get("/api/client/features", headers={"Authorization": sdk})).headers["etag"]
    r = await client.put(
        f"/api/admin/segments/{seq}", json={"name": "se", "constraints": [NO]}, headers=admin
    )
    assert r.status_code == 204, r.text
    r = await other.get(
        "/api/client/features", headers={"Authorization": sdk, "If-None-Match": etag}
    )
    assert r.status_code == 200 and r.headers["etag"] != etag
    (strategy,) = r.json()["features"][0]["strategies"]
    assert strategy["constraints"][0]["values"] == ["NO"]
    r = await other.get(
        "/api/client/features", headers={"Authorization": sdk, "If-None-Match": r.headers["etag"]}
    )
    assert r.status_code == 304


async def _front(c: httpx.AsyncClient, token: str, user: str) -> list[str]:
    r = await c.get("/api/frontend", params={"userId": user}, headers={"Authorization": token})
    assert r.status_code == 200, r.text
    return [t["name"] for t in r.json()["toggles"]]


async def test_the_frontend_api_sees_each_write_and_revocation_of_another_gateway(
    client: httpx.AsyncClient, other: httpx.AsyncClient, store: Store, backend: str
) -> None:
    """The frontend API reads neither the token's holder nor the tenant's revision from the
    store while nothing was committed (on SQLite: the file's data version), so this proves the
    check sees every commit of another connection at once: each poll below follows a write
    through the other gateway (or the store, as ``segmux tokens revoke`` would) directly."""
    admin = {"Authorization": await make_token(store, "tenant-a")}
    front = await make_token(store, "tenant-a", scope="frontend:development", name="web")
    auth = {"Authorization": front}
    assert await _front(other, front, "u1") == []
    r = await client.post(
        "/api/admin/segments",
        json={
            "name": "beta",
            "constraints": [{"contextName": "userId", "operator": "IN", "values": ["u1"]}],
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    seq = r.json()["id"]
    features = "/api/admin/projects/default/features"
    r = await client.post(features, json={"name": "f1"}, headers=admin)
    assert r.status_code in (200, 201), r.text
    r = await client.post(
        f"{features}/f1/environments/development/strategies",
        json={"name": "default", "constraints": [], "parameters": {}, "segments": [seq]},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    assert await _front(other, front, "u1") == []  # not enabled yet
    r = await client.post(f"{features}/f1/environments/development/on", headers=admin)
    assert r.status_code == 200, r.text
    assert await _front(other, front, "u1") == ["f1"]
    assert await _front(other, front, "u2") == []
    beta_u2 = [{"contextName": "userId", "operator": "IN", "values": ["u2"]}]
    r = await client.put(
        f"/api/admin/segments/{seq}", json={"name": "beta", "constraints": beta_u2}, headers=admin
    )
    assert r.status_code == 204, r.text
    assert await _front(other, front, "u1") == []
    assert await _front(other, front, "u2") == ["f1"]
    await store.revoke_token(await _token_id(store, "tenant-a", "web"))
    statuses = []
    for _ in range(100):
        r = await other.get("/api/frontend", params={"userId": "u2"}, headers=auth)
        statuses.append(r.status_code)
        if r.status_code == 401:
            break
        await asyncio.sleep(0)  # PostgreSQL: a turn of the loop reads the revocation's NOTIFY
    assert statuses[-1] == 401, statuses
    if backend == "sqlite":
        assert statuses == [401]


async def _token_id(store: Store, tenant: str, name: str) -> str:
    return next(t.id for t in await store.list_tokens(tenant) if t.name == name)


async def test_a_revoked_token_stops_working_on_the_gateway_that_revoked_it(
    client: httpx.AsyncClient, store: Store
) -> None:
    token = await make_token(store, "tenant-a", name="doomed")
    for _ in range(3):
        assert (await _evaluate(client, token, {}))["results"] == {}
    await store.revoke_token(await _token_id(store, "tenant-a", "doomed"))
    r = await client.post(
        "/segmux/v1/evaluate", json={"context": {}}, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 401


async def test_a_revoked_token_stops_working_on_every_gateway(
    client: httpx.AsyncClient, other: httpx.AsyncClient, store: Store, backend: str
) -> None:
    """Revoked by another process (``segmux tokens revoke``): on SQLite a cached lookup is used
    only while the file's data version is unchanged, and the revoking commit changes it, so the
    next request fails; on PostgreSQL the revocation's NOTIFY drops the cached
    lookup when it is delivered (at the revoking commit, over the local socket: within a few
    turns of the event loop, well before the cache's 1 s bound would end the entry anyway)."""
    token = await make_token(store, "tenant-a", name="doomed")
    bearer = {"Authorization": f"Bearer {token}"}
    for _ in range(3):
        assert (await _evaluate(other, token, {}))["results"] == {}
    await store.revoke_token(await _token_id(store, "tenant-a", "doomed"))
    statuses = []
    for _ in range(100):
        r = await other.post("/segmux/v1/evaluate", json={"context": {}}, headers=bearer)
        statuses.append(r.status_code)
        if r.status_code == 401:
            break
        await asyncio.sleep(0)  # a turn of the loop: the notification is read
    assert statuses[-1] == 401, statuses
    if backend == "sqlite":
        assert statuses == [401]
    for _ in range(3):  # and it never works again
        r = await other.post("/segmux/v1/evaluate", json={"context": {}}, headers=bearer)
        assert r.status_code == 401


_WRITE_IN_ANOTHER_PROCESS = """
import asyncio, sys
from core.expr.ast import In, Lit, encode
from core.expr.normalize import normalize
from core.model import NewSegment
from core.store import open_store

async def main(url: str) -> None:
    store = await open_store(url)
    try:
        rule = normalize(In(("country",), (Lit("string", "SE"),)))
        assert rule is not None
        new = NewSegment(name="from-elsewhere", expression=encode(rule))
        await store.create_segment("tenant-a", new, None)
    finally:
        await store.close()

asyncio.run(main(sys.argv[1]))
"""


async def _in_another_process(args: list[str], url: str) -> None:
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SEGMUX_DATABASE_URL": url},
    )
    assert done.returncode == 0, done.stderr


async def test_a_kept_answer_sees_the_next_commit_of_another_process(
    other: httpx.AsyncClient, store: Store, store_url: str
) -> None:
    """A real second process, not a second store in this one: on SQLite what tells a kept answer
    that nothing changed is the file's shared WAL index (``core.store.sqlite.wal_index``), which
    every process's commits rewrite. The answer kept before each commit is never served after
    it: the next request sees the new segment, then the revocation."""
    token = await make_token(store, "tenant-a", name="polled")
    admin = {"Authorization": token}

    async def listed() -> list[str]:
        r = await other.get("/api/admin/segments", headers=admin)
        assert r.status_code == 200, r.text
        return [s["name"] for s in r.json()["segments"]]

    for _ in range(3):  # built, then kept
        assert await listed() == []
    await _in_another_process(["-c", _WRITE_IN_ANOTHER_PROCESS, store_url], store_url)
    assert await listed() == ["from-elsewhere"]
    assert await listed() == ["from-elsewhere"]
    token_id = await _token_id(store, "tenant-a", "polled")
    await _in_another_process(["-m", "gateway.cli", "tokens", "revoke", token_id], store_url)
    r = await other.get("/api/admin/segments", headers=admin)
    assert r.status_code == 401, r.text


async def test_unleash_segment_list_sees_each_write_of_another_gateway(
    client: httpx.AsyncClient, other: httpx.AsyncClient, store: Store
) -> None:
    admin = {"Authorization": await make_token(store, "tenant-a")}
    sdk = await make_token(store, "tenant-a", scope="client:development", name="sdk")

    async def listed() -> list[dict[str, Any]]:
        r = await other.get("/api/admin/segments", headers=admin)
        assert r.status_code == 200, r.text
        segments: list[dict[str, Any]] = r.json()["segments"]
        return segments

    assert await listed() == []
    r = await client.post(
        "/api/admin/segments", json={"name": "se", "constraints": [SE]}, headers=admin
    )
    seq = r.json()["id"]
    (one,) = await listed()
    assert one["constraints"][0]["values"] == ["SE"] and one["usedInFeatures"] == 0
    await client.post("/api/admin/projects/default/features", json={"name": "f1"}, headers=admin)
    strategies = "/api/admin/projects/default/features/f1/environments/development/strategies"
    r = await client.post(
        strategies,
        json={"name": "default", "constraints": [], "parameters": {}, "segments": [seq]},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    (one,) = await listed()
    assert one["usedInFeatures"] == 1  # usage comes from rules: their writes count too
    r = await client.put(
        f"/api/admin/segments/{seq}", json={"name": "se", "constraints": [NO]}, headers=admin
    )
    (one,) = await listed()
    assert one["constraints"][0]["values"] == ["NO"]
    # A client token never gets the admin page the cache holds.
    r = await other.get("/api/admin/segments", headers={"Authorization": sdk})
    assert r.status_code in (401, 403), r.text


def _names(dialect: str, body: dict[str, Any]) -> list[str]:
    if dialect == "v23":
        return [s["name"] for s in body["result"]["items"]]
    if dialect == "adobe":
        return [s["name"] for s in body["segments"]]
    if dialect == "segmux":
        return [s["name"] for s in body["items"]]
    if dialect == "hal":
        return [s["name"] for s in body["_embedded"]["individual-segments"]]
    return [s["displayName"] for s in body["segments"]]


# Every surface that lists segments (those with a spec), but Unleash: its list has its own test
# above. A new surface fails here until its list's path is added below.
@pytest.mark.parametrize(
    "dialect", [s.name for s in SURFACES if s.spec and s.serves_segments and s.name != "unleash"]
)
async def test_first_pages_see_each_write_of_another_gateway(
    client: httpx.AsyncClient, other: httpx.AsyncClient, store: Store, dialect: str
) -> None:
    token = await make_token(store, "tenant-a")
    bearer = {"Authorization": f"Bearer {token}"}
    path, headers = {
        "v23": ("/v2.3/data/segments", bearer),
        "adobe": (
            "/data/core/ups/segment/definitions",
            {**bearer, "x-api-key": "app", "x-gw-ims-org-id": "tenant-a@AdobeOrg"},
        ),
        "confidence": ("/v1/segments", bearer),
        "segmux": ("/segmux/v1/segments", bearer),
        "hal": ("/prod/individual-segments", bearer),
    }[dialect]

    async def listed() -> list[str]:
        r = await other.get(path, headers=headers)
        assert r.status_code == 200, r.text
        return _names(dialect, r.json())

    assert await listed() == []
    admin = {"Authorization": token}
    r = await client.post(
        "/api/admin/segments", json={"name": "first", "constraints": [SE]}, headers=admin
    )
    seq = r.json()["id"]
    assert await listed() == ["first"]
    r = await client.put(
        f"/api/admin/segments/{seq}", json={"name": "renamed", "constraints": [SE]}, headers=admin
    )
    assert r.status_code == 204, r.text
    assert await listed() == ["renamed"]
    await client.delete(f"/api/admin/segments/{seq}", headers=admin)
    assert await listed() == []


async def test_ofrep_bulk_sees_each_write_of_another_gateway(
    client: httpx.AsyncClient, other: httpx.AsyncClient, store: Store
) -> None:
    """OFREP's bulk answer on one gateway, its ETag held, then writes through Unleash's and
    Confidence's APIs on the other: the next bulk request shows each (a new answer, not a
    304)."""
    admin = await make_token(store, "tenant-a")
    ofrep = await make_token(store, "tenant-a", scope="ofrep:development", name="ofrep")

    async def flags(etag: str | None = None) -> tuple[int, dict[str, Any], str]:
        headers = {"Authorization": f"Bearer {ofrep}"}
        if etag is not None:
            headers["If-None-Match"] = etag
        r = await other.post(
            "/ofrep/v1/evaluate/flags", json={"context": {"targetingKey": "u1"}}, headers=headers
        )
        assert r.status_code in (200, 304), r.text
        found = {f["key"]: f.get("value") for f in r.json()["flags"]} if r.content else {}
        return r.status_code, found, r.headers["etag"]

    _, found, etag = await flags()
    assert found == {}
    unleash = {"Authorization": admin}
    features = "/api/admin/projects/default/features"
    r = await client.post(features, json={"name": "beta"}, headers=unleash)
    assert r.status_code == 201, r.text
    r = await client.post(
        f"{features}/beta/environments/development/strategies",
        json={"name": "default"},
        headers=unleash,
    )
    assert r.status_code == 200, r.text
    r = await client.post(f"{features}/beta/environments/development/on", headers=unleash)
    assert r.status_code == 200, r.text
    status, found, etag = await flags(etag)
    assert (status, found) == (200, {"beta": True})
    assert (await flags(etag))[0] == 304
    r = await client.post(f"{features}/beta/environments/development/off", headers=unleash)
    assert r.status_code == 200, r.text
    status, found, etag = await flags(etag)
    assert (status, found) == (200, {"beta": False})
    # A Confidence flag: everyone (a segment that matches all) gets "on".
    await post(client, admin, "/v1/segments", {}, segmentId="everyone")
    name, _ = await make_client(client, admin)
    await make_flag(
        client,
        admin,
        "dark",
        schema={"schema": {"on": {"boolSchema": {}}}},
        clients=[name],
        variants={"on": {"on": True}},
        rules=[everyone_gets("dark", "on", "segments/everyone")],
    )
    status, found, _ = await flags(etag)
    assert (status, found) == (200, {"beta": False, "dark": {"on": True}})
