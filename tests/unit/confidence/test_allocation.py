"""The lifecycle rules of ``core.allocation`` without a store: transitions, the conflict rule,
membership, and a property test over random mixes of coordinated segments."""

from __future__ import annotations

import random
from decimal import ROUND_HALF_EVEN, Decimal

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import allocation as rules
from core.buckets import BUCKETS, FULL, bucket, draw, from_members, to_bytes
from core.errors import Conflict, InUse, Invalid
from core.model import Allocation, Segment, SegmentPatch
from core.store.allocation import AllocationView
from tests.examples import examples

RNG = random.Random(2024)


def seg(
    slug: str = "seg-a",
    state: str = "OK",
    proportion: str = "1",
    tags: tuple[str, ...] = (),
    to: tuple[str, ...] = (),
) -> Segment:
    return Segment(
        id=f"id-{slug}",
        seq=1,
        slug=slug,
        tenant="t",
        sandbox="prod",
        name=slug,
        allocation=Allocation(proportion=proportion, exclusivity_tags=tags, exclusive_to=to),
        state=state,
        created_at=0,
        updated_at=0,
    )


def view(
    segment: Segment, bitset: int | None = None, rivals: int = 0, used_by: tuple[str, ...] = ()
) -> AllocationView:
    stored = None if bitset is None or bitset == FULL else to_bytes(bitset)
    return AllocationView(segment=segment, bitset=stored, rivals=rivals, used_by=used_by)


# --- the conflict rule -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((("g",), ("g",)), (("g",), ("g",)), True),  # mutual exclusion
        ((("search",), ("search", "ranking")), (("ranking",), ()), True),  # multi-group
        ((("ranking-v2",), ("ranking-v2", "all")), (("all",), ("all",)), True),  # hierarchy
        ((("a",), ()), (("a",), ()), False),  # same tag, nobody exclusive to it
        ((("a",), ("b",)), (("c",), ("d",)), False),
        (((), ("a",)), (("a",), ()), True),  # one-sided still conflicts (symmetric)
    ],
)
def test_conflict_rule(
    a: tuple[tuple[str, ...], tuple[str, ...]],
    b: tuple[tuple[str, ...], tuple[str, ...]],
    expected: bool,
) -> None:
    one = Allocation(exclusivity_tags=a[0], exclusive_to=a[1])
    two = Allocation(exclusivity_tags=b[0], exclusive_to=b[1])
    assert rules.conflicts(one, two) is expected
    assert rules.conflicts(two, one) is expected


# --- transitions -------------------------------------------------------------------------------


def test_uncoordinated_segments_start_ok_with_their_buckets() -> None:
    state, bitset = rules.initial(Allocation(proportion="0.25"), RNG)
    assert state == "OK" and bitset is not None and bitset.bit_count() == 250_000


@pytest.mark.parametrize(
    "alloc", [Allocation(exclusivity_tags=("g",)), Allocation(exclusive_to=("g",))]
)
def test_coordinated_segments_start_unallocated(alloc: Allocation) -> None:
    assert rules.initial(alloc, RNG) == ("UNALLOCATED", None)


def test_allocate_takes_free_buckets_only() -> None:
    rivals = draw(600_000, FULL, RNG)
    change = rules.decide_allocate(
        view(seg(state="UNALLOCATED", proportion="0.4", tags=("g",), to=("g",)), rivals=rivals), RNG
    )
    assert change is not None and change.state == "ALLOCATED"
    assert isinstance(change.bitset, int)
    assert change.bitset.bit_count() == 400_000 and change.bitset & rivals == 0


def test_allocate_refuses_when_space_is_short() -> None:
    rivals = draw(600_001, FULL, RNG)
    with pytest.raises(Conflict) as refused:
        rules.decide_allocate(view(seg(state="UNALLOCATED", proportion="0.4"), rivals=rivals))
    assert refused.value.field == "allocation.proportion"
    assert refused.value.message == (
        "segment segments/seg-a cannot be allocated: 0.4 requested, 0.399999 available"
    )


@pytest.mark.parametrize("state", ["OK", "ALLOCATED"])
def test_allocate_is_tolerated_on_live_segments(state: str) -> None:
    assert rules.decide_allocate(view(seg(state=state))) is None


def test_allocate_refuses_archived() -> None:
    with pytest.raises(Conflict, match="archived"):
        rules.decide_allocate(view(seg(state="ARCHIVED")))


@pytest.mark.parametrize("state", ["OK", "ALLOCATED"])
def test_archive_live_segments(state: str) -> None:
    assert rules.decide_archive(view(seg(state=state))).state == "ARCHIVED"


@pytest.mark.parametrize("state", ["UNALLOCATED", "ARCHIVED"])
def test_archive_refuses_other_states(state: str) -> None:
    with pytest.raises(Conflict, match="only OK and ALLOCATED"):
        rules.decide_archive(view(seg(state=state)))


def test_archive_refuses_a_segment_rules_use() -> None:
    with pytest.raises(InUse) as refused:
        rules.decide_archive(view(seg(), used_by=("r1", "r2")))
    assert refused.value.users == ("r1", "r2")


@pytest.mark.parametrize("state", ["ALLOCATED", "ARCHIVED"])
def test_update_refused_after_allocation(state: str) -> None:
    with pytest.raises(Conflict, match="only OK and UNALLOCATED"):
        rules.decide_update(view(seg(state=state)), SegmentPatch(name="x"))


def test_update_to_coordinated_drops_the_buckets() -> None:
    patch = SegmentPatch(allocation=Allocation(exclusivity_tags=("g",), exclusive_to=("g",)))
    change = rules.decide_update(view(seg(), draw(10, FULL, RNG)), patch)
    assert change.state == "UNALLOCATED" and change.bitset is None


def test_update_of_an_ok_proportion_grows_or_shrinks_its_buckets() -> None:
    current = draw(300_000, FULL, RNG)
    grown = rules.decide_update(
        view(seg(proportion="0.3"), current),
        SegmentPatch(allocation=Allocation(proportion="0.5")),
        RNG,
    )
    assert isinstance(grown.bitset, int)
    assert grown.bitset.bit_count() == 500_000 and grown.bitset & current == current
    shrunk = rules.decide_update(
        view(seg(proportion="0.3"), current),
        SegmentPatch(allocation=Allocation(proportion="0.1")),
        RNG,
    )
    assert isinstance(shrunk.bitset, int)
    assert shrunk.bitset.bit_count() == 100_000 and shrunk.bitset & ~current == 0
    same = rules.decide_update(view(seg(proportion="0.3"), current), SegmentPatch(name="n"))
    assert same.state == "OK" and same.bitset is msgspec.UNSET


def test_update_of_unallocated_to_uncoordinated_draws_buckets() -> None:
    change = rules.decide_update(
        view(seg(state="UNALLOCATED", proportion="0.2", tags=("g",))),
        SegmentPatch(allocation=Allocation(proportion="0.2")),
        RNG,
    )
    assert change.state == "OK"
    assert isinstance(change.bitset, int) and change.bitset.bit_count() == 200_000


def test_update_checks_the_new_allocation() -> None:
    with pytest.raises(Invalid):
        rules.decide_update(view(seg()), SegmentPatch(allocation=Allocation(proportion="2")))
    with pytest.raises(Invalid):
        rules.check_allocation(Allocation(exclusivity_tags=("",)))


# --- membership --------------------------------------------------------------------------------


def test_membership_needs_targeting_buckets_and_a_live_state() -> None:
    unit = "roug"
    mine = bucket("confidence-test", unit)
    stored = to_bytes(from_members([mine]))
    live = seg(state="ALLOCATED")
    assert rules.is_member(live, stored, True, unit, "confidence-test")
    assert not rules.is_member(live, stored, False, unit, "confidence-test")
    assert not rules.is_member(live, stored, True, unit, "another-account")
    assert not rules.is_member(live, stored, True, None, "confidence-test")
    assert rules.is_member(live, None, True, None, "confidence-test")  # full bitset, no unit
    for state in ("UNALLOCATED", "ARCHIVED"):
        assert not rules.is_member(seg(state=state), None, True, unit, "confidence-test")


@pytest.mark.parametrize(
    ("value", "unit"),
    [("u", "u"), ("", ""), (42, "42"), (42.0, "42"), (None, None), ("x" * 100, "x" * 100)],
)
def test_units(value: object, unit: str | None) -> None:
    assert rules.unit_of(value) == unit


@pytest.mark.parametrize("value", [True, 1.5, [1], {"a": 1}, "x" * 101])
def test_bad_units_are_targeting_key_errors(value: object) -> None:
    with pytest.raises(Invalid):
        rules.unit_of(value)


def test_account_id_defaults_to_the_tenant() -> None:
    assert rules.account_id("acme", {}) == "acme"
    assert rules.account_id("acme", {"confidence_account_id": "acc-1"}) == "acc-1"


# --- property: random mixes of coordinated segments ----------------------------------------


def expected_count(proportion: str) -> int:
    """round(p x 1e6), half to even, computed independently of core.buckets."""
    return int((Decimal(proportion) * BUCKETS).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


TAGS = ("a", "b", "c", "d")
proportions = st.one_of(
    st.integers(0, 1_000_000).map(lambda n: str(Decimal(n) / 1_000_000)),
    st.integers(0, 10**8).map(lambda n: str(Decimal(n) / 10**8)),  # finer than a bucket
    st.sampled_from(["0", "1", "0.5", "0.0000005", "0.0000015", "0.25"]),
)
tag_sets = st.lists(st.sampled_from(TAGS), max_size=3, unique=True).map(tuple)
coordinated = st.tuples(proportions, tag_sets, tag_sets).filter(lambda s: s[1] or s[2])
mixes = st.integers(1, 50).flatmap(lambda n: st.lists(coordinated, min_size=n, max_size=n))


@settings(
    max_examples=examples(20),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(specs=mixes, seed=st.integers(0, 2**32))
def test_random_mixes_of_coordinated_segments(
    specs: list[tuple[str, tuple[str, ...], tuple[str, ...]]], seed: int
) -> None:
    """Every segment of a random mix is allocated once, in random order, with random archives
    (and re-allocation attempts) in between."""
    rng = random.Random(seed)
    order = list(range(len(specs))) * 2  # the second attempt meets archived or live ones
    rng.shuffle(order)
    ops = []
    for i in order:
        if rng.random() < 0.15:
            ops.append(("archive", rng.randrange(len(specs))))
        ops.append(("allocate", i))
    segments = [
        seg(f"s-{i:03d}", "UNALLOCATED", p, tags, to) for i, (p, tags, to) in enumerate(specs)
    ]
    bitsets: dict[int, int] = {}

    def rivals_of(i: int) -> list[int]:
        me = segments[i].allocation
        return [
            j
            for j, s in enumerate(segments)
            if j != i
            and s.state == "ALLOCATED"
            and (
                set(me.exclusive_to) & set(s.allocation.exclusivity_tags)
                or set(s.allocation.exclusive_to) & set(me.exclusivity_tags)
            )
        ]

    for action, index in ops:
        i = index % len(segments)
        current = segments[i]
        if action == "archive":
            if current.state in rules.LIVE:
                segments[i] = msgspec.structs.replace(
                    current, state=rules.decide_archive(view(current)).state
                )
            continue
        union = 0
        for j in rivals_of(i):
            union |= bitsets[j]
        wanted = expected_count(current.allocation.proportion)
        short = wanted > BUCKETS - union.bit_count()
        try:
            change = rules.decide_allocate(view(current, rivals=union), rng)
        except Conflict:
            # refused exactly when short (or when archived: the end state)
            assert current.state == "ARCHIVED" or (current.state == "UNALLOCATED" and short)
            continue
        assert current.state != "ARCHIVED"
        if current.state != "UNALLOCATED":
            assert change is None  # live: unchanged; archived raised above
            continue
        assert not short and change is not None and isinstance(change.bitset, int)
        assert change.bitset.bit_count() == wanted
        bitsets[i] = change.bitset
        segments[i] = msgspec.structs.replace(current, state=change.state)

    allocated = [i for i, s in enumerate(segments) if s.state in ("ALLOCATED", "ARCHIVED")]
    for i in allocated:
        assert bitsets[i].bit_count() == expected_count(segments[i].allocation.proportion)
    # Exclusive segments never overlap while both hold buckets (archiving frees them, so only
    # pairs allocated while the other was live are checked: those are all ALLOCATED pairs).
    live = [i for i in allocated if segments[i].state == "ALLOCATED"]
    for x in live:
        for y in live:
            if x < y and rules.segments_conflict(segments[x], segments[y]):
                assert bitsets[x] & bitsets[y] == 0
