"""A page of a segment's members is answered by the database: one query for the page and its
total, whatever the number of individuals; only a page past the end adds a count (asserted on
the statements the store runs, and on PostgreSQL's plan; ``bench/hal_members.py`` measures it
with 100,000 individuals).

SQLite carries the total on each row (``count(*) OVER ()``). PostgreSQL's statement counts in
a subquery only when the sandbox's individuals or memberships changed since the last count of
the same listing (``core.store.profile_totals``), so a repeated page reads just its rows; the
totals here are checked after every kind of write, from this process and from another one."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from core.store import Store
from core.store.postgres import backend as pg_backend
from core.store.sqlite import backend as sqlite_backend
from tests.dialects.hal.hal import Hal, age, embedded, href, identifiers

Statement = tuple[str, tuple[Any, ...], int]


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[Statement]:
    """Every statement the store runs: (sql, args, rows returned)."""
    seen: list[Statement] = []
    for module in (pg_backend, sqlite_backend):
        tx = module._Tx
        fetch, fetchrow = tx.fetch, tx.fetchrow

        async def record_fetch(self: Any, sql: str, *args: Any, _f: Any = fetch) -> Any:
            rows = await _f(self, sql, *args)
            seen.append((sql, args, len(rows)))
            return rows

        async def record_fetchrow(self: Any, sql: str, *args: Any, _f: Any = fetchrow) -> Any:
            row = await _f(self, sql, *args)
            seen.append((sql, args, 0 if row is None else 1))
            return row

        monkeypatch.setattr(tx, "fetch", record_fetch)
        monkeypatch.setattr(tx, "fetchrow", record_fetchrow)
    return seen


async def load(store: Store, n: int, sandbox: str = "big") -> None:
    for i in range(n):
        await store.create_profile(
            "tenant-a", sandbox, f"p{i:05d}", {"demographics": age(str(20 + i % 50))}
        )


def on_profiles(seen: list[Statement]) -> list[Statement]:
    return [s for s in seen if "profiles p" in s[0]]


async def test_first_page_of_dynamic_members_is_one_query(
    client: httpx.AsyncClient,
    store: Store,
    token_a: str,
    statements: list[Statement],
    backend: str,
) -> None:
    await load(store, 500)
    hal = Hal(client, token_a, "big")
    thirty = await hal.create_segment("Thirty", "demographics/age/value eq '30'")
    statements.clear()

    doc = await hal.members(thirty)

    assert identifiers(doc)[:2] == ["p00010", "p00060"]
    assert doc["page"]["totalElements"] == 10
    queries = on_profiles(statements)
    assert len(queries) == 1, queries
    (page,) = queries
    assert "count(*)" in page[0] and "LIMIT" in page[0] and page[2] == 10
    # nothing else reads individuals: no Python-side scan
    assert sum(rows for sql, _, rows in statements if "profiles" in sql) == 10
    if backend == "postgres":
        assert "@?" in page[0]  # the GIN index hint for the string equality
        await assert_single_limited_plan(store, page)


async def test_a_full_page_reads_only_the_page(
    client: httpx.AsyncClient,
    store: Store,
    token_a: str,
    statements: list[Statement],
) -> None:
    await load(store, 300)
    hal = Hal(client, token_a, "big")
    adults = await hal.create_segment("Adults", "demographics/age/value ge 21")
    statements.clear()
    doc = await hal.members(adults)
    assert doc["page"] == {"size": 20, "totalElements": 294, "totalPages": 15, "number": 0}
    (page,) = on_profiles(statements)
    assert page[2] == 20
    statements.clear()
    last = await hal.get(href(doc, "last"))
    assert len(last.json()["_embedded"]["individuals"]) == 14
    assert last.json()["page"]["totalElements"] == 294
    assert [rows for _, _, rows in on_profiles(statements)] == [14]


async def test_a_page_past_the_end_counts_separately(
    client: httpx.AsyncClient,
    store: Store,
    token_a: str,
    statements: list[Statement],
) -> None:
    await load(store, 30)
    hal = Hal(client, token_a, "big")
    adults = await hal.create_segment("Adults", "demographics/age/value ge 21")
    statements.clear()
    doc = (await hal.get(href(adults, "individuals"), page=5, size=20)).json()
    assert embedded(doc, "individuals") == []
    assert doc["page"] == {"size": 20, "totalElements": 29, "totalPages": 2, "number": 5}
    page, count = on_profiles(statements)
    assert "LIMIT" in page[0] and page[2] == 0
    assert "LIMIT" not in count[0] and "count(*)" in count[0] and count[2] == 1


async def test_static_members_and_filtered_lists_are_one_query_too(
    client: httpx.AsyncClient,
    store: Store,
    token_a: str,
    statements: list[Statement],
) -> None:
    await load(store, 100)
    hal = Hal(client, token_a, "big")
    friends = await hal.create_segment("Friends")
    for i in range(0, 100, 10):
        await hal.post(
            href(friends, "self") + "/memberships", {"individualIdentifier": f"p{i:05d}"}
        )
    statements.clear()
    doc = await hal.members(friends, filter="demographics/age/value eq '30'")
    assert identifiers(doc) == ["p00010", "p00060"]
    assert len(on_profiles(statements)) == 1
    statements.clear()
    doc = (await hal.get(await hal.individuals_url(filter="demographics/age/value lt '22'"))).json()
    assert doc["page"]["totalElements"] == 4
    assert len(on_profiles(statements)) == 1


async def assert_single_limited_plan(store: Store, page: Statement) -> None:
    """PostgreSQL runs the page as one plan topped by a Limit (the condition is inside it)."""
    from core.store.postgres.backend import PostgresStore

    assert isinstance(store, PostgresStore)
    sql, args, _ = page
    async with store._read() as tx:
        row = await tx.fetchrow(f"EXPLAIN (FORMAT JSON) {sql}", *args)
    assert row is not None
    plan = json.loads(row["QUERY PLAN"])[0]["Plan"]
    assert plan["Node Type"] == "Limit"
    text = json.dumps(plan)
    assert "@?" in text  # the filter is evaluated in the plan


async def test_the_total_follows_every_write(
    client: httpx.AsyncClient,
    store: Store,
    token_a: str,
    statements: list[Statement],
    backend: str,
    store_url: str,
) -> None:
    """Totals stay exact whoever writes: individuals created, changed, deleted, memberships
    added and removed, here and through another process's store."""
    from core.store import open_store

    await load(store, 100)
    hal = Hal(client, token_a, "big")
    thirty = await hal.create_segment("Thirty", "demographics/age/value eq '30'")
    friends = await hal.create_segment("Friends")

    async def totals() -> tuple[int, int]:
        return (
            (await hal.members(thirty))["page"]["totalElements"],
            (await hal.members(friends))["page"]["totalElements"],
        )

    assert await totals() == (2, 0)
    statements.clear()
    assert await totals() == (2, 0)
    if backend == "postgres":  # the second time, the page's statement carries the last count
        page = on_profiles(statements)[0]
        assert 2 in page[1] and "count(*)" in page[0]
    new = await hal.create_individual("n1", demographics=age("30"))
    assert await totals() == (3, 0)
    assert (await hal.put(href(new, "self"), {"demographics": age("31")})).status_code == 200
    assert await totals() == (2, 0)
    assert (await hal.join(friends, new)).status_code in (200, 201, 204)
    assert await totals() == (2, 1)
    left = await hal.delete(href(friends, "self") + "/memberships/n1")
    assert left.status_code in (200, 204), left.text
    assert await totals() == (2, 0)
    assert (await hal.join(friends, new)).status_code in (200, 201, 204)
    assert await totals() == (2, 1)
    assert (await hal.delete(href(new, "self"))).status_code in (200, 204)  # and its membership
    assert await totals() == (2, 0)
    other = await open_store(store_url)  # another gateway process on the same database
    try:
        await other.create_profile("tenant-a", "big", "n2", {"demographics": age("30")})
        assert await totals() == (3, 0)
        await other.replace_profile("tenant-a", "big", "p00060", {"demographics": age("29")})
        assert await totals() == (2, 0)
        await other.delete_profile("tenant-a", "big", "p00010")
        assert await totals() == (1, 0)
    finally:
        await other.close()
    # a page past the end gives the same total as the first page
    doc = (await hal.get(href(thirty, "individuals"), page=3, size=20)).json()
    assert doc["page"]["totalElements"] == 1


async def test_filters_and_segments_keep_their_own_totals(
    client: httpx.AsyncClient,
    store: Store,
    token_a: str,
) -> None:
    """A remembered total belongs to one listing: the same segment with another filter, or
    another segment, is counted for itself."""
    await load(store, 100)
    hal = Hal(client, token_a, "big")
    adults = await hal.create_segment("Adults", "demographics/age/value ge 21")
    young = await hal.create_segment("Young", "demographics/age/value lt 25")
    for _ in range(2):
        assert (await hal.members(adults))["page"]["totalElements"] == 98
        assert (await hal.members(young))["page"]["totalElements"] == 10
        narrowed = await hal.members(adults, filter="demographics/age/value lt 25")
        assert narrowed["page"]["totalElements"] == 8
        everyone = await hal.get(await hal.individuals_url())
        assert everyone.json()["page"]["totalElements"] == 100
