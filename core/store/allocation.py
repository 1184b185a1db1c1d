"""Confidence allocation: bucket bitsets and atomic state transitions, as a mixin of ``SqlStore``.

The store supplies the mechanism and the core the policy: a transition reads the segment, its
bitset and (when asked) the union of its rivals' bitsets *inside one write transaction*, hands
them to a pure ``decide`` function of ``core.allocation`` and writes what it returns in that same
transaction. Two rivals allocating at once therefore never see the same free buckets:

* PostgreSQL: the transaction first locks the tenant's row (``UPDATE tenants … WHERE name``), so
  allocations of one tenant run one after another, and READ COMMITTED lets the next one see the
  buckets the previous one committed.
* SQLite: every write is already one ``BEGIN IMMEDIATE`` transaction on the single writer; the
  same statement is a harmless no-op there.

Bitsets live in ``segment_bitsets`` (125,000 bytes each), away from the segment rows that lists
read. No row means *all buckets* for a segment that has been allocated (what every segment made
by another dialect is: proportion 1); an UNALLOCATED segment has none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from core.buckets import FULL, from_bytes, to_bytes
from core.errors import NotFound
from core.model import NewSegment, Segment, SegmentPatch, now_us
from core.store.base import SqlBase, Tx
from core.store.rows import dumps, segment_from_row
from core.store.segment_refs import (
    USES_SQL,
    lock_referenced,
    referring_segments,
    refuse_cycle,
)

ALLOCATED = "ALLOCATED"


class AllocationView(msgspec.Struct, frozen=True, kw_only=True):
    """What a transition sees, read inside its transaction."""

    segment: Segment
    bitset: bytes | None
    """The stored bitset, or None (none stored)."""
    rivals: int = 0
    """Union of the buckets of the ALLOCATED segments ``conflicts`` picked (0 if not asked)."""
    used_by: tuple[str, ...] = ()
    """Ids of the flag rules that use the segment (when asked)."""
    referenced_by: tuple[str, ...] = ()
    """``segments/<slug>`` of the segments whose condition names it (asked with ``used_by``)."""


class AllocationChange(msgspec.Struct, frozen=True, kw_only=True):
    """What a transition writes: the new state, the fields of ``patch`` and the bitset."""

    state: str
    patch: SegmentPatch | None = None
    bitset: int | msgspec.UnsetType | None = msgspec.UNSET
    """UNSET keeps the stored bitset, None removes it, an int replaces it."""


Decide = Callable[[AllocationView], AllocationChange | None]
"""None: nothing to write (the segment is returned as it is)."""
Conflicts = Callable[[Segment, Segment], bool]


class AllocationSql(SqlBase):
    """Bitset storage and allocation transitions (see ``core.store.protocol``)."""

    async def create_segment_with_bitset(
        self, tenant: str, new: NewSegment, actor: str | None, bitset: int | None
    ) -> Segment:
        async with self._write() as tx:
            segment = await self._insert_segment(tx, tenant, new, actor)
            await _write_bitset(tx, tenant, segment.id, bitset)
        return segment

    async def get_bitset(self, tenant: str, segment_id: str) -> bytes | None:
        async with self._read() as tx:
            return await _read_bitset(tx, tenant, segment_id)

    async def allocated_union(
        self, tenant: str, conflicts: Callable[[Segment], bool], exclude: str | None = None
    ) -> int:
        async with self._read() as tx:
            return await _union(tx, tenant, conflicts, exclude)

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
        async with self._write() as tx:
            # Serialises the tenant's transitions on PostgreSQL (see the module docstring).
            locked = await tx.fetchrow(
                "UPDATE tenants SET next_seq = next_seq WHERE name = $1 RETURNING name", tenant
            )
            if locked is None:
                raise NotFound("segment", segment_id)
            # Locked before the uses are counted: a rule attaching it holds a SHARE lock until
            # it commits, so the count below sees every rule that will use it
            # (segment_refs.lock_usable).
            row = await tx.fetchrow(
                "SELECT * FROM segments WHERE tenant = $1 AND id = $2" + self._row_lock("UPDATE"),
                tenant,
                segment_id,
            )
            if row is None:
                raise NotFound("segment", segment_id)
            segment = segment_from_row(row)
            rivals = 0
            if conflicts is not None:
                rivals = await _union(
                    tx, tenant, lambda other: conflicts(segment, other), segment_id
                )
            used_by: tuple[str, ...] = ()
            referenced_by: tuple[str, ...] = ()
            if with_uses:
                # Every kind of rule: Unleash strategies and Confidence rules alike.
                uses = await tx.fetch(USES_SQL, tenant, segment_id)
                used_by = tuple(sorted(str(r["name"]) for r in uses))
                referenced_by = await referring_segments(tx, tenant, segment.slug)
            view = AllocationView(
                segment=segment,
                bitset=await _read_bitset(tx, tenant, segment_id),
                rivals=rivals,
                used_by=used_by,
                referenced_by=referenced_by,
            )
            change = decide(view)
            if change is None:
                return segment
            if change.patch is not None and isinstance(change.patch.expression, bytes):
                await lock_referenced(tx, tenant, change.patch.expression, self._row_lock("SHARE"))
                await refuse_cycle(tx, tenant, segment_id, change.patch.expression)
            sets, args = _assignments(change.patch, start=6)
            updated = await tx.fetchrow(
                "UPDATE segments SET version = version + 1, updated_at = $3, updated_by = $4, "
                f"state = $5{''.join(', ' + s for s in sets)} "
                "WHERE tenant = $1 AND id = $2 RETURNING *",
                tenant,
                segment_id,
                now_us(),
                actor,
                change.state,
                *args,
            )
            assert updated is not None
            if not isinstance(change.bitset, msgspec.UnsetType):
                await _write_bitset(tx, tenant, segment_id, change.bitset)
        return segment_from_row(updated)


async def _read_bitset(tx: Tx, tenant: str, segment_id: str) -> bytes | None:
    row = await tx.fetchrow(
        "SELECT bitset FROM segment_bitsets WHERE tenant = $1 AND segment_id = $2",
        tenant,
        segment_id,
    )
    return None if row is None else bytes(row["bitset"])


async def _write_bitset(tx: Tx, tenant: str, segment_id: str, bitset: int | None) -> None:
    # The full set is stored as no row: proportion 1 is the common case and costs nothing.
    if bitset is None or bitset == FULL:
        await tx.execute(
            "DELETE FROM segment_bitsets WHERE tenant = $1 AND segment_id = $2",
            tenant,
            segment_id,
        )
        return
    await tx.execute(
        "INSERT INTO segment_bitsets (tenant, segment_id, bitset) VALUES ($1, $2, $3) "
        "ON CONFLICT (tenant, segment_id) DO UPDATE SET bitset = excluded.bitset",
        tenant,
        segment_id,
        to_bytes(bitset),
    )


async def _union(
    tx: Tx, tenant: str, conflicts: Callable[[Segment], bool], exclude: str | None
) -> int:
    """Union of the buckets of the tenant's ALLOCATED segments that ``conflicts`` picks."""
    rows = await tx.fetch(
        "SELECT * FROM segments WHERE tenant = $1 AND state = $2", tenant, ALLOCATED
    )
    union = 0
    for row in rows:
        other = segment_from_row(row)
        if other.id == exclude or not conflicts(other):
            continue
        union |= from_bytes(await _read_bitset(tx, tenant, other.id))
        if union == FULL:
            break
    return union


def _assignments(patch: SegmentPatch | None, *, start: int) -> tuple[list[str], list[Any]]:
    """``SET`` clauses for the fields a patch sets, numbered from ``$start`` (the shape of
    ``core.store.sql``'s, which numbers after its own fixed arguments)."""
    sets: list[str] = []
    args: list[Any] = []
    if patch is None:
        return sets, args
    for field in patch.__struct_fields__:
        value = getattr(patch, field)
        if value is msgspec.UNSET or field == "state":
            continue
        if field == "expression":
            value = value.decode() if value is not None else None
        elif field in ("allocation", "labels", "extensions"):
            value = dumps(value)
        sets.append(f"{field} = ${start + len(args)}")
        args.append(value)
    return sets, args
