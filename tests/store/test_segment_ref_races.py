"""A condition naming a segment (PQL ``inSegment``) races the named segment's delete or archive,
on both backends: exactly one side wins every round, and no stored condition ever names a
missing or archived segment. Without the SHARE lock a write takes on the named segment
(``core.store.segment_refs.lock_referenced``), a delete could search the conditions before the
write commits and both would win (checked: without it, both win on either backend)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import pytest

from core.errors import CoreError
from core.expr import ast
from core.expr.refs import segment_refs
from core.lifecycle import LifecycleService
from core.model import NewSegment, Principal, Segment, SegmentPatch
from core.service import SegmentService
from core.store import Store

T = "tenant-a"
ADMIN = Principal(tenant=T, scope="admin", token_name="tester")
ROUNDS = 40


@pytest.fixture
async def services(store: Store) -> tuple[SegmentService, LifecycleService]:
    await store.ensure_tenant(T)
    segments = SegmentService(store)
    return segments, LifecycleService(store, segments, random.Random(7))


def _setting(expression: bytes) -> Callable[[Segment], SegmentPatch]:
    """A Confidence update's patch builder that sets ``expression``."""
    return lambda _: SegmentPatch(expression=expression)


async def _outcome(call: Awaitable[object]) -> str:
    try:
        await call
    except CoreError as exc:
        return type(exc).__name__
    return "ok"


async def test_a_reference_and_the_removal_of_what_it_names_never_both_win(
    store: Store, services: tuple[SegmentService, LifecycleService]
) -> None:
    segments, lifecycle = services
    wins = {"reference": 0, "removal": 0}
    for n in range(ROUNDS):
        target = await segments.create(
            ADMIN, NewSegment(name=f"target {n}", slug=f"target-{n:04d}")
        )
        holder = await segments.create(ADMIN, NewSegment(name=f"holder {n}"))
        ref = ast.encode(ast.SegmentRef(target.id))
        write: Awaitable[object]
        removal: Awaitable[object]
        if n % 2:  # a new segment naming it
            write = segments.create(ADMIN, NewSegment(name=f"ref {n}", expression=ref))
        else:  # an existing one changed to name it
            write = segments.update(ADMIN, holder.id, SegmentPatch(expression=ref))
        if n % 4 < 2:
            removal = segments.delete(ADMIN, target.id)
        else:
            removal = lifecycle.archive(ADMIN, target.slug)
        wrote, removed = await asyncio.gather(_outcome(write), _outcome(removal))
        assert (wrote == "ok") != (removed == "ok"), (n, wrote, removed)
        # The loser is refused as the checks refuse: a bad reference (400), or in use (409).
        assert {wrote, removed} - {"ok"} <= {"Invalid", "InUse"}, (n, wrote, removed)
        wins["reference" if wrote == "ok" else "removal"] += 1
    # No condition names a segment that is gone or archived.
    page = await store.list_segments(T, sandbox=None, offset=0, limit=1000)
    live = {s.slug for s in page.items if s.state != "ARCHIVED"}
    for s in page.items:
        if s.expression is not None:
            for slug in segment_refs(ast.decode(s.expression)):
                assert slug in live, (s.slug, slug)
    assert sum(wins.values()) == ROUNDS


async def test_two_updates_naming_each_other_never_both_win(
    store: Store, services: tuple[SegmentService, LifecycleService]
) -> None:
    """Each update passes the check made before its transaction; the store repeats it under the
    tenant's row lock, so the second to commit sees the first and is refused (a cycle)."""
    segments, lifecycle = services
    for n in range(ROUNDS // 2):
        a = await segments.create(ADMIN, NewSegment(name=f"a {n}", slug=f"cyc-a-{n:04d}"))
        b = await segments.create(ADMIN, NewSegment(name=f"b {n}", slug=f"cyc-b-{n:04d}"))
        to_b = SegmentPatch(expression=ast.encode(ast.SegmentRef(b.id)))
        to_a = ast.encode(ast.SegmentRef(f"segments/{a.slug}"))
        if n % 2:  # segmux / Adobe updates on both sides
            second: Awaitable[object] = segments.update(ADMIN, b.id, SegmentPatch(expression=to_a))
        else:  # a Confidence update on one side (its transition path)
            second = lifecycle.update(ADMIN, b.slug, _setting(to_a))
        outcomes = await asyncio.gather(
            _outcome(segments.update(ADMIN, a.id, to_b)), _outcome(second)
        )
        assert sorted(outcomes) == ["Invalid", "ok"], (n, outcomes)
