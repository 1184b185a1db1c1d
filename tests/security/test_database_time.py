"""Database time is bounded per statement and shared fairly between tenants, on both backends.

* A condition too costly for the statement timeout is the condition's fault: HAL answers its
  own 400 with the reason (not a 503 inviting retries), and no engine text reaches the client.
* A members page whose total does not fit in the statement timeout, though the page does, is
  counted outside the request under its own budget (PostgreSQL): meanwhile HAL answers 503 +
  Retry-After, then the exact total; past that budget, the condition's 400. SQLite counts in the
  page's own statement: the condition's 400 at once.
* One tenant's slow work holds at most its cap of connections: another tenant's requests are
  answered while all of the first tenant's are still running.

The expensive-but-allowed condition: 150 ``contains`` tests (within the size rule) over 1,000
individuals, some 150,000 string searches per members page. No timing is asserted: only
statuses, and the order in which requests finish.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from core.store import Store, StoreLimits, open_store
from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import empty_postgres, make_token
from tests.dialects.hal.hal import auth

PROFILES = 1000
EXPENSIVE = " or ".join(f"contains(name,'zz{i}')" for i in range(150))
FIRST = 20
FIRST_FEW = " or ".join([*(f"contains(name,'zz{i}')" for i in range(449)), f"n lt {FIRST}"])
"""Three times as costly per individual as ``EXPENSIVE`` (450 of the 500 atoms a condition may
have), but the first individuals written match: the page is found among the first few dozen and
fits in the timeout, the count (every individual) does not — with room to spare on a fast
machine (with 150 atoms SQLite's count of 1,000 fitted in 150 ms on one)."""


async def bounded_client(
    store_url: str, backend: str, limits: StoreLimits
) -> AsyncIterator[tuple[httpx.AsyncClient, Store]]:
    if backend == "postgres":  # emptied without the limits: a TRUNCATE may take a while
        plain = await open_store(store_url)
        await empty_postgres(plain)
        await plain.close()
    store = await open_store(store_url, limits)
    app = create_app(Settings(database_url=store_url), store=store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://segmux.test") as c:
        yield c, store
    await store.close()


async def fill(store_url: str, tenant: str, n: int = PROFILES) -> None:
    """Individuals written through a store without the limits (concurrent writes of a tenant
    queue on its revision row, which a short statement timeout would count)."""
    store = await open_store(store_url)

    async def one(i: int) -> None:
        await store.create_profile(tenant, "big", f"p{i}", {"name": f"person {i}", "n": i})

    try:
        await store.ensure_tenant(tenant)
        for start in range(0, n, 50):
            await asyncio.gather(*(one(i) for i in range(start, min(n, start + 50))))
    finally:
        await store.close()


async def expensive_segment(
    client: httpx.AsyncClient, token: str, condition: str = EXPENSIVE
) -> str:
    r = await client.post(
        "/big/individual-segments",
        headers=auth(token),
        json={"name": "expensive", "filter": condition, "segmentType": "DYNAMIC"},
    )
    assert r.status_code == 200, r.text
    slug: str = r.json()["identifier"]
    return slug


async def members_of(
    client: httpx.AsyncClient, store: Store, store_url: str, condition: str
) -> tuple[str, str]:
    """Tenant A's token and the members URL of its segment of ``condition`` over the
    individuals of :func:`fill`."""
    token = await make_token(store, "tenant-a")
    await fill(store_url, "tenant-a")
    slug = await expensive_segment(client, token, condition)
    return token, f"/big/individual-segments/{slug}/individuals"


@pytest.fixture
async def timed(store_url: str, backend: str) -> AsyncIterator[tuple[httpx.AsyncClient, Store]]:
    # 150 ms of database time: the members page cannot fit, the small reads around it do
    # (a statement of theirs cut off would be a 503 and fail the test loudly).
    async for pair in bounded_client(store_url, backend, StoreLimits(statement_timeout_ms=150)):
        yield pair


async def test_a_condition_past_the_statement_timeout_is_its_own_400(
    timed: tuple[httpx.AsyncClient, Store], store_url: str
) -> None:
    client, store = timed
    token = await make_token(store, "tenant-a")
    await fill(store_url, "tenant-a")
    slug = await expensive_segment(client, token)
    r = await client.get(f"/big/individual-segments/{slug}/individuals", headers=auth(token))
    assert r.status_code == 400, r.text
    body: dict[str, Any] = r.json()
    assert body["status"] == 400 and body["error"] == "Bad Request"
    assert "took more than 150 ms of database time" in body["message"], body
    assert "Retry-After" not in r.headers
    for engine_text in ("interrupted", "canceling statement", "statement timeout", "sqlite"):
        assert engine_text not in r.text.lower(), r.text
    # The same filter given to a listing of individuals is refused the same way.
    r = await client.get("/big/individuals", params={"filter": EXPENSIVE}, headers=auth(token))
    assert r.status_code == 400 and "database time" in r.json()["message"], r.text
    # Ordinary reads of the same sandbox still answer.
    r = await client.get("/big/individuals", params={"size": 1}, headers=auth(token))
    assert r.status_code == 200 and r.json()["page"]["totalElements"] == PROFILES, r.text
    # One individual's segments are evaluated for that individual only: cheap, answered.
    r = await client.get("/big/individuals/p7/individual-segments", headers=auth(token))
    assert r.status_code == 200, r.text


async def until_answered(client: httpx.AsyncClient, url: str, token: str) -> httpx.Response:
    """The first answer that is not "retry": every one before it a HAL 503 with Retry-After."""
    for _ in range(600):
        r = await client.get(url, headers=auth(token))
        if r.status_code != 503:
            return r
        body = r.json()
        assert body["status"] == 503 and body["error"] == "Service Unavailable", body
        assert "being counted" in body["message"] and int(r.headers["Retry-After"]) >= 1
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url} still 503 after a minute")


def counting_limits(count_timeout_ms: int) -> StoreLimits:
    return StoreLimits(statement_timeout_ms=150, count_timeout_ms=count_timeout_ms)


@pytest.fixture
async def counting(store_url: str, backend: str) -> AsyncIterator[tuple[httpx.AsyncClient, Store]]:
    # pages of 150 ms at most, a count of a minute
    async for pair in bounded_client(store_url, backend, counting_limits(60_000)):
        yield pair


async def test_a_total_too_long_for_a_request_is_counted_outside_it(
    counting: tuple[httpx.AsyncClient, Store], store_url: str, backend: str
) -> None:
    client, store = counting
    token, url = await members_of(client, store, store_url, FIRST_FEW)
    r = await client.get(url, headers=auth(token))
    if backend == "sqlite":  # the count is the page statement's own: one answer, never "retry"
        assert r.status_code in (200, 400), r.text
        if r.status_code == 200:
            assert r.json()["page"]["totalElements"] == FIRST
        else:
            assert "took more than 150 ms" in r.json()["message"], r.text
        return
    # The page's statement, its count included, was cut off: the count goes on outside the
    # request and the page says "retry", not a total it does not have.
    assert r.status_code == 503, r.text
    assert "Retry-After" in r.headers and "being counted" in r.json()["message"]
    r = await until_answered(client, url, token)
    assert r.status_code == 200, r.text
    assert r.json()["page"]["totalElements"] == FIRST
    assert len(r.json()["_embedded"]["individuals"]) == FIRST
    # A write moves the sandbox's revision on: the old total is never given for the new rows;
    # the listing is counted outside the request again (at once: it did not fit before).
    await store.create_profile("tenant-a", "big", "late", {"name": "person late", "n": 0})
    r = await until_answered(client, url, token)
    assert r.status_code == 200 and r.json()["page"]["totalElements"] == FIRST + 1, r.text
    # Unchanged since: the remembered total, for any page the timeout has room to read.
    r = await client.get(url, headers=auth(token), params={"size": 5})
    assert r.status_code == 200 and r.json()["page"]["totalElements"] == FIRST + 1, r.text


@pytest.fixture
async def short_count(
    store_url: str, backend: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Store]]:
    # a count budget just past the statement timeout, which the count (past the statement
    # timeout, as the tests above rely on) exceeds as well
    async for pair in bounded_client(store_url, backend, counting_limits(151)):
        yield pair


async def test_a_count_past_its_own_budget_is_the_conditions_400(
    short_count: tuple[httpx.AsyncClient, Store], store_url: str, backend: str
) -> None:
    # SQLite counts in the page's own statement: cut off by the statement timeout
    budget = 151 if backend == "postgres" else 150
    client, store = short_count
    token, url = await members_of(client, store, store_url, FIRST_FEW)
    for _ in range(2):  # refused again at the same revision, without a count of its own
        r = await until_answered(client, url, token)
        assert r.status_code == 400, r.text
        assert f"took more than {budget} ms of database time" in r.json()["message"], r.text
        assert "Retry-After" not in r.headers


@pytest.fixture
async def roomy(store_url: str, backend: str) -> AsyncIterator[tuple[httpx.AsyncClient, Store]]:
    # A count budget past the statement timeout (so counts_outside holds on both backends), and a
    # statement timeout no page or count of a cheap condition over 1,000 individuals comes near.
    limits = StoreLimits(statement_timeout_ms=30_000, count_timeout_ms=60_000)
    assert limits.counts_outside
    async for pair in bounded_client(store_url, backend, limits):
        yield pair


async def test_a_count_budget_past_the_statement_timeout_gives_every_total(
    roomy: tuple[httpx.AsyncClient, Store], store_url: str
) -> None:
    # SQLite has no count outside a request (ProfilePageSql._count_read is None): the setting must
    # leave its pages, counted in their own statement, as they are.
    client, store = roomy
    token, url = await members_of(client, store, store_url, f"n lt {FIRST}")
    r = await client.get(url, headers=auth(token), params={"size": 5})
    assert r.status_code == 200, r.text
    assert r.json()["page"]["totalElements"] == FIRST
    assert [i["identifier"] for i in r.json()["_embedded"]["individuals"]] == [
        f"p{i}" for i in range(5)
    ]
    # A page past the end has no row to carry the total: counted on its own, still exact.
    r = await client.get(url, headers=auth(token), params={"size": 5, "page": 10})
    assert r.status_code == 200 and r.json()["page"]["totalElements"] == FIRST, r.text
    assert r.json()["_embedded"]["individuals"] == []
    r = await client.get("/big/individuals", params={"size": 1}, headers=auth(token))
    assert r.status_code == 200 and r.json()["page"]["totalElements"] == PROFILES, r.text
    # A write that the condition matches: the next page's total counts it.
    await store.create_profile("tenant-a", "big", "late", {"name": "person late", "n": 0})
    r = await client.get(url, headers=auth(token), params={"size": 5})
    assert r.status_code == 200 and r.json()["page"]["totalElements"] == FIRST + 1, r.text


async def test_a_costly_total_with_a_count_budget_past_the_statement_timeout(
    counting: tuple[httpx.AsyncClient, Store], store_url: str, backend: str
) -> None:
    # The condition no individual matches: its page and its count both test every individual,
    # past the statement timeout (as in the first test of this module).
    client, store = counting
    token, url = await members_of(client, store, store_url, EXPENSIVE)
    r = await client.get(url, headers=auth(token))
    if backend == "sqlite":
        # No count outside the request to wait for: the condition's 400 at once, never "retry"
        # (and never the 500 a count reader the backend lacks would be).
        assert r.status_code == 400, r.text
        assert "took more than 150 ms of database time" in r.json()["message"], r.text
        assert "Retry-After" not in r.headers
        return
    assert r.status_code == 503 and "being counted" in r.json()["message"], r.text
    # Counted outside (no match: 0); the page alone, without its count, may fit or not.
    r = await until_answered(client, url, token)
    if r.status_code == 200:
        assert r.json()["page"]["totalElements"] == 0, r.text
    else:
        assert r.status_code == 400, r.text
        assert "took more than 150 ms of database time" in r.json()["message"], r.text


@pytest.fixture
async def capped(store_url: str, backend: str) -> AsyncIterator[tuple[httpx.AsyncClient, Store]]:
    limits = StoreLimits(tenant_concurrency=2, pool_size=4)
    async for pair in bounded_client(store_url, backend, limits):
        yield pair


async def test_one_tenant_cannot_hold_every_connection(
    capped: tuple[httpx.AsyncClient, Store], store_url: str
) -> None:
    client, store = capped
    token_a = await make_token(store, "tenant-a")
    token_b = await make_token(store, "tenant-b")
    await fill(store_url, "tenant-a")
    await store.create_profile("tenant-b", "prod", "b1", {"name": "b"})
    slug = await expensive_segment(client, token_a)
    finished: list[str] = []

    async def a_members(size: int) -> int:
        # Distinct pages, so no two requests can share one answer.
        r = await client.get(
            f"/big/individual-segments/{slug}/individuals",
            params={"size": size},
            headers=auth(token_a),
        )
        finished.append("a")
        return r.status_code

    # Tenant A asks for more slow pages than the pool has connections.
    slow = [asyncio.create_task(a_members(size)) for size in range(1, 7)]
    await asyncio.sleep(0.3)  # A's first pages are running, the others wait for A's permits
    assert not any(task.done() for task in slow)
    b_answers = [
        await client.get("/prod/individuals", params={"size": 1}, headers=auth(token_b)),
        await client.get("/prod/individual-segments", headers=auth(token_b)),
        await client.get("/prod/individuals/b1", headers=auth(token_b)),
    ]
    finished.append("b")
    assert [r.status_code for r in b_answers] == [200, 200, 200], [r.text for r in b_answers]
    # B was answered before any of A's slow pages finished: A never held B's connections.
    assert finished[0] == "b", finished
    assert await asyncio.gather(*slow) == [200] * 6
