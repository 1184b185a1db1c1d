"""Creates of one tenant sent at once, on both backends: each is answered as if it had been sent
alone (its own seq, its own conflict, its guard's refusal), none is lost. On PostgreSQL the
creates that wait behind one being written are written together in one statement and one
commit (``core/store/postgres/create_batch.py``); these hold with and without that."""

from __future__ import annotations

import asyncio
from collections import Counter

import asyncpg
import pytest

from core.errors import Conflict, CoreError, RoomChanged
from core.model import NewSegment, RoomGuard, Segment
from core.store import Store

T = "tenant-a"
U = "tenant-b"


@pytest.fixture(autouse=True)
async def tenants(store: Store) -> None:
    await store.ensure_tenant(T)
    await store.ensure_tenant(U)


async def _outcome(call: asyncio.Future[Segment] | asyncio.Task[Segment]) -> Segment | str:
    try:
        return await call
    except CoreError as exc:
        field = exc.field if isinstance(exc, Conflict) else ""
        return f"{type(exc).__name__}({field})"


def _create(store: Store, name: str, tenant: str = T, **kw: object) -> asyncio.Task[Segment]:
    new = NewSegment(name=name, **kw)  # type: ignore[arg-type]
    return asyncio.ensure_future(store.create_segment(tenant, new, "tester"))


async def test_creates_at_once_each_get_their_own_seq(store: Store) -> None:
    made = await asyncio.gather(*(_create(store, f"s{i:02d}") for i in range(40)))
    assert sorted(s.seq for s in made) == list(range(1, 41))
    assert {s.name for s in made} == {f"s{i:02d}" for i in range(40)}
    listed = await store.list_segments(T, sandbox=None, limit=100)
    assert sorted((s.seq, s.name, s.id) for s in listed.items) == sorted(
        (s.seq, s.name, s.id) for s in made
    )


async def test_creates_at_once_with_taken_names_fail_alone(store: Store) -> None:
    await store.create_segment(T, NewSegment(name="taken"), "tester")
    await store.create_segment(U, NewSegment(name="free there"), "tester")
    names = ["taken", *(f"n{i % 10}" for i in range(20)), "free there", "last"]
    outcomes = await asyncio.gather(*(_outcome(_create(store, n)) for n in names))
    made = [o for o in outcomes if isinstance(o, Segment)]
    refused = Counter(o for o in outcomes if isinstance(o, str))
    assert refused == {"Conflict(name)": 11}  # "taken", and one of each pair
    assert sorted(s.name for s in made) == sorted({*names} - {"taken"})
    assert len({s.seq for s in made}) == len(made)
    assert await store.count_segments(T) == 1 + len(made)
    assert await store.count_segments(U) == 1


async def test_guarded_creates_at_once_stop_at_the_guard(store: Store) -> None:
    room = await store.segment_room(T)
    guard = RoomGuard(settings=room.stored_settings, next_seq_at_most=10)
    tasks = [
        asyncio.ensure_future(store.create_segment(T, NewSegment(name=f"g{i}"), "t", guard=guard))
        for i in range(25)
    ]
    outcomes = await asyncio.gather(*(_outcome(t) for t in tasks))
    made = [o for o in outcomes if isinstance(o, Segment)]
    assert sorted(s.seq for s in made) == list(range(1, 11))
    assert Counter(o for o in outcomes if isinstance(o, str)) == {"RoomChanged()": 15}
    assert await store.count_segments(T) == 10
    with pytest.raises(RoomChanged):
        await store.create_segment(T, NewSegment(name="later"), "t", guard=guard)


async def test_creates_of_two_tenants_at_once_stay_apart(store: Store) -> None:
    tasks = [_create(store, f"x{i}", tenant=(T, U)[i % 2]) for i in range(30)]
    made = await asyncio.gather(*tasks)
    for tenant in (T, U):
        mine = [s for s in made if s.tenant == tenant]
        assert sorted(s.seq for s in mine) == list(range(1, 16))
        assert await store.count_segments(tenant) == 15


@pytest.mark.parametrize("backend", ["postgres"])  # SQLite writes each in a call of its own
async def test_postgres_writes_creates_that_wait_together(store: Store) -> None:
    """One commit per batch, observed as PostgreSQL announces commits: one notification of the
    tenant per transaction that wrote it (identical ones of a transaction are folded)."""
    heard: list[str] = []
    listener = await asyncpg.connect(store.url)  # type: ignore[attr-defined]
    try:
        await listener.add_listener("segmux_revisions", lambda *a: heard.append(a[3]))
        made = await asyncio.gather(*(_create(store, f"b{i:02d}") for i in range(30)))
        assert sorted(s.seq for s in made) == list(range(1, 31))
        await asyncio.sleep(0.2)  # notifications arrive after their commits
    finally:
        await listener.close()
    # The first create is written alone, the 29 that waited behind it together.
    assert heard == [T, T]


@pytest.mark.parametrize("backend", ["sqlite"])  # PostgreSQL's batches may leave seqs unused
async def test_sqlite_writes_of_one_turn_fail_alone_and_leave_nothing(store: Store) -> None:
    """Keyed writes reaching the store in one turn of the event loop share a transaction, each
    in a savepoint: one that fails after a first statement (a create's seq claimed, then its
    name refused) takes back all it did, and the others stand."""
    await store.create_segment(T, NewSegment(name="taken"), "tester")
    names = ["a", "taken", "b", "taken", "c"]
    outcomes = await asyncio.gather(*(_outcome(_create(store, n)) for n in names))
    assert [o if isinstance(o, str) else o.name for o in outcomes] == [
        "a",
        "Conflict(name)",
        "b",
        "Conflict(name)",
        "c",
    ]
    made = [o for o in outcomes if isinstance(o, Segment)]
    assert [s.seq for s in made] == [2, 3, 4]  # no seq claimed by a refused create
    assert (await store.segment_room(T)).segments_at_most == 4
    assert await store.count_segments(T) == 4
