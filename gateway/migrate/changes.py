"""What cannot arrive on the target as it is at the source, decided before any write.

``refusal`` is a reason not to create the segment at all (it would match more than at the
source); ``arrival`` lists what differs on a segment that is created anyway, each with what to
do about it, and says whether the new segment must be archived to match its source. ``{id}`` in
a change stands for the id the target gives the new segment."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.migrate.item import Item

ALLOCATED, ARCHIVED = "ALLOCATED", "ARCHIVED"
NO_DESCRIPTION = {"v23": "v2.3", "hal": "HAL"}
"""Targets whose segments have no description."""


@dataclass(frozen=True)
class Arrival:
    changes: tuple[str, ...] = ()
    archive: bool = False
    """Archive the segment right after creating it (Confidence; an archived source)."""
    notes: tuple[str, ...] = field(default=())


def refusal(item: Item, dialect: str) -> str | None:
    """Only Confidence has an archived state: anywhere else an archived segment (which serves no
    one) would match every unit its condition matches."""
    if item.state == ARCHIVED and dialect != "confidence":
        return (
            f"the segment is ARCHIVED at the source (it serves no one); {dialect} has no "
            "archived state, so there it would match"
        )
    return None


def arrival(item: Item, dialect: str) -> Arrival:
    if dialect == "confidence":
        return _at_confidence(item)
    changes: list[str] = []
    if item.description is not None and dialect in NO_DESCRIPTION:
        changes.append(
            f"the description is not carried: {NO_DESCRIPTION[dialect]} segments have none"
        )
    if item.labels:
        changes.append(f"labels {dict(item.labels)} are not carried: only Confidence keeps labels")
    return Arrival(tuple(changes))


def _at_confidence(item: Item) -> Arrival:
    """Confidence creates a coordinated segment (exclusivity tags or exclusive-to) UNALLOCATED
    and any other one OK, with buckets it draws itself: a source's ALLOCATED or ARCHIVED state
    cannot be sent, and neither can its buckets."""
    a = item.allocation
    coordinated = bool(a.exclusivity_tags or a.exclusive_to)
    allocate = "POST /v1/{id}:allocate"
    if item.state == ALLOCATED and coordinated:
        return Arrival(
            (
                f"ALLOCATED at the source, UNALLOCATED on the target (it serves no one "
                f"until allocated): allocate it with {allocate}; the target draws its "
                "own buckets",
            )
        )
    if item.state == ARCHIVED and coordinated:
        return Arrival(
            (
                f"ARCHIVED at the source, UNALLOCATED on the target (it serves no one "
                f"either way); to archive it, {allocate}, then POST /v1/{{id}}:archive",
            )
        )
    changes: list[str] = []
    if a.proportion not in ("", "1") and item.state is not None:
        changes.append(
            f"proportion {a.proportion} kept, but the target drew its own buckets: "
            "other units than at the source"
        )
    if item.state == ARCHIVED:
        return Arrival(
            tuple(changes), archive=True, notes=("archived after creation, as at the source",)
        )
    return Arrival(tuple(changes))
