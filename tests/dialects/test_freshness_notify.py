"""``notify`` freshness (the default, ``core.store.revisions``): a gateway trusts the tenant
revision it read until PostgreSQL announces a change, so kept answers and caches cost no query.

Proven here, through the HTTP surface of two gateways on one database (two stores and two apps
stand for two processes, each with its own LISTEN connection):

* its own writes are seen by its very next read (the commit forgets what it knew);
* another gateway's write is seen as soon as the notification is delivered — a few turns of
  the event loop on one host — never later than the 1 s bound even if one were lost;
* while its LISTEN connection is down it trusts nothing: every read checks the revision.

On SQLite there is nothing to listen to: both modes are strict, and the very next read shows
another process's write.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from core.store import Store
from core.store.revisions import KnownRevisions
from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import make_token

SE = {"contextName": "country", "operator": "IN", "values": ["SE"]}


@pytest.fixture
def other_app(other_store: Store, settings: Settings) -> Any:
    assert settings.freshness == "notify"  # the default
    return create_app(settings, store=other_store)


@pytest.fixture
async def other(other_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=other_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://other.test") as c:
        yield c


async def _listening(store: Store) -> None:
    """Wait until the store's LISTEN connection is up (it starts on first use)."""
    deadline = time.monotonic() + 10
    while await store.token_epoch() is None:
        assert time.monotonic() < deadline, "the LISTEN connection never came up"
        await asyncio.sleep(0.01)


async def _eventually(read: Callable[[], Awaitable[Any]], want: Any, backend: str) -> int:
    """Reads until ``read()`` gives ``want``; returns how many reads were stale. On SQLite the
    first read must already be fresh; on PostgreSQL within 1 s (the bound of a lost one)."""
    stale = 0
    deadline = time.monotonic() + 1.5
    while (got := await read()) != want:
        assert backend == "postgres", f"SQLite is strict: {got!r} != {want!r}"
        assert time.monotonic() < deadline, f"still {got!r}, want {want!r}"
        stale += 1
        await asyncio.sleep(0.001)
    return stale


def _paths(token: str, seq: int) -> dict[str, tuple[str, dict[str, str], Callable[[Any], Any]]]:
    bearer = {"Authorization": f"Bearer {token}"}
    adobe = {**bearer, "x-api-key": "app", "x-gw-ims-org-id": "tenant-a@AdobeOrg"}
    return {
        "unleash list": (
            "/api/admin/segments",
            {"Authorization": token},
            lambda b: [s["name"] for s in b["segments"]],
        ),
        "unleash get": (
            f"/api/admin/segments/{seq}",
            {"Authorization": token},
            lambda b: b["name"],
        ),
        "v23 list": (
            "/v2.3/data/segments",
            bearer,
            lambda b: [s["name"] for s in b["result"]["items"]],
        ),
        "adobe list": (
            "/data/core/ups/segment/definitions",
            adobe,
            lambda b: [s["name"] for s in b["segments"]],
        ),
        "confidence list": (
            "/v1/segments",
            bearer,
            lambda b: [s["displayName"] for s in b["segments"]],
        ),
        "segmux list": ("/segmux/v1/segments", bearer, lambda b: [s["name"] for s in b["items"]]),
        "hal list": (
            "/prod/individual-segments",
            bearer,
            lambda b: [s["name"] for s in b["_embedded"]["individual-segments"]],
        ),
    }


async def test_another_gateways_write_is_seen_once_announced(
    client: httpx.AsyncClient,
    other: httpx.AsyncClient,
    other_store: Store,
    store: Store,
    other_app: Any,
    backend: str,
) -> None:
    token = await make_token(store, "tenant-a")
    admin = {"Authorization": token}
    r = await client.post(
        "/api/admin/segments", json={"name": "before", "constraints": [SE]}, headers=admin
    )
    seq = r.json()["id"]
    if backend == "postgres":
        await _listening(other_store)
    paths = _paths(token, seq)

    def reader(
        path: str, headers: dict[str, str], view: Callable[[Any], Any]
    ) -> Callable[[], Awaitable[Any]]:
        async def read() -> Any:
            r = await other.get(path, headers=headers)
            assert r.status_code == 200, r.text
            return view(r.json())

        return read

    for name, (path, headers, view) in paths.items():  # warm: kept answers on `other`
        want = "before" if name == "unleash get" else ["before"]
        await _eventually(reader(path, headers, view), want, backend)
        assert await reader(path, headers, view)() == want
    hits = other_app.state.services.answers.hits
    assert hits >= len(paths)  # the second reads were kept answers
    r = await client.put(
        f"/api/admin/segments/{seq}", json={"name": "after", "constraints": [SE]}, headers=admin
    )
    assert r.status_code == 204, r.text
    for name, (path, headers, view) in paths.items():
        want = "after" if name == "unleash get" else ["after"]
        await _eventually(reader(path, headers, view), want, backend)


async def test_own_writes_are_seen_by_the_very_next_read(
    other: httpx.AsyncClient, other_store: Store, store: Store, backend: str
) -> None:
    token = await make_token(store, "tenant-a")
    admin = {"Authorization": token}
    if backend == "postgres":
        await _listening(other_store)
    r = await other.post(
        "/api/admin/segments", json={"name": "v0", "constraints": [SE]}, headers=admin
    )
    seq = r.json()["id"]
    paths = _paths(token, seq)
    for round_ in range(1, 4):
        for _ in range(2):  # the second read of each is a kept answer
            for name, (path, headers, view) in paths.items():
                r = await other.get(path, headers=headers)
                want = f"v{round_ - 1}"
                assert view(r.json()) == (want if name == "unleash get" else [want]), name
        r = await other.put(
            f"/api/admin/segments/{seq}",
            json={"name": f"v{round_}", "constraints": [SE]},
            headers=admin,
        )
        assert r.status_code == 204, r.text


async def test_without_its_listen_connection_a_gateway_trusts_nothing(
    client: httpx.AsyncClient,
    other: httpx.AsyncClient,
    other_store: Store,
    store: Store,
    backend: str,
) -> None:
    token = await make_token(store, "tenant-a")
    admin = {"Authorization": token}

    async def names() -> list[str]:
        r = await other.get("/api/admin/segments", headers=admin)
        return [s["name"] for s in r.json()["segments"]]

    if backend == "sqlite":
        # Nothing to listen to: a revision is trusted only while the file's data version is
        # the one it was read at, which any commit by any connection changes.
        assert await names() == [] and await names() == []
        known = other_store.known_revision("tenant-a")
        assert known is not None and known == await other_store.tenant_revision("tenant-a")
        r = await client.post(
            "/api/admin/segments", json={"name": "new", "constraints": [SE]}, headers=admin
        )
        assert r.status_code == 201, r.text
        assert other_store.known_revision("tenant-a") is None
        assert await names() == ["new"]
        return
    from core.store.postgres.backend import PostgresStore

    assert isinstance(store, PostgresStore) and isinstance(other_store, PostgresStore)
    await _listening(other_store)
    assert await names() == [] and await names() == []
    assert other_store.known_revision("tenant-a") is not None
    # Cut every LISTEN session but the test's own: the listener finds out and stops trusting.
    async with store._read() as tx:
        await tx.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid()"
        )
    deadline = time.monotonic() + 10
    while other_store.known_revision("tenant-a") is not None:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    r = await client.post(
        "/api/admin/segments", json={"name": "new", "constraints": [SE]}, headers=admin
    )
    assert r.status_code == 201
    assert await names() == ["new"]  # the very next read: it read the revision
    await _listening(other_store)  # and it reconnects on its own
    await _eventually(names, ["new"], backend)


def test_known_revisions_are_filed_only_if_nothing_happened_meanwhile() -> None:
    known = KnownRevisions(ttl=60)
    assert known.get("t") is None
    started = known.generation
    known.file("t", 5, started)
    assert known.get("t") is None  # not listening: nothing kept
    known.listen(True)
    started = known.generation
    known.changed("u")  # any announcement during a read voids it
    known.file("t", 5, started)
    assert known.get("t") is None
    started = known.generation
    known.file("t", 6, started)
    assert known.get("t") == 6
    known.changed("t")
    assert known.get("t") is None
    known.file("t", 7, known.generation)
    known.listen(False)
    assert known.get("t") is None


def test_a_known_revision_expires_even_without_a_notification() -> None:
    known = KnownRevisions(ttl=0.01)
    known.listen(True)
    known.file("t", 1, known.generation)
    assert known.get("t") == 1
    time.sleep(0.02)
    assert known.get("t") is None
