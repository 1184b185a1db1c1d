"""Crashes: ``kill -9`` of ``segmux serve`` in the middle of a burst of writes, on both backends.

After a restart on the same store every write that was acknowledged (a 2xx reached the client)
is there and intact, and no segment is half-written: whatever exists — acknowledged or caught in
flight — is whole (its condition, its dialect's extensions, its bucket bitset), and the
per-tenant counter that numbers segments is ahead of every number given out.
"""

from __future__ import annotations

import asyncio
import base64
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from core.buckets import from_bytes
from tests import pg
from tests.reliability import dialects as d
from tests.reliability.procs import Gateway

KILL_AFTER = 40  # acknowledged writes before the kill
IN_FLIGHT = 24


def _confidence_body(name: str) -> dict[str, Any]:
    return {
        "displayName": name,
        "allocation": {"proportion": {"value": "0.3"}},
        "labels": {"burst": "yes"},
        "targeting": {
            "criteria": {
                "c": {
                    "attribute": {
                        "attributeName": "country",
                        "eqRule": {"value": {"stringValue": "SE"}},
                    }
                }
            },
            "expression": {"ref": "c"},
        },
    }


# What each write sends, and how to tell a whole segment from a half-written one.
BURST: dict[str, tuple[str, str, Any, int]] = {
    # dialect: (method, path, body maker, status of success)
    "adobe": ("POST", d.ADOBE_DEFS, d.adobe_body, 200),
    "unleash": (
        "POST",
        "/api/admin/segments",
        lambda n: {
            "name": n,
            "description": "burst",
            "constraints": [{"contextName": "plan", "operator": "IN", "values": ["pro", "team"]}],
        },
        201,
    ),
    "confidence": ("POST", "/v1/segments", _confidence_body, 200),
    "hal": ("POST", d.HAL_SEGMENTS, d.hal_body, 200),
    "segmux": (
        "POST",
        "/segmux/v1/segments",
        lambda n: {
            "name": n,
            "description": "burst",
            "condition": {"language": "pql", "expression": 'plan = "pro"'},
        },
        201,
    ),
}
DIALECTS = list(BURST)


def _headers(dialect: str) -> dict[str, str]:
    return {"adobe": d.adobe(), "unleash": d.unleash()}.get(dialect, d.bearer())


async def _whole(c: httpx.AsyncClient, dialect: str, name: str) -> dict[str, Any] | None:
    """The segment ``name`` as its own dialect shows it, after checking that every part of it
    the write sent is there; None if it does not exist."""
    k = await d.find(c, name)
    if k is None:
        return None
    if dialect == "adobe":
        r = await c.get(f"{d.ADOBE_DEFS}/{k.id}", headers=d.adobe())
        b = r.json()
        assert (b["name"], b["ttlInDays"], b["expression"]["value"], b["description"]) == (
            name,
            45,
            'homeAddress.country = "SE"',
            f"{name} (Adobe)",
        ), b
    elif dialect == "unleash":
        b = (await c.get(f"/api/admin/segments/{k.seq}", headers=d.unleash())).json()
        assert b["constraints"] == BURST["unleash"][2](name)["constraints"], b
    elif dialect == "confidence":
        r = await c.get(f"/v1/segments/{k.slug}", params={"view": "FULL"}, headers=d.bearer())
        b = r.json()
        assert (b["labels"], b["state"], b["allocation"]["proportion"]) == (
            {"burst": "yes"},
            "OK",
            {"value": "0.3"},
        ), b
        bits = from_bytes(base64.b64decode(b["bitsetAllocation"]["bitset"]))
        assert bits.bit_count() == 300_000, "the bitset of a 0.3 allocation is incomplete"
        assert b["targeting"]["criteria"], b
    elif dialect == "hal":
        b = (await c.get(f"{d.HAL_SEGMENTS}/{k.slug}", headers=d.bearer())).json()
        assert (b["segmentType"], b["filter"]) == ("DYNAMIC", "homeAddress/country eq 'NO'"), b
    else:
        b = (await d.segmux_get(c, k)).json()
        assert (b["description"], b["expression"] is not None) == ("burst", True), b
    assert isinstance(b, dict)
    return b


async def _burst(gw: Gateway) -> tuple[dict[str, str], list[str]]:
    """Writes from :data:`IN_FLIGHT` clients until :data:`KILL_AFTER` are acknowledged, then
    SIGKILL. Returns the acknowledged names (-> dialect) and every name attempted."""
    acked: dict[str, str] = {}
    attempted: list[str] = []
    killed = asyncio.Event()
    counter = iter(range(10**6))

    async def writer(c: httpx.AsyncClient) -> None:
        while not killed.is_set():
            n = next(counter)
            dialect = DIALECTS[n % len(DIALECTS)]
            method, path, make, ok = BURST[dialect]
            name = f"burst-{dialect}-{n:04}"
            attempted.append(name)
            try:
                r = await c.request(method, path, json=make(name), headers=_headers(dialect))
            except httpx.TransportError:
                return  # the process is gone: this write was never acknowledged
            assert r.status_code == ok, r.text
            acked[name] = dialect
            if len(acked) >= KILL_AFTER and not killed.is_set():
                killed.set()
                gw.kill()  # SIGKILL, other writes still in flight

    limits = httpx.Limits(max_connections=IN_FLIGHT)
    async with httpx.AsyncClient(base_url=gw.url, timeout=60, limits=limits) as c:
        await asyncio.gather(*(writer(c) for _ in range(IN_FLIGHT)))
    return acked, attempted


@pytest.fixture(params=["sqlite", "postgres"])
def crash_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/crash.db"
        return
    url = pg.create_database("segmux_crash", template=request.getfixturevalue("pg_template"))
    yield url
    pg.drop_database(url)


async def _counters(url: str) -> tuple[int, int, int]:
    """(segments, highest seq, the tenant's next seq), read from the store itself."""
    sql = (
        "SELECT (SELECT count(*) FROM segments WHERE tenant = 'default'), "
        "(SELECT COALESCE(max(seq), 0) FROM segments WHERE tenant = 'default'), "
        "(SELECT next_seq FROM tenants WHERE name = 'default')"
    )
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            row = conn.execute(sql).fetchone()
        return int(row[0]), int(row[1]), int(row[2])
    conn = await asyncpg.connect(url)
    try:
        rec = await conn.fetchrow(sql)
    finally:
        await conn.close()
    assert rec is not None
    return int(rec[0]), int(rec[1]), int(rec[2])


async def test_kill_9_mid_burst_loses_no_acknowledged_write(
    crash_store: str, tmp_path: Path
) -> None:
    gw = Gateway(crash_store, tmp_path).start()
    try:
        acked, attempted = await _burst(gw)
        assert not gw.alive()
        assert len(acked) >= KILL_AFTER
        assert len(attempted) > len(acked)  # the kill did land mid-burst, writes in flight

        gw.start()  # the same store, the same port
        async with httpx.AsyncClient(base_url=gw.url, timeout=60) as c:
            existing = 0
            for name in attempted:
                dialect = name.split("-")[1]
                found = await _whole(c, dialect, name)
                if name in acked:
                    assert found is not None, f"acknowledged write {name} was lost"
                existing += found is not None
            count, top_seq, next_seq = await _counters(crash_store)
            assert count == existing  # nothing but what the burst wrote, each once
            assert next_seq > top_seq
            # And the store takes writes again, numbering on from where it was.
            r = await d.UNLEASH_DIALECT.create(c, "after-the-crash")
            assert r.status_code == 201, r.text
            assert r.json()["id"] > top_seq
    finally:
        gw.stop()
    assert not gw.own_tracebacks(), gw.output()
