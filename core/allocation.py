"""Confidence's segment lifecycle: states, coordination, allocation and membership of a unit.

The rules (``docs/dialects/confidence.md``), free of HTTP and of SQL:

* A segment with neither ``exclusivity_tags`` nor ``exclusive_to`` is *uncoordinated*: it is
  allocated when created and starts **OK**. A coordinated one starts **UNALLOCATED** and gets
  buckets from ``allocate`` (**ALLOCATED**), disjoint from every ALLOCATED rival.
* A and B are rivals iff ``A.exclusive_to ∩ B.exclusivity_tags`` or ``B.exclusive_to ∩
  A.exclusivity_tags`` is non-empty (symmetric).
* OK and UNALLOCATED segments may be updated; ALLOCATED and ARCHIVED may not. OK and ALLOCATED
  segments may be archived unless a flag rule uses them; an archived segment stops blocking its
  rivals' buckets.
* A unit is a member when the segment is OK or ALLOCATED, its targeting matches and the unit's
  bucket is in the segment's bitset.
* Never widen: an ARCHIVED or UNALLOCATED segment serves no one; one that holds fewer than all
  buckets matches no one whose unit is unknown (Confidence's resolver: "with no unit, only a full
  bitset matches"). A language that states only a condition can say neither, so every such view
  refuses these segments (:func:`check_condition_only`) rather than show the bare condition.

The ``decide_*`` functions are pure: the store calls them inside the transaction that read the
segment and its rivals, so what they decide is what gets written (``core.store.allocation``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import msgspec

from core.buckets import BUCKETS, FULL, bucket, bucket_count, draw, grow_or_shrink, has_bucket
from core.buckets import parse_proportion as parse_proportion
from core.buckets import share as share
from core.errors import Conflict, InUse, Invalid, NotExpressible
from core.model import Allocation, Segment, SegmentPatch
from core.store.allocation import AllocationChange, AllocationView

OK = "OK"
UNALLOCATED = "UNALLOCATED"
ALLOCATED = "ALLOCATED"
ARCHIVED = "ARCHIVED"
STATES = (OK, UNALLOCATED, ALLOCATED, ARCHIVED)
LIVE = frozenset({OK, ALLOCATED})
"""States whose segments evaluate as members and may back flag rules."""
UPDATABLE = frozenset({OK, UNALLOCATED})
MAX_TAGS = 100
MAX_TAG = 256
MAX_UNIT = 100
ACCOUNT_SETTING = "confidence_account_id"
"""Tenant setting naming the Confidence account whose salt buckets units (default: the
tenant's name)."""

_rng = random.Random()  # seeded from the OS; bucket draws need no cryptographic secrecy


def is_coordinated(allocation: Allocation) -> bool:
    return bool(allocation.exclusivity_tags or allocation.exclusive_to)


def conflicts(a: Allocation, b: Allocation) -> bool:
    """Whether two allocations must not share buckets."""
    return bool(
        set(a.exclusive_to) & set(b.exclusivity_tags)
        or set(b.exclusive_to) & set(a.exclusivity_tags)
    )


def segments_conflict(a: Segment, b: Segment) -> bool:
    return conflicts(a.allocation, b.allocation)


def check_allocation(allocation: Allocation) -> None:
    """Proportion a decimal in [0, 1]; tags non-empty strings (``Invalid`` otherwise)."""
    parse_proportion(allocation.proportion)
    for field, tags in (
        ("allocation.exclusivity_tags", allocation.exclusivity_tags),
        ("allocation.exclusive_to", allocation.exclusive_to),
    ):
        if len(tags) > MAX_TAGS:
            raise Invalid(field, f"at most {MAX_TAGS} tags")
        for tag in tags:
            if not tag or len(tag) > MAX_TAG or "\x00" in tag:
                raise Invalid(field, f"tags must be 1 to {MAX_TAG} characters without NUL")


def stored_bitset(segment: Segment, stored: bytes | None) -> int | None:
    """The segment's buckets: none while UNALLOCATED; otherwise what is stored, or all of them
    when nothing is (proportion 1, or a segment made by another dialect)."""
    if segment.state == UNALLOCATED:
        return None
    return FULL if stored is None else int.from_bytes(stored, "little") & FULL


def _name(segment: Segment) -> str:
    return f"segments/{segment.slug}"


# --- transitions -------------------------------------------------------------------------------


def initial(allocation: Allocation, rng: random.Random = _rng) -> tuple[str, int | None]:
    """State and bitset of a new segment: coordinated ones wait for ``allocate``."""
    check_allocation(allocation)
    if is_coordinated(allocation):
        return UNALLOCATED, None
    return OK, draw(bucket_count(allocation.proportion), FULL, rng)


def decide_allocate(view: AllocationView, rng: random.Random = _rng) -> AllocationChange | None:
    segment = view.segment
    if segment.state in LIVE:
        return None  # Spotify's tooling allocates every segment it creates: tolerate it
    if segment.state == ARCHIVED:
        raise Conflict("state", f"segment {_name(segment)} is archived and cannot be allocated")
    wanted = bucket_count(segment.allocation.proportion)
    free = FULL & ~view.rivals
    available = free.bit_count()
    if wanted > available:
        raise Conflict(
            "allocation.proportion",
            f"segment {_name(segment)} cannot be allocated: {segment.allocation.proportion} "
            f"requested, {share(available)} available",
        )
    return AllocationChange(state=ALLOCATED, bitset=draw(wanted, free, rng))


def decide_archive(view: AllocationView) -> AllocationChange:
    segment = view.segment
    if segment.state not in LIVE:
        raise Conflict(
            "state",
            f"segment {_name(segment)} is {segment.state}: only OK and ALLOCATED segments can "
            "be archived",
        )
    if view.used_by:
        raise InUse(
            f"segment {_name(segment)} is used by {len(view.used_by)} flag rule(s) and cannot "
            "be archived",
            view.used_by,
        )
    if view.referenced_by:
        raise InUse(
            f"segment {_name(segment)} is referenced by the condition of "
            f"{', '.join(view.referenced_by)} (inSegment / segment criteria) and cannot be "
            "archived",
            view.referenced_by,
        )
    return AllocationChange(state=ARCHIVED)


def decide_update(
    view: AllocationView, patch: SegmentPatch, rng: random.Random = _rng
) -> AllocationChange:
    """An update keeps a segment OK (uncoordinated: buckets kept, grown or shrunk to the new
    proportion) or makes it UNALLOCATED (coordinated: buckets dropped until ``allocate``)."""
    segment = view.segment
    if segment.state not in UPDATABLE:
        raise Conflict(
            "state",
            f"segment {_name(segment)} is {segment.state}: only OK and UNALLOCATED segments "
            "can be updated",
        )
    allocation = (
        segment.allocation if isinstance(patch.allocation, msgspec.UnsetType) else patch.allocation
    )
    check_allocation(allocation)
    if is_coordinated(allocation):
        return AllocationChange(state=UNALLOCATED, patch=patch, bitset=None)
    wanted = bucket_count(allocation.proportion)
    current = stored_bitset(segment, view.bitset)
    if current is None:
        return AllocationChange(state=OK, patch=patch, bitset=draw(wanted, FULL, rng))
    if current.bit_count() == wanted:
        return AllocationChange(state=OK, patch=patch)
    return AllocationChange(state=OK, patch=patch, bitset=grow_or_shrink(current, wanted, rng))


def available_buckets(rivals: int) -> int:
    return (FULL & ~rivals).bit_count()


# --- membership --------------------------------------------------------------------------------


def account_id(tenant_name: str, settings: Mapping[str, Any]) -> str:
    value = settings.get(ACCOUNT_SETTING)
    return value if isinstance(value, str) and value else tenant_name


def unit_of(value: Any, field: str = "targeting_key") -> str | None:
    """The unit a context names: a string, or an integral number printed without a decimal
    point; None when absent. Anything else is Confidence's TARGETING_KEY_ERROR (``Invalid``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise Invalid(field, "must be a string or an integral number")
    if isinstance(value, str):
        text = value
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        raise Invalid(field, "must be a string or an integral number")
    if len(text) > MAX_UNIT:
        raise Invalid(field, f"must be at most {MAX_UNIT} characters")
    return text


def in_buckets(segment: Segment, stored: bytes | None, unit: str | None, account: str) -> bool:
    """The allocation half of membership: a live segment whose bitset holds the unit's bucket.
    Without a unit only a full bitset matches."""
    if segment.state not in LIVE:
        return False
    if stored is None:
        return True
    if unit is None:
        return False
    return has_bucket(stored, bucket(account, unit))


def is_member(
    segment: Segment,
    stored: bytes | None,
    targeting_matches: bool,
    unit: str | None,
    account: str,
) -> bool:
    """Targeting matches AND the unit's bucket is allocated to the segment."""
    return targeting_matches and in_buckets(segment, stored, unit, account)


# --- never widen: what a condition alone cannot say ----------------------------------------

ARCHIVED_REASON = "archived"
UNALLOCATED_REASON = "unallocated"
NEEDS_UNIT = "needs a unit"


def not_serving(segment: Segment) -> str | None:
    """Why the segment serves no one whatever the context and unit (``archived``,
    ``unallocated``), or None while it is OK or ALLOCATED."""
    if segment.state == ARCHIVED:
        return ARCHIVED_REASON
    if segment.state == UNALLOCATED:
        return UNALLOCATED_REASON
    return None


def is_partial(segment: Segment) -> bool:
    """Whether the segment holds fewer than all 1,000,000 buckets. Its buckets are always
    ``bucket_count(proportion)`` of them (every draw takes exactly that many), so the proportion
    says it without reading the 125,000-byte bitset; "1", "1.0" and "0.9999999" are all full."""
    return bucket_count(segment.allocation.proportion) < BUCKETS


def without_unit(segment: Segment) -> str | None:
    """Why the segment matches no context when no unit is known, or None when its condition
    alone decides: not serving, or partial (only a unit's bucket could say)."""
    reason = not_serving(segment)
    if reason is None and is_partial(segment):
        reason = NEEDS_UNIT
    return reason


def check_condition_only(segment: Segment, language: str, label: str | None = None) -> None:
    """``NotExpressible`` when a language that states only a condition (PQL, OData, Unleash
    constraints) would show the segment wider than it is: archived or unallocated (it serves no
    one, yet the condition would match), or partial (the condition matches the whole audience,
    the segment only a proportion of it). The one rule every such view applies; ``label`` names
    the language in the reason (default: ``language``)."""
    said = label or language
    if segment.state == ARCHIVED:
        raise NotExpressible(
            language, f"the segment is ARCHIVED and serves no one; {said} cannot say so"
        )
    if segment.state == UNALLOCATED:
        raise NotExpressible(
            language,
            "the segment is UNALLOCATED and serves no one until it is allocated; "
            f"{said} cannot say so",
        )
    if is_partial(segment):
        raise NotExpressible(
            language,
            f"the segment allocates a proportion ({segment.allocation.proportion}) "
            f"of its audience by bucket of a unit; {said} cannot say a proportion",
        )
