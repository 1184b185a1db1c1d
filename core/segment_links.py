"""Segment references in conditions (PQL ``inSegment("<id>")``, Confidence ``segment``
criteria), checked and made canonical when a condition is stored, whichever dialect wrote it.

A reference names a segment of the same tenant by its id (a UUID, what Adobe's ``inSegment``
takes), by its slug, or as ``segments/<slug>`` (Confidence's resource name). It is stored as
``segments/<slug>`` (a slug never changes), so every reader (evaluation, membership, the
delete/archive check in ``core.store.segment_refs``) finds it one way. The write is refused
(``Invalid``, a 400 in every dialect) when the named segment does not exist in the tenant, is
archived, or when following references leads back to the segment being written (the cycle is
named) or nests deeper than :data:`MAX_REF_DEPTH`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from core.allocation import without_unit
from core.errors import Invalid, NotFound
from core.expr import ast
from core.expr.refs import SEGMENT_PREFIX, ref_slug, segment_refs
from core.expr.sql_refs import Condition, NoMatch, Referenced, SqlRefs, StoredMembers
from core.model import Segment
from core.store import Store

MAX_REF_DEPTH = 32
"""References nest at most this deep (a longer chain is refused like a cycle): evaluation
follows them recursively, once per level."""
ARCHIVED = "ARCHIVED"
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _map_refs(expr: ast.Expr, slugs: dict[str, str]) -> ast.Expr:
    """``expr`` with each reference replaced by ``segments/<slug>`` of what it names."""
    if isinstance(expr, ast.SegmentRef):
        return ast.SegmentRef(SEGMENT_PREFIX + slugs[expr.ref])
    if isinstance(expr, ast.And):
        return ast.And(tuple(_map_refs(a, slugs) for a in expr.args))
    if isinstance(expr, ast.Or):
        return ast.Or(tuple(_map_refs(a, slugs) for a in expr.args))
    if isinstance(expr, ast.Not):
        return ast.Not(_map_refs(expr.arg, slugs))
    if isinstance(expr, ast.Quant):
        return ast.Quant(expr.q, expr.path, _map_refs(expr.cond, slugs))
    return expr


def _raw_refs(expr: ast.Expr) -> list[str]:
    """The references of ``expr`` as written (``segment_refs`` strips the prefix)."""
    found: list[str] = []

    def walk(e: ast.Expr) -> None:
        if isinstance(e, ast.SegmentRef):
            found.append(e.ref)
        elif isinstance(e, ast.And | ast.Or):
            for a in e.args:
                walk(a)
        elif isinstance(e, ast.Not):
            walk(e.arg)
        elif isinstance(e, ast.Quant):
            walk(e.cond)

    walk(expr)
    return found


async def _named(store: Store, tenant: str, ref: str) -> Segment | None:
    """The segment ``ref`` names: an id first (a slug may look like a UUID too), then a slug."""
    if not ref.startswith(SEGMENT_PREFIX) and _UUID_RE.match(ref):
        try:
            return await store.get_segment(tenant, "id", ref)
        except NotFound:
            pass
    try:
        return await store.get_segment(tenant, "slug", ref_slug(ref))
    except NotFound:
        return None


async def resolve_refs(
    store: Store, tenant: str, expression: bytes | None, *, own: str | None, field: str
) -> bytes | None:
    """``expression`` with its references made canonical, or ``Invalid`` on ``field`` when one
    names no usable segment or they lead back to ``own`` (the slug of the segment written)."""
    if expression is None or b'"t":"segment"' not in expression:
        return expression
    expr = ast.decode(expression)
    slugs: dict[str, str] = {}
    for ref in _raw_refs(expr):
        target = await _named(store, tenant, ref)
        if target is None:
            raise Invalid(field, f"inSegment / segment criterion {ref!r} names no existing segment")
        if target.state == ARCHIVED:
            raise Invalid(field, f"inSegment / segment criterion {ref!r} names an archived segment")
        slugs[ref] = target.slug
    if own is not None:
        await _refuse_cycle(store, tenant, own, list(dict.fromkeys(slugs.values())), field)
    return ast.encode(_map_refs(expr, slugs))


async def _refuse_cycle(store: Store, tenant: str, own: str, first: list[str], field: str) -> None:
    """Depth-first over the references from ``own``'s new condition; the path to ``own`` is
    the cycle the error names."""
    pending: list[tuple[str, tuple[str, ...]]] = [(s, (own,)) for s in first]
    seen: set[str] = set()
    while pending:
        slug, path = pending.pop()
        if slug == own:
            cycle = " -> ".join(f"{SEGMENT_PREFIX}{s}" for s in (*path, own))
            raise Invalid(field, f"segment references would form a cycle: {cycle}")
        if len(path) > MAX_REF_DEPTH:
            raise Invalid(field, f"segment references nest deeper than {MAX_REF_DEPTH} levels")
        if slug in seen:
            continue
        seen.add(slug)
        try:
            target = await store.get_segment(tenant, "slug", slug)
        except NotFound:
            continue  # deleted since: evaluates as no match
        if target.expression is not None:
            nested = segment_refs(ast.decode(target.expression))
            pending += [(s, (*path, slug)) for s in nested]


def referenced(segment: Segment | None) -> Referenced:
    """What membership of ``segment`` means to a condition naming it, with no unit known
    (the evaluator's rule, ``core.evaluation``; the SQL compilers' input): nothing when it is
    missing, or matches no one without a unit (archived, unallocated, a proportion of units:
    ``core.allocation.without_unit``); its stored members when static; else its condition."""
    if segment is None:
        return NoMatch("no such segment")
    reason = without_unit(segment)
    if reason is not None:
        return NoMatch(reason)
    if segment.kind == "static":
        return StoredMembers(segment.id)
    return Condition(ast.decode(segment.expression) if segment.expression is not None else None)


MAX_NAMED = 10_000
"""Segments :func:`sql_refs` reads at most while following references (a tenant's chains are
at most :data:`MAX_REF_DEPTH` deep, but may fan out)."""


async def sql_refs(
    store: Store, tenant: str, conditions: Iterable[ast.Expr | None], *, own: str | None = None
) -> SqlRefs | None:
    """What the references of ``conditions`` mean, followed to the end, for the SQL compilers
    (``core.expr.sql_refs``); None when the conditions name no segment. ``own``: the slug of
    the segment whose condition it is (a reference back to it is a cycle: no match)."""
    pending = [slug for e in conditions for slug in segment_refs(e)]
    if not pending:
        return None
    meanings: dict[str, Referenced] = {}
    while pending:
        slug = pending.pop()
        if slug in meanings:
            continue
        if len(meanings) >= MAX_NAMED:
            raise Invalid("expression", f"the condition names more than {MAX_NAMED} segments")
        try:
            target: Segment | None = await store.get_segment(tenant, "slug", slug)
        except NotFound:
            target = None  # deleted since: no one is in it
        meaning = meanings[slug] = referenced(target)
        if isinstance(meaning, Condition):
            pending += segment_refs(meaning.expr)
    return SqlRefs(lambda slug: meanings.get(slug, NoMatch("no such segment")), own=own)


__all__ = ["MAX_REF_DEPTH", "referenced", "resolve_refs", "sql_refs"]
