"""The allocation part of the store contract, on both backends: bitsets, transitions that read
and write in one transaction, and allocations of rivals racing each other (two pools on
PostgreSQL, as two gateway processes would be)."""

from __future__ import annotations

import asyncio
import random

import pytest

from core.buckets import FULL, draw, from_bytes
from core.errors import Conflict, InUse, NotFound
from core.lifecycle import LifecycleService
from core.model import (
    Allocation,
    NewFlag,
    NewRule,
    NewSegment,
    Principal,
    Segment,
    SegmentPatch,
)
from core.service import SegmentService
from core.store import Store, open_store
from core.store.allocation import AllocationChange, AllocationView

T = "tenant-a"
ADMIN = Principal(tenant=T, scope="admin", token_name="tester")
pytestmark = pytest.mark.usefixtures("tenant")


@pytest.fixture
async def tenant(store: Store) -> None:
    await store.ensure_tenant(T)
    await store.ensure_tenant("tenant-b")


def lifecycle(store: Store, seed: int = 1) -> LifecycleService:
    return LifecycleService(store, SegmentService(store), random.Random(seed))


async def coordinated(
    service: LifecycleService, slug: str, proportion: str, tags: tuple[str, ...] = ("g",)
) -> Segment:
    return await service.create(
        ADMIN,
        NewSegment(
            name=slug,
            slug=slug,
            allocation=Allocation(proportion=proportion, exclusivity_tags=tags, exclusive_to=tags),
        ),
    )


async def test_bitsets_are_stored_with_the_segment(store: Store) -> None:
    bitset = draw(123, FULL, random.Random(1))
    made = await store.create_segment_with_bitset(T, NewSegment(name="a"), "tester", bitset)
    stored = await store.get_bitset(T, made.id)
    assert stored is not None and len(stored) == 125_000 and from_bytes(stored) == bitset
    full = await store.create_segment_with_bitset(T, NewSegment(name="b"), "tester", FULL)
    assert await store.get_bitset(T, full.id) is None  # the full set costs no row
    assert await store.get_bitset("tenant-b", made.id) is None  # tenant-scoped


async def test_a_refused_transition_changes_nothing(store: Store) -> None:
    made = await store.create_segment_with_bitset(
        T, NewSegment(name="a"), "tester", draw(10, FULL, random.Random(2))
    )
    before = await store.get_bitset(T, made.id)

    def refuse(view: AllocationView) -> AllocationChange:
        raise Conflict("state", "no")

    with pytest.raises(Conflict):
        await store.change_allocation(T, made.id, "x", refuse)
    assert await store.get_segment(T, "id", made.id) == made
    assert await store.get_bitset(T, made.id) == before
    unchanged = await store.change_allocation(T, made.id, "x", lambda view: None)
    assert unchanged == made


async def test_a_transition_writes_state_patch_and_bitset_together(store: Store) -> None:
    made = await store.create_segment(T, NewSegment(name="a", state="UNALLOCATED"), "tester")
    bitset = draw(5, FULL, random.Random(3))

    def decide(view: AllocationView) -> AllocationChange:
        assert view.segment == made and view.bitset is None and view.rivals == 0
        return AllocationChange(
            state="ALLOCATED", bitset=bitset, patch=SegmentPatch(name="renamed")
        )

    changed = await store.change_allocation(T, made.id, "other", decide)
    assert (changed.state, changed.name, changed.version, changed.updated_by) == (
        "ALLOCATED",
        "renamed",
        2,
        "other",
    )
    assert from_bytes(await store.get_bitset(T, made.id)) == bitset
    cleared = await store.change_allocation(
        T, made.id, "x", lambda v: AllocationChange(state="UNALLOCATED", bitset=None)
    )
    assert cleared.state == "UNALLOCATED" and await store.get_bitset(T, made.id) is None


async def test_unknown_segments_are_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.change_allocation(T, "nope", None, lambda v: None)
    with pytest.raises(NotFound):
        await store.change_allocation("nobody", "nope", None, lambda v: None)


async def test_rivals_are_the_allocated_conflicting_segments(store: Store) -> None:
    service = lifecycle(store)
    a = await coordinated(service, "seg-a", "0.3")
    await coordinated(service, "seg-b", "0.3")  # UNALLOCATED: holds nothing
    await coordinated(service, "seg-c", "0.3", tags=("other",))
    await service.allocate(ADMIN, "seg-a")
    await service.allocate(ADMIN, "seg-c")
    a_bits = from_bytes(await store.get_bitset(T, a.id))
    union = await store.allocated_union(T, lambda s: "g" in s.allocation.exclusivity_tags)
    assert union == a_bits
    assert await store.allocated_union(T, lambda s: True, exclude=a.id) != a_bits


async def test_deleting_a_segment_deletes_its_bitset(store: Store) -> None:
    made = await store.create_segment_with_bitset(
        T, NewSegment(name="a"), "tester", draw(10, FULL, random.Random(4))
    )
    await store.delete_segment(T, made.id)
    assert await store.get_bitset(T, made.id) is None


async def test_archive_is_refused_while_a_rule_uses_the_segment(store: Store) -> None:
    service = lifecycle(store)
    made = await service.create(ADMIN, NewSegment(name="used", slug="used"))
    await store.create_flag(T, NewFlag(name="f"), "tester")
    rule = await store.create_rule(
        T, NewRule(flag="f", environment="development", segments=(made.id,)), "tester"
    )
    with pytest.raises(InUse) as refused:
        await service.archive(ADMIN, "used")
    assert refused.value.users == (rule.id,)
    assert (await store.get_segment(T, "id", made.id)).state == "OK"
    await store.delete_rule(T, rule.id)
    assert (await service.archive(ADMIN, "used")).state == "ARCHIVED"


async def test_concurrent_rivals_never_share_a_bucket(
    store: Store, backend: str, store_url: str
) -> None:
    """Eight mutually exclusive 20% segments allocated at once: exactly five fit, disjoint.
    On PostgreSQL half of them go through a second pool (another gateway process)."""
    other = await open_store(store_url) if backend == "postgres" else store
    try:
        services = [lifecycle(store, 1), lifecycle(other, 2)]
        made = [await coordinated(services[0], f"race-{i}", "0.2") for i in range(8)]
        results = await asyncio.gather(
            *(services[i % 2].allocate(ADMIN, s.slug) for i, s in enumerate(made)),
            return_exceptions=True,
        )
        refused = [r for r in results if isinstance(r, Conflict)]
        allocated = [r for r in results if isinstance(r, Segment)]
        assert len(allocated) == 5 and len(refused) == 3, results
        bitsets = [from_bytes(await store.get_bitset(T, s.id)) for s in allocated]
        union = 0
        for bits in bitsets:
            assert bits.bit_count() == 200_000
            assert union & bits == 0
            union |= bits
        assert union == FULL
    finally:
        if other is not store:
            await other.close()


async def test_rivals_that_fit_exactly_fill_every_bucket(store: Store) -> None:
    service = lifecycle(store)
    await coordinated(service, "seg-one", "0.6")
    await coordinated(service, "seg-two", "0.4")
    await asyncio.gather(service.allocate(ADMIN, "seg-one"), service.allocate(ADMIN, "seg-two"))
    one = await service.get(ADMIN, "seg-one")
    two = await service.get(ADMIN, "seg-two")
    assert (one.state, two.state) == ("ALLOCATED", "ALLOCATED")
    a = from_bytes(await store.get_bitset(T, one.id))
    b = from_bytes(await store.get_bitset(T, two.id))
    assert a & b == 0 and (a | b) == FULL
