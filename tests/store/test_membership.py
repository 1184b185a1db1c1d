"""Membership of a unit (``LifecycleService.members``) over a real store, on both backends:
targeting AND the unit's bucket, with the resolver's hash and the tenant's account id."""

from __future__ import annotations

import random

import pytest

from core.buckets import bucket, from_members
from core.errors import Invalid
from core.expr import ast
from core.lifecycle import LifecycleService
from core.model import Allocation, NewSegment, Principal
from core.service import SegmentService
from core.store import Store

T = "tenant-a"
ADMIN = Principal(tenant=T, scope="admin", token_name="tester")
SWEDEN = ast.Cmp("eq", ("country",), ast.Lit("string", "SE"))


@pytest.fixture
async def service(store: Store) -> LifecycleService:
    await store.ensure_tenant(T)
    # The published vector's account: unit "roug" falls in bucket 567493.
    await store.update_tenant_settings(T, {"confidence_account_id": "confidence-test"})
    return LifecycleService(store, SegmentService(store), random.Random(5))


async def one_bucket(
    store: Store, slug: str, index: int, expr: ast.Expr | None = None, state: str = "OK"
) -> str:
    made = await store.create_segment_with_bitset(
        T,
        NewSegment(
            name=slug,
            slug=slug,
            state=state,
            allocation=Allocation(proportion="0.000001"),
            expression=ast.encode(expr) if expr is not None else None,
        ),
        "tester",
        from_members([index]),
    )
    return made.id


async def test_the_published_vector_decides_membership(
    service: LifecycleService, store: Store
) -> None:
    assert bucket("confidence-test", "roug") == 567493
    hit = await one_bucket(store, "holds-roug", 567493)
    miss = await one_bucket(store, "holds-other", 567494)
    result = await service.members(ADMIN, [hit, miss], {}, "roug")
    assert result == {hit: True, miss: False}
    # without the setting the account is the tenant's name: another bucket
    await store.update_tenant_settings(T, {"confidence_account_id": ""})
    assert bucket("tenant-a", "roug") != 567493
    assert await service.members(ADMIN, [hit], {}, "roug") == {hit: False}
    await service.set_account(T, "confidence-test")
    assert await service.members(ADMIN, [hit], {}, "roug") == {hit: True}
    with pytest.raises(Invalid):
        await service.set_account(T, "not an account")
    await store.update_tenant_settings(T, {"confidence_account_id": ""})
    assert bucket("tenant-a", "roug") != 567493
    assert await service.members(ADMIN, [hit], {}, "roug") == {hit: False}


async def test_targeting_and_buckets_must_both_match(
    service: LifecycleService, store: Store
) -> None:
    sid = await one_bucket(store, "swedes-roug", 567493, SWEDEN)
    assert await service.members(ADMIN, [sid], {"country": "SE"}, "roug") == {sid: True}
    assert await service.members(ADMIN, [sid], {"country": "NO"}, "roug") == {sid: False}


async def test_the_unit_comes_from_the_context(service: LifecycleService, store: Store) -> None:
    sid = await one_bucket(store, "ctx-unit", 567493)
    assert await service.members(ADMIN, [sid], {"targeting_key": "roug"}) == {sid: True}
    assert await service.members(ADMIN, [sid], {"targeting_key": "gour"}) == {sid: False}
    assert await service.members(ADMIN, [sid], {}) == {sid: False}  # no unit, partial bitset
    with pytest.raises(Invalid):
        await service.members(ADMIN, [sid], {"targeting_key": 1.5})


async def test_full_segments_match_without_a_unit_and_dead_states_never(
    service: LifecycleService, store: Store
) -> None:
    full = await service.create(ADMIN, NewSegment(name="all", slug="all-units"))
    waiting = await service.create(
        ADMIN,
        NewSegment(
            name="w",
            slug="waiting",
            allocation=(Allocation(exclusivity_tags=("g",), exclusive_to=("g",))),
        ),
    )
    archived = await one_bucket(store, "archived", 567493, state="ARCHIVED")
    result = await service.members(ADMIN, [full.id, waiting.id, archived], {}, "roug")
    assert result == {full.id: True, waiting.id: False, archived: False}
    assert (await service.members(ADMIN, None, {}, "roug"))[full.id] is True


async def test_segment_criteria_use_the_other_segments_membership(
    service: LifecycleService, store: Store
) -> None:
    await one_bucket(store, "inner-seg", 567493, SWEDEN)
    inner = ast.SegmentRef("segments/inner-seg")
    outer = await service.create(
        ADMIN, NewSegment(name="outer", slug="outer-seg", expression=ast.encode(inner))
    )
    assert await service.members(ADMIN, [outer.id], {"country": "SE"}, "roug") == {outer.id: True}
    assert await service.members(ADMIN, [outer.id], {"country": "SE"}, "gour") == {outer.id: False}
    assert await service.members(ADMIN, [outer.id], {"country": "NO"}, "roug") == {outer.id: False}


async def test_segment_criteria_must_exist_and_never_cycle(
    service: LifecycleService, store: Store
) -> None:
    with pytest.raises(Invalid, match="names no existing segment"):
        await service.create(
            ADMIN,
            NewSegment(
                name="x", slug="dangling", expression=ast.encode(ast.SegmentRef("segments/missing"))
            ),
        )
    a = await service.create(ADMIN, NewSegment(name="a", slug="seg-a"))
    await service.create(
        ADMIN,
        NewSegment(name="b", slug="seg-b", expression=ast.encode(ast.SegmentRef("segments/seg-a"))),
    )
    from core.model import SegmentPatch

    def back_to_b(segment: object) -> SegmentPatch:
        return SegmentPatch(expression=ast.encode(ast.SegmentRef("segments/seg-b")))

    with pytest.raises(Invalid, match="cycle"):
        await service.update(ADMIN, "seg-a", back_to_b)
    assert (await store.get_segment(T, "id", a.id)).expression is None
