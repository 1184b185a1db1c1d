"""What a segment reference (``SegmentRef``) means to the SQL compilers, told by their caller.

The compilers are pure over the AST; a reference names another segment of the tenant, whose
meaning only the caller knows (it holds the tenant's segments). It answers, per slug, one of:

* :class:`NoMatch`: no individual is in it: the segment is missing (deleted since), archived,
  unallocated, or allocated to a proportion of units by bucket (the SQL has no unit: never
  widen, as ``core.allocation.without_unit`` says for the evaluator);
* :class:`StoredMembers`: a static segment: the individual's row has a stored membership;
* :class:`Condition`: a dynamic segment: its condition (None = everyone), compiled in place over
  the same individual (``inSegment`` inside an array quantifier still asks about the whole
  individual, as the evaluator does).

A reference back to a segment already being inlined (a cycle, which writes refuse but a race
could leave) is false, as in the evaluator. Inlining is bounded (:data:`MAX_INLINED`): a tenant
whose references fan out (each naming the next twice) would make the statement exponential.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass
from typing import Any

from core.expr.ast import Expr
from core.expr.evaluate import ResolveSegment, compile_expr
from core.expr.refs import ref_slug

MAX_INLINED = 64
"""Named segments' conditions inlined into one predicate at most (each within the size rule of
a stored condition); past it the compiler refuses and the caller evaluates in Python."""


@dataclass(frozen=True)
class NoMatch:
    reason: str


@dataclass(frozen=True)
class StoredMembers:
    segment_id: str


@dataclass(frozen=True)
class Condition:
    expr: Expr | None


Referenced = NoMatch | StoredMembers | Condition


@dataclass(frozen=True)
class SqlRefs:
    """The caller's answer to "what does ``segments/<slug>`` mean" and where the individual's
    row is: ``row`` is the alias of a ``profiles`` row (``tenant``, ``sandbox``, ``identifier``)
    whose stored memberships a static segment is looked up in."""

    resolve: Callable[[str], Referenced]
    own: str | None = None
    """The slug of the segment whose condition is compiled (a reference to it is a cycle)."""
    row: str = "p"


def python_resolver(refs: SqlRefs, members: Set[str]) -> ResolveSegment:
    """The evaluator's ``resolve_segment`` meaning exactly what the compiled SQL means, for a
    condition the database could not take (``ProfileSql.segments_of_profile`` evaluates it in
    Python): ``members`` are the ids of the static segments the individual is a stored member
    of."""
    active: list[str] = [] if refs.own is None else [refs.own]

    def resolve(ref: str, context: Mapping[str, Any]) -> bool:
        slug = ref_slug(ref)
        if slug in active:
            return False
        meaning = refs.resolve(slug)
        if isinstance(meaning, NoMatch):
            return False
        if isinstance(meaning, StoredMembers):
            return meaning.segment_id in members
        active.append(slug)
        try:
            return compile_expr(meaning.expr, resolve)(context)
        finally:
            active.pop()

    return resolve
