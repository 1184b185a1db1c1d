"""The store protocol: segments, their reads beyond the basics and Confidence allocation (the
bitsets of their buckets)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, Protocol

from core.model import (
    ExtensionTest,
    NewSegment,
    Page,
    RoomGuard,
    Segment,
    SegmentPatch,
    SegmentRoom,
    SegmentToUpdate,
    Sort,
)
from core.store.allocation import Conflicts, Decide

SegmentKey = Literal["id", "seq", "slug"]


class SegmentStore(Protocol):
    # segments ------------------------------------------------------------------------------
    async def create_segment(
        self, tenant: str, new: NewSegment, actor: str | None, *, guard: RoomGuard | None = None
    ) -> Segment:
        """Insert a segment. ``seq``/``slug``/``id`` are generated unless given; a given ``seq``
        moves the tenant's sequence above it. ``Conflict("name"|"seq"|"slug"|"id")``. With
        ``guard``, only while the tenant meets it, checked under the lock that claims the seq
        (``RoomChanged`` otherwise, nothing written)."""

    async def get_segment(self, tenant: str, key: SegmentKey, value: str | int) -> Segment:
        """One segment by id (UUID), seq or slug; ``NotFound`` otherwise."""

    async def list_segments(
        self,
        tenant: str,
        *,
        sandbox: str | None,
        offset: int = 0,
        limit: int = 100,
        sort: tuple[Sort, ...] = (),
    ) -> Page:
        """A page of segments (all sandboxes when ``sandbox`` is None), ordered by ``sort`` and
        then by id, with the total count of matching rows."""

    async def update_segment(
        self,
        tenant: str,
        segment_id: str,
        patch: SegmentPatch,
        actor: str | None,
        *,
        if_version: int | None = None,
    ) -> Segment:
        """Apply ``patch``; bump version and ``updated_at``. With ``if_version``, refuse with
        ``Conflict("version")`` when the stored version differs. ``NotFound``, ``Conflict``."""

    async def delete_segment(self, tenant: str, segment_id: str) -> None:
        """Delete a segment; ``NotFound`` if it does not exist."""

    async def count_segments(self, tenant: str, sandbox: str | None = None) -> int:
        """How many segments the tenant has (in one sandbox, or in all)."""

    async def segment_room(self, tenant: str) -> SegmentRoom:
        """The tenant and a bound on its segments, in one primary-key read; ``NotFound``
        without the tenant. Whether a name is taken is left to the insert (its unique key)."""

    async def segment_to_update(self, tenant: str, seq: int) -> SegmentToUpdate:
        """The tenant and its segment of ``seq`` (in any sandbox), in one read; ``NotFound``
        without the tenant. Whether a new name is taken is left to the update (its unique
        key)."""

    # segment reads beyond the basics (see core.store.segment_queries) ----------------------
    async def get_segments(self, tenant: str, ids: Sequence[str]) -> list[Segment]:
        """The tenant's segments with these ids, in the order asked, each once; unknown ids
        are left out."""

    async def segments_after(
        self,
        tenant: str,
        *,
        after: tuple[int, str] | None,
        limit: int,
        name_contains: str | None = None,
    ) -> list[Segment]:
        """Keyset paging over the tenant's segments by ``(created_at, id)``, optionally only
        those whose name contains ``name_contains`` (case-insensitive)."""

    async def list_segments_where(
        self,
        tenant: str,
        *,
        sandbox: str | None,
        tests: Sequence[ExtensionTest],
        offset: int = 0,
        limit: int = 100,
        sort: tuple[Sort, ...] = (),
    ) -> Page:
        """``list_segments`` of the segments that pass every test."""

    # Confidence allocation (bitsets of the 1,000,000 buckets; see core.store.allocation) ------
    async def create_segment_with_bitset(
        self, tenant: str, new: NewSegment, actor: str | None, bitset: int | None
    ) -> Segment:
        """``create_segment`` and the segment's bitset (None: none stored) in one transaction."""

    async def get_bitset(self, tenant: str, segment_id: str) -> bytes | None:
        """The stored 125,000-byte bitset of a segment, or None when none is stored."""

    async def allocated_union(
        self, tenant: str, conflicts: Callable[[Segment], bool], exclude: str | None = None
    ) -> int:
        """Union of the buckets of the tenant's ALLOCATED segments (but ``exclude``) that
        ``conflicts`` picks; a segment with no stored bitset holds every bucket."""

    async def change_allocation(
        self,
        tenant: str,
        segment_id: str,
        actor: str | None,
        decide: Decide,
        *,
        conflicts: Conflicts | None = None,
        with_uses: bool = False,
    ) -> Segment:
        """Read the segment, its bitset, with ``conflicts`` the union of its rivals' buckets and
        with ``with_uses`` the rules using it, call ``decide`` and write its change (state,
        patch, bitset; version and ``updated_at`` bumped) — all in one transaction that no
        other transition of the tenant interleaves with. An error ``decide`` raises rolls back
        everything. ``NotFound``, ``Conflict``."""
