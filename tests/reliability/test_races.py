"""Races across processes: two ``segmux serve`` processes on one PostgreSQL database, driven at
once with many requests in flight, through every dialect.

What must hold whatever the interleaving: a name is taken once (every loser gets its dialect's
own "name taken" error), a flag rule never points at a deleted or archived segment, rival
exclusive allocations never share a bucket, and a write on one process is what the other
process answers next. No request ever gets a 5xx.
"""

from __future__ import annotations

import asyncio
import base64
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
import pytest

from core.buckets import FULL, from_bytes
from core.store import open_store
from tests import pg
from tests.conftest import make_token
from tests.reliability import dialects as d
from tests.reliability.procs import Gateway, gateways

IN_FLIGHT = 64  # requests in flight at once, over both processes


# One database and one pair of processes for the module (starting processes is the slow part);
# each test keeps to names, slugs or a tenant of its own.
@pytest.fixture(scope="module")
def db_url(pg_template: str) -> Iterator[str]:
    url = pg.create_database("segmux_race", template=pg_template)
    yield url
    pg.drop_database(url)


@pytest.fixture(scope="module")
def pair(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Gateway]]:
    """Two processes in ``strict`` freshness: what the next read on the other process answers
    is exactly what was written (``notify``, the default, is tested below with its own pair)."""
    with gateways(
        db_url, tmp_path_factory.mktemp("races"), count=2, env={"SEGMUX_FRESHNESS": "strict"}
    ) as started:
        yield started
        for gw in started:
            assert not gw.own_tracebacks(), gw.output()


@pytest.fixture(scope="module")
def notify_pair(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Gateway]]:
    with gateways(
        db_url, tmp_path_factory.mktemp("notify"), count=2, env={"SEGMUX_FRESHNESS": "notify"}
    ) as started:
        yield started
        for gw in started:
            assert not gw.own_tracebacks(), gw.output()


@asynccontextmanager
async def clients(pair: list[Gateway]) -> AsyncIterator[tuple[httpx.AsyncClient, ...]]:
    limits = httpx.Limits(max_connections=IN_FLIGHT)
    async with (
        httpx.AsyncClient(base_url=pair[0].url, timeout=120, limits=limits) as a,
        httpx.AsyncClient(base_url=pair[1].url, timeout=120, limits=limits) as b,
    ):
        yield a, b


async def bounded(calls: list[Callable[[], Awaitable[httpx.Response]]]) -> list[httpx.Response]:
    """Run every call, at most :data:`IN_FLIGHT` at a time, in order of the list."""
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(call: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        async with gate:
            return await call()

    return list(await asyncio.gather(*(one(c) for c in calls)))


def no_5xx(responses: list[httpx.Response]) -> None:
    failed = [
        (r.request.method, r.request.url.path, r.status_code, r.text[:300])
        for r in responses
        if r.status_code >= 500
    ]
    assert not failed, failed


async def fetchval(db_url: str, sql: str, *args: object) -> object:
    conn = await asyncpg.connect(db_url)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


# --- 500 creates over 50 names ------------------------------------------------------------------

NAMES = 50
ATTEMPTS = 10  # per name, spread over the six writing dialects and the two processes


async def test_concurrent_creates_take_each_name_once(pair: list[Gateway], db_url: str) -> None:
    async with clients(pair) as procs:
        jobs: list[tuple[str, d.Dialect, httpx.AsyncClient]] = []
        for attempt in range(ATTEMPTS):
            dialect = d.WRITERS[attempt % len(d.WRITERS)]
            client = procs[(attempt + attempt // len(d.WRITERS)) % 2]  # both, per dialect
            jobs += [(f"taken-{n:02}", dialect, client) for n in range(NAMES)]
        random.Random(10).shuffle(jobs)
        responses = await bounded(
            [lambda j=j: j[1].create(j[2], j[0]) for j in jobs]  # type: ignore[misc]
        )
        no_5xx(responses)

        winners: dict[str, list[str]] = {}
        for (name, dialect, _), r in zip(jobs, responses, strict=True):
            if r.status_code == dialect.created_status:
                winners.setdefault(name, []).append(dialect.name)
            else:
                dialect.assert_name_taken(r)  # the dialect's own conflict: status and body
        assert sorted(winners) == [f"taken-{n:02}" for n in range(NAMES)]
        assert all(len(w) == 1 for w in winners.values()), winners

        rows = await fetchval(db_url, "SELECT count(*) FROM segments WHERE name LIKE 'taken-%'")
        assert rows == NAMES
        # And both processes list exactly those.
        for client in procs:
            listed = [n for n in await d.segmux_names(client) if n.startswith("taken-")]
            assert sorted(listed) == sorted(winners)


# --- attach racing delete / archive -----------------------------------------------------------

ROUNDS = 200
LANES = 8  # strategies raced on at once, one segment per round each


async def _strategy(c: httpx.AsyncClient, feature: str) -> str:
    r = await c.post(
        "/api/admin/projects/default/features", json={"name": feature}, headers=d.unleash()
    )
    assert r.status_code == 201, r.text
    r = await c.post(
        _strategies(feature), json={"name": "default", "segments": []}, headers=d.unleash()
    )
    assert r.status_code == 200, r.text
    strategy_id: str = r.json()["id"]
    return strategy_id


def _strategies(feature: str) -> str:
    return f"/api/admin/projects/default/features/{feature}/environments/development/strategies"


def _attach(
    c: httpx.AsyncClient, feature: str, strategy: str, seq: int, how: int
) -> Awaitable[httpx.Response]:
    """Both ways Unleash attaches segments: the segments API, and the strategy's own update."""
    if how % 2 == 0:
        return c.post(
            "/api/admin/segments/strategies",
            headers=d.unleash(),
            json={
                "projectId": "default",
                "environmentId": "development",
                "strategyId": strategy,
                "segmentIds": [seq],
            },
        )
    return c.put(
        f"{_strategies(feature)}/{strategy}",
        headers=d.unleash(),
        json={"name": "default", "segments": [seq]},
    )


REMOVERS = (d.V23, d.UNLEASH_DIALECT, d.ADOBE_DIALECT, d.HAL, d.SEGMUX, d.CONFIDENCE, d.CONFIDENCE)
"""Delete through each dialect that deletes, and Confidence's ``:archive`` (twice as often: it is
the transition the store used to let through)."""


async def test_attach_never_points_at_a_deleted_or_archived_segment(
    pair: list[Gateway], db_url: str
) -> None:
    async with clients(pair) as (a, b):
        lanes = [
            (f"race-flag-{lane}", await _strategy(a, f"race-flag-{lane}")) for lane in range(LANES)
        ]
        created = await bounded(
            [
                lambda i=i: (a, b)[i % 2].post(  # type: ignore[misc]
                    "/segmux/v1/segments", json={"name": f"raced-{i:03}"}, headers=d.bearer()
                )
                for i in range(ROUNDS + 1)
            ]
        )
        segments = [
            d.Keys(id=s["id"], seq=s["seq"], slug=s["slug"], name=s["name"])
            for s in (r.json() for r in created)
        ]

        # Without a race first: an archived segment cannot be attached, either way.
        archived = segments.pop()
        assert (await d.CONFIDENCE.remove(b, archived)).status_code == 200
        for how in (0, 1):
            refused = await _attach(a, *lanes[0], archived.seq, how)
            body = d.unleash_error(refused, 409, "ConflictError")
            assert "archived" in body["message"], body

        async def lane(index: int) -> tuple[list[httpx.Response], list[int]]:
            feature, strategy = lanes[index]
            seen: list[httpx.Response] = []
            current: list[int] = []  # the strategy's segments, as the winners left them
            for step, k in enumerate(segments[index::LANES]):
                remover = REMOVERS[(index + step) % len(REMOVERS)]
                attacher, deleter = (a, b) if step % 2 == 0 else (b, a)
                attach, remove = await asyncio.gather(
                    _attach(attacher, feature, strategy, k.seq, step),
                    remover.remove(deleter, k),
                )
                seen += [attach, remove]
                # Exactly one side wins: an attach that succeeded makes the removal fail (in
                # use); a removal that succeeded makes the attach fail (gone or archived).
                won = [r.status_code < 300 for r in (attach, remove)]
                assert won.count(True) == 1, (remover.name, attach.text, remove.text)
                assert all(
                    400 <= r.status_code < 500 for r in (attach, remove) if r.status_code >= 300
                ), (attach.text, remove.text)
                got = await (b if step % 2 == 0 else a).get(
                    f"{_strategies(feature)}/{strategy}", headers=d.unleash()
                )
                assert got.status_code == 200, got.text
                current = [k.seq] if won[0] else current
                assert got.json()["segments"] == current, (remover.name, got.text)
            return seen, current

        results = await asyncio.gather(*(lane(i) for i in range(LANES)))
        no_5xx([r for seen, _ in results for r in seen])

        # The store's view, across every rule: no link to an archived segment (a link to a
        # deleted one cannot exist: the foreign key).
        stale = await fetchval(
            db_url,
            "SELECT count(*) FROM rule_segments rs JOIN segments s "
            "ON s.tenant = rs.tenant AND s.id = rs.segment_id WHERE s.state = 'ARCHIVED'",
        )
        assert stale == 0
        attached = await fetchval(db_url, "SELECT count(*) FROM rule_segments")
        assert attached == sum(1 for _, current in results if current)


# --- exclusive allocations ---------------------------------------------------------------------

GROUPS = 3
PER_GROUP = 10
PROPORTION = "0.25"  # four fit in a group; six of each ten must be refused


async def test_rival_allocations_never_share_a_bucket(pair: list[Gateway]) -> None:
    async with clients(pair) as procs:
        allocation = {"proportion": {"value": PROPORTION}}
        made = await bounded(
            [
                lambda g=g, i=i: procs[i % 2].post(  # type: ignore[misc]
                    "/v1/segments",
                    params={"segmentId": f"excl-{g}-{i:02}"},
                    headers=d.bearer(),
                    json={
                        "allocation": {
                            **allocation,
                            "exclusivityTags": [f"group-{g}"],
                            "exclusiveTo": [f"group-{g}"],
                        }
                    },
                )
                for g in range(GROUPS)
                for i in range(PER_GROUP)
            ]
        )
        assert all(r.json()["state"] == "UNALLOCATED" for r in made), made[0].text
        order = [(g, i) for g in range(GROUPS) for i in range(PER_GROUP)]
        random.Random(3).shuffle(order)
        allocated = await bounded(
            [
                lambda g=g, i=i: procs[(i + 1) % 2].post(  # type: ignore[misc]
                    f"/v1/segments/excl-{g}-{i:02}:allocate", json={}, headers=d.bearer()
                )
                for g, i in order
            ]
        )
        no_5xx(allocated)
        for r in allocated:
            if r.status_code != 200:
                d.confidence_error(r, 400, 9)  # FAILED_PRECONDITION: no space left

        for g in range(GROUPS):
            bitsets = []
            for i in range(PER_GROUP):
                r = await procs[i % 2].get(
                    f"/v1/segments/excl-{g}-{i:02}", params={"view": "FULL"}, headers=d.bearer()
                )
                body = r.json()
                if body["state"] == "ALLOCATED":
                    bitsets.append(from_bytes(base64.b64decode(body["bitsetAllocation"]["bitset"])))
            assert len(bitsets) == 4, g
            union = 0
            for bits in bitsets:
                assert bits.bit_count() == FULL.bit_count() // 4
                assert bits & union == 0, "two rivals share a bucket"
                union |= bits


# --- read-your-write across processes ----------------------------------------------------------


async def _seen_everywhere(c: httpx.AsyncClient, k: d.Keys, name: str) -> None:
    """Every dialect's read and list on ``c`` shows the segment under ``name``."""
    reads = [(x.name, await x.get(c, k)) for x in d.WRITERS if x.get is not None]
    for dialect, r in reads:
        assert r.status_code == 200, (dialect, r.text)
        shown = r.json().get("displayName") if dialect == "confidence" else r.json()["name"]
        assert shown == name, (dialect, r.text)
    for x in d.WRITERS:
        assert name in await x.names(c), x.name


async def test_a_write_on_one_process_is_read_on_the_other(
    pair: list[Gateway], db_url: str
) -> None:
    # A tenant of its own: every list below shows only what this test wrote.
    store = await open_store(db_url)
    try:
        token = await make_token(store, "visibility")
    finally:
        await store.close()
    with d.as_tenant(token, "visibility"):
        await _write_here_read_there(pair)


async def _write_here_read_there(pair: list[Gateway]) -> None:
    async with clients(pair) as procs:
        for n, dialect in enumerate(d.WRITERS):
            writer, reader = procs[n % 2], procs[(n + 1) % 2]
            name = f"seen-{dialect.name}"
            r = await dialect.create(writer, name)
            assert r.status_code == dialect.created_status, r.text
            k = await d.find(writer, name)
            assert k is not None
            await _seen_everywhere(reader, k, name)  # the create

            renamed = f"renamed-{dialect.name}"
            assert dialect.rename is not None
            r = await dialect.rename(reader, k, renamed)
            assert r.status_code < 300, r.text
            await _seen_everywhere(writer, k, renamed)  # the update, back on the first one

            r = await dialect.remove(writer, k)
            assert r.status_code < 300, r.text
            if dialect is d.CONFIDENCE:  # archived: still there, in its new state
                got = await d.CONFIDENCE.get(reader, k)  # type: ignore[misc]
                assert got.json()["state"] == "ARCHIVED", got.text
                continue
            for other in d.WRITERS:  # the delete
                if other.get is not None:
                    assert (await other.get(reader, k)).status_code == 404, other.name
                assert renamed not in await other.names(reader), other.name


async def test_notify_a_write_on_one_process_reaches_the_other_within_its_bound(
    notify_pair: list[Gateway], db_url: str
) -> None:
    """``notify``: the other process's kept answers are dropped when the notification arrives.
    Each dialect's list is read (and kept) on B, written through A, then read on B until it
    shows the write: it must within the 1 s bound; in practice it is the first read or the
    next few (the notification travels beside the write's response)."""
    store = await open_store(db_url)
    try:
        token = await make_token(store, "notify")
    finally:
        await store.close()
    stale_reads = []
    with d.as_tenant(token, "notify"):
        async with clients(notify_pair) as (a, b):
            for dialect in d.WRITERS:
                for _ in range(2):  # the second read is a kept answer
                    await dialect.names(b)
                name = f"announced-{dialect.name}"
                r = await dialect.create(a, name)
                assert r.status_code == dialect.created_status, r.text
                deadline = asyncio.get_running_loop().time() + 1.5
                stale = 0
                while name not in await dialect.names(b):
                    stale += 1
                    assert asyncio.get_running_loop().time() < deadline, dialect.name
                    await asyncio.sleep(0.005)
                stale_reads.append(stale)
                # and from then on every read shows it (nothing older comes back)
                for _ in range(3):
                    assert name in await dialect.names(b), dialect.name
    assert len(stale_reads) == len(d.WRITERS)
