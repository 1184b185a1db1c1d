"""What a segment create or update costs the database, and the order of its refusals.

A create or an update reads a segment only by a unique key (its seq, or the name's unique key
through the write itself), whatever the planner knows of the table: on a table it has no
statistics of (a new database, until autovacuum analyzes it) a read of the name by tenant,
sandbox and name was planned through ``segments_by_created`` with the name as a filter, a scan
of every segment of the tenant on every create. The plans are asserted with the statistics of
``segments`` removed (in a transaction rolled back), as on a new database.

Moving the name's check into the write keeps Unleash's order: a taken name is refused before
what Unleash checks after it (the project), on both backends."""

from __future__ import annotations

import json
import re
from typing import Any

import asyncpg
import httpx
import pytest

from core.model import NewSegment
from core.store import Store
from core.store.postgres import backend as pg_backend
from core.store.sqlite import backend as sqlite_backend
from core.store.sqlite import writer as sqlite_writer
from tests.dialects.unleash.helpers import (
    SEGMENTS,
    add_strategy,
    auth,
    create_feature,
    create_segment,
)

Statement = tuple[str, tuple[Any, ...]]
UNIQUE_KEYS = {"segments_pkey", "segments_seq", "segments_slug", "segments_name"}
"""PostgreSQL's indexes of ``segments`` that find at most one row."""
N = 2000
"""Enough segments that a lookup by a key of one column after the tenant (``segments_by_state``)
is estimated to find several rows even without statistics (with a few hundred, every index
led by the tenant ties with the unique keys: a bounded cost); the tenant's and the sandbox's
together still look like one row (the estimate of the name's read reached 2 only near 40,000
segments)."""


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[Statement]:
    """Every statement the store runs from here on: (sql, args)."""
    seen: list[Statement] = []
    # SQLite runs a write's statements at once on the writer's thread (NowTx) and some reads
    # on the event loop's (_QuickTx); each class's own methods are wrapped, once.
    classes = (pg_backend._Tx, sqlite_backend._Tx, sqlite_writer.NowTx, sqlite_backend._QuickTx)
    for tx in classes:
        for name in ("fetch", "fetchrow", "execute"):
            if name not in vars(tx):
                continue

            async def record(self: Any, sql: str, *args: Any, _f: Any = vars(tx)[name]) -> Any:
                seen.append((sql, args))
                return await _f(self, sql, *args)

            monkeypatch.setattr(tx, name, record)
    return seen


def _planned(statements: list[Statement]) -> list[Statement]:
    """The statements with a plan that may read ``segments`` (not BEGIN, COMMIT, SET...)."""
    return [
        (sql, args)
        for sql, args in statements
        if "segments" in sql and re.match(r"\s*(SELECT|WITH|INSERT|UPDATE|DELETE)", sql, re.I)
    ]


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(n for child in plan.get("Plans", []) for n in _nodes(child))]


async def _pg_reads(url: str, statements: list[Statement]) -> list[tuple[str, str]]:
    """How each statement's plan reads ``segments`` when the table has no statistics: (sql,
    a scan that is not a lookup by a unique key), for every such scan."""
    conn = await asyncpg.connect(url)
    found: list[tuple[str, str]] = []
    try:
        tr = conn.transaction()
        await tr.start()
        # As on a table never analyzed (the relcache and syscache see the change at once).
        await conn.execute("DELETE FROM pg_statistic WHERE starelid = 'segments'::regclass")
        await conn.execute(
            "UPDATE pg_class SET reltuples = -1, relpages = 0 WHERE oid = 'segments'::regclass"
        )
        for sql, args in statements:
            row = await conn.fetchrow(f"EXPLAIN (FORMAT JSON) {sql}", *args)
            assert row is not None
            for node in _nodes(json.loads(row["QUERY PLAN"])[0]["Plan"]):
                index = node.get("Index Name", "")
                if node.get("Relation Name") == "segments" and node["Node Type"] == "Seq Scan":
                    found.append((sql, "Seq Scan"))
                elif index.startswith("segments") and index not in UNIQUE_KEYS:
                    found.append((sql, f"{node['Node Type']} using {index}"))
        await tr.rollback()
    finally:
        await conn.close()
    return found


async def _sqlite_reads(store: Store, statements: list[Statement]) -> list[tuple[str, str]]:
    """The same on SQLite: every step of a plan that scans ``segments`` or searches it by a
    key that is not unique."""
    found: list[tuple[str, str]] = []
    async with store._read() as tx:  # type: ignore[attr-defined]
        for sql, args in statements:
            for row in await tx.fetch(f"EXPLAIN QUERY PLAN {sql}", *args):
                detail = str(row["detail"])
                if re.match(r"SCAN (segments|s)\b", detail) or re.search(
                    r"INDEX segments_by_", detail
                ):
                    found.append((sql, detail))
    return found


async def _reads(store: Store, backend: str, statements: list[Statement]) -> list[tuple[str, str]]:
    planned = _planned(statements)
    assert planned, "the write ran no statement on segments"
    if backend == "postgres":
        return await _pg_reads(store.url, planned)  # type: ignore[attr-defined]
    return await _sqlite_reads(store, planned)


async def _fill(store: Store) -> None:
    """N segments in the tenant's sandbox (the tenant's limit raised above them): a scan of
    them is what the plans must not do."""
    await store.update_tenant_settings("tenant-a", {"limits": {"segments": 2 * N}})
    for i in range(N):
        await store.create_segment("tenant-a", NewSegment(name=f"seg-{i:04d}"), "tester")


async def test_create_and_rename_read_segments_only_by_unique_keys(
    client: httpx.AsyncClient,
    store: Store,
    token_a: str,
    backend: str,
    statements: list[Statement],
) -> None:
    await _fill(store)
    statements.clear()
    created = await create_segment(client, token_a, "new one")
    assert await _reads(store, backend, statements) == []
    statements.clear()
    r = await client.put(
        f"{SEGMENTS}/{created['id']}",
        json={"name": "renamed", "constraints": []},
        headers=auth(token_a),
    )
    assert r.status_code == 204, r.text
    assert await _reads(store, backend, statements) == []


# --- the order of refusals: the name before the project -------------------------------------


def name_exists(r: httpx.Response, status: int) -> None:
    assert r.status_code == status, r.text
    assert r.json() == {
        "name": "NameExistsError",
        "message": "Segment name already exists",
        "details": [{"message": "Segment name already exists"}],
    }


async def test_create_refuses_a_taken_name_before_an_unknown_project(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    await create_segment(client, token_a, "dup")
    body = {"name": "dup", "constraints": [], "project": "nope"}
    name_exists(await client.post(SEGMENTS, json=body, headers=auth(token_a)), 400)
    # A taken name and a taken id: the name is refused first too.
    seven = await create_segment(client, token_a, "seven", id=7)
    body = {"name": "dup", "constraints": [], "id": seven["id"]}
    name_exists(await client.post(SEGMENTS, json=body, headers=auth(token_a)), 400)
    assert await store.count_segments("tenant-a") == 2
    # A free name with the unknown project is the project's refusal.
    body = {"name": "free", "constraints": [], "project": "nope"}
    r = await client.post(SEGMENTS, json=body, headers=auth(token_a))
    assert (r.status_code, r.json()["name"]) == (400, "BadDataError")


async def test_rename_refuses_a_taken_name_before_the_project(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    await store.create_project("tenant-a", "red", "Red")
    await create_segment(client, token_a, "taken")
    mine = await create_segment(client, token_a, "mine")
    await create_feature(client, token_a, "f1")
    await add_strategy(client, token_a, "f1", [mine["id"]])
    url = f"{SEGMENTS}/{mine['id']}"
    for project in ("nope", "red"):  # unknown; used by strategies of another project
        body = {"name": "taken", "constraints": [], "project": project}
        name_exists(await client.put(url, json=body, headers=auth(token_a)), 409)
    got = (await client.get(url, headers=auth(token_a))).json()
    assert got["name"] == "mine"
    # Its own name with those projects: the project's refusals.
    for project in ("nope", "red"):
        body = {"name": "mine", "constraints": [], "project": project}
        r = await client.put(url, json=body, headers=auth(token_a))
        assert (r.status_code, r.json()["name"]) == (400, "BadDataError")
