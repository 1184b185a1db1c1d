"""Segments that flag rules use: the one check every kind of rule makes before it refers to a
segment, in the transaction that writes the reference.

Segments that other segments' conditions name (PQL ``inSegment``, Confidence ``segment``
criteria) are found in the stored conditions themselves (:func:`refuse_if_referenced`): no table
of links to keep in step, and the row lock of the delete or archive orders it against a write
that adds a reference (which locks the named segment FOR SHARE, :func:`lock_referenced`).

Unleash strategies (``core.store.flags``) and Confidence rules (``core.store.confidence_flags``)
both keep their segment in a column with a foreign key to ``segments`` and no ``ON DELETE``, so
a segment in use cannot be deleted through any API. Archiving is a state change, which a foreign
key does not stop; this check closes that gap for both (see :func:`lock_usable`).
"""

from __future__ import annotations

from collections.abc import Sequence

from core.errors import Conflict, InUse, Invalid, NotFound
from core.expr import ast
from core.expr.refs import segment_refs
from core.store.base import Tx

ARCHIVED = "ARCHIVED"  # the segment state of core.allocation (the store does not import it)


def placeholders(start: int, count: int) -> str:
    return ", ".join(f"${i}" for i in range(start, start + count))


async def lock_usable(
    tx: Tx,
    tenant: str,
    values: Sequence[str],
    lock: str,
    *,
    key: str = "id",
    sandbox: str | None = None,
    user: str = "a flag rule",
) -> dict[str, str]:
    """``{value: segment id}`` for segments found by ``key`` (``id`` or ``slug``), all or
    nothing: a missing one (or, with ``sandbox``, one of another sandbox) is ``NotFound``, an
    archived one ``Conflict``.

    ``lock`` (``SqlBase._row_lock("SHARE")``) makes the check hold until commit: the foreign key
    alone only stops a *delete* racing the reference (its KEY SHARE lock lets a state update
    through), so a concurrent archive would pass. Under a SHARE lock an archive (which locks the
    row FOR UPDATE before it counts the rules using it, see ``core.store.allocation``) either
    commits first — and this read sees ARCHIVED — or waits for this commit and sees the new
    use."""
    wanted = list(dict.fromkeys(values))
    if not wanted:
        return {}
    where = f"tenant = $1 AND {key} IN ({placeholders(2, len(wanted))})"
    args: list[str] = [tenant, *wanted]
    if sandbox is not None:
        args.append(sandbox)
        where += f" AND sandbox = ${len(args)}"
    found = await tx.fetch(
        f"SELECT id, {key} AS wanted, state FROM segments WHERE {where} ORDER BY id{lock}", *args
    )
    rows = {r["wanted"]: r for r in found}
    for value in wanted:
        if value not in rows:
            raise NotFound("segment", value)
        if rows[value]["state"] == ARCHIVED:
            raise Conflict("state", f"the segment is archived and cannot be used by {user}")
    return {value: str(rows[value]["id"]) for value in wanted}


USES_SQL = (
    "SELECT rule_id AS name FROM rule_segments WHERE tenant = $1 AND segment_id = $2 "
    "UNION ALL SELECT 'flags/' || flag || '/rules/' || id AS name FROM confidence_rules "
    "WHERE tenant = $1 AND segment_id = $2"
)
"""The rules (of every kind) that use segment ``$2``: Unleash strategies by id, Confidence
rules by resource name. Unordered (the two columns' collations differ on PostgreSQL, so the
union cannot be sorted there): sort the names in Python."""


_REFERENCE_TAG = '"t":"segment"'
_REFERENCE_MARK = f"%{_REFERENCE_TAG}%"
"""Canonical JSON of a condition holding a ``SegmentRef`` contains this (``ast.encode``): the
LIKE narrows the scan, the decoded condition decides."""


async def referring_segments(tx: Tx, tenant: str, slug: str) -> tuple[str, ...]:
    """``segments/<slug>`` of every segment of the tenant whose condition names ``slug``."""
    rows = await tx.fetch(
        "SELECT slug, expression FROM segments WHERE tenant = $1 AND expression LIKE $2",
        tenant,
        _REFERENCE_MARK,
    )
    found = []
    for row in rows:
        text = row["expression"]
        expr = ast.decode(text.encode() if isinstance(text, str) else text)
        if slug in segment_refs(expr):
            found.append(f"segments/{row['slug']}")
    return tuple(sorted(found))


async def refuse_if_referenced(tx: Tx, tenant: str, slug: str, name: str, action: str) -> None:
    """``InUse`` when another segment's condition names this one: deleting or archiving it
    would silently change what that segment means. Call it with the segment's row locked."""
    referring = await referring_segments(tx, tenant, slug)
    if referring:
        raise InUse(
            f"segment {name} is referenced by the condition of {', '.join(referring)} "
            f"(inSegment / segment criteria) and cannot be {action}",
            referring,
        )


def names_segments(expression: bytes | None) -> bool:
    """Whether a condition may name segments (its canonical JSON holds a reference's tag): a
    write of one that does not locks no other segment."""
    return expression is not None and _REFERENCE_TAG.encode() in expression


async def lock_referenced(tx: Tx, tenant: str, expression: bytes | None, lock: str) -> None:
    """Lock the segments a condition about to be written names (FOR SHARE: ``lock``), after
    the tenant's row (the caller's): a delete or archive of one of them then either commits
    first — and this write fails with the 400 of ``core.segment_links`` — or waits and finds
    the reference (:func:`refuse_if_referenced`)."""
    if expression is None or not names_segments(expression):
        return
    slugs = segment_refs(ast.decode(expression))
    try:
        await lock_usable(tx, tenant, slugs, lock, key="slug", user="a segment's condition")
    except (NotFound, Conflict) as exc:
        # Removed or archived since the write was checked: the same 400 the check gives.
        raise Invalid("expression", f"a segment the condition names is gone: {exc}") from None


MAX_CYCLE_WALK = 10_000
"""Segments a cycle check reads at most (a tenant's segment limit): it stops there."""


async def refuse_cycle(tx: Tx, tenant: str, segment_id: str, expression: bytes) -> None:
    """``Invalid`` when the condition about to be written for ``segment_id`` leads back to it.
    ``core.segment_links`` checks this before the write; this repeats it under the tenant's
    row lock (every write that adds a reference takes it first), so two updates naming each
    other cannot both pass."""
    if _REFERENCE_TAG.encode() not in expression:
        return
    own = await tx.fetchrow(
        "SELECT slug FROM segments WHERE tenant = $1 AND id = $2", tenant, segment_id
    )
    if own is None:
        return  # the update itself answers NotFound
    start: tuple[str, ...] = (str(own["slug"]),)
    pending = [(slug, start) for slug in segment_refs(ast.decode(expression))]
    seen: set[str] = set()
    while pending and len(seen) < MAX_CYCLE_WALK:
        slug, path = pending.pop()
        if slug == start[0]:
            cycle = " -> ".join(f"segments/{s}" for s in (*path, slug))
            raise Invalid("expression", f"segment references would form a cycle: {cycle}")
        if slug in seen:
            continue
        seen.add(slug)
        row = await tx.fetchrow(
            "SELECT expression FROM segments WHERE tenant = $1 AND slug = $2", tenant, slug
        )
        if row is not None and row["expression"] is not None:
            text = row["expression"]
            nested = ast.decode(text.encode() if isinstance(text, str) else text)
            pending += [(s, (*path, slug)) for s in segment_refs(nested)]
