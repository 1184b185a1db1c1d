"""Limits on conditions, so hostile input is refused early with ``Invalid``.

Two layers use them:

* every parser checks what it reads as it reads it (text length, bracket depth, values in one
  list), so a parse never recurses or allocates without bound;
* :func:`check_condition` is the one size rule over the canonical AST, whatever language the
  condition came in (PQL text, pql/json, OData, Unleash constraints, Confidence targeting, the
  AST itself). It runs on every condition a segment is written with and on every filter the
  database evaluates, because the database's time grows with it: each condition is a test the
  database runs per profile, so a few thousand ``or``-ed ones cost seconds per page of
  members, and SQLite refuses an expression tree that deep outright.
"""

from __future__ import annotations

import re

import msgspec

from core.errors import Invalid, LimitExceeded
from core.expr.ast import (
    And,
    Arith,
    Cmp,
    CmpAttr,
    Count,
    DatePart,
    Expr,
    In,
    Like,
    Lit,
    Mod,
    Not,
    Or,
    Quant,
    Regex,
    SegmentRef,
    StrOp,
)


class Limits(msgspec.Struct, frozen=True):
    max_text: int = 64 * 1024
    """Characters of expression text (or of the JSON text of a structured expression); also
    the longest string a condition may hold."""
    max_depth: int = 64
    """Nesting depth of the resulting AST and of the input's brackets / JSON nesting."""
    max_values: int = 10_000
    """Values in one set (``in`` lists, Unleash ``values``, Confidence ``setRule``); also the
    values of a whole condition, all its sets together."""
    max_atoms: int = 500
    """Tests in one condition (comparisons, set and string tests, patterns, existence tests,
    quantifiers): what the database runs per profile. A set of any size is one test."""


DEFAULT_LIMITS = Limits()
_UNKEPT = re.compile("[\x00\ud800-\udfff]")
"""Characters no store keeps: NUL (PostgreSQL's text and jsonb refuse it) and lone surrogates
(not characters: no UTF-8 text holds them)."""


def check_condition(
    expr: Expr | None, field: str = "expression", limits: Limits = DEFAULT_LIMITS
) -> None:
    """``LimitExceeded(field, reason)`` unless ``expr`` is within ``limits``; ``Invalid`` too
    for a string or attribute name no store can hold (a NUL, a lone surrogate). Iterative, so
    any depth is refused without recursing."""
    if expr is None:
        return
    pending: list[tuple[Expr, int]] = [(expr, 1)]
    atoms = values = 0
    while pending:
        e, depth = pending.pop()
        if depth > limits.max_depth:
            raise LimitExceeded(field, f"the condition nests deeper than {limits.max_depth} levels")
        if isinstance(e, And | Or):
            pending += [(arg, depth + 1) for arg in e.args]
            continue
        if isinstance(e, Not):
            pending.append((e.arg, depth + 1))
            continue
        atoms += 1
        if atoms > limits.max_atoms:
            raise LimitExceeded(
                field,
                f"the condition has more than {limits.max_atoms} tests "
                "(comparisons, set and string tests); write long lists of "
                "alternatives as one `in` set",
            )
        if isinstance(e, SegmentRef):
            continue
        if isinstance(e, CmpAttr):
            _texts(field, limits, (*e.left, *e.right))
            continue
        if isinstance(e, Arith):
            for side in (e.left, e.right):
                if isinstance(side, tuple):
                    _texts(field, limits, side)
            values += _values(field, limits, e)
            continue
        _texts(field, limits, e.path)
        if isinstance(e, Quant):
            pending.append((e.cond, depth + 1))
            continue
        count = _values(field, limits, e)
        values += count
        if values > limits.max_values:
            raise LimitExceeded(
                field, f"the condition has more than {limits.max_values} values in all"
            )


def _values(field: str, limits: Limits, e: Expr) -> int:
    """The values of one test, their strings checked; ``LimitExceeded`` for a set too long."""
    lits: tuple[Lit, ...] = ()
    texts: tuple[str, ...] = ()
    if isinstance(e, In):
        lits = e.values
    elif isinstance(e, StrOp):
        texts = e.values
    elif isinstance(e, Like | Regex):
        texts = (e.pattern,)
    elif isinstance(e, Cmp | Count | DatePart | Mod | Arith):
        lits = (e.value,)
    count = len(lits) + len(texts)
    if count > limits.max_values:
        raise LimitExceeded(field, f"a set has more than {limits.max_values} values")
    _texts(field, limits, texts)
    _texts(field, limits, tuple(lit.value for lit in lits if isinstance(lit.value, str)))
    return count


def _texts(field: str, limits: Limits, texts: tuple[str, ...]) -> None:
    for text in texts:
        if len(text) > limits.max_text:
            raise LimitExceeded(
                field, f"a string of the condition is longer than {limits.max_text} characters"
            )
        found = _UNKEPT.search(text)
        if found is not None and found.group() == "\x00":
            raise Invalid(
                field,
                "the condition holds a NUL character, which no store keeps: "
                "strings and attribute names must not contain NUL",
            )
        if found is not None:
            raise Invalid(
                field, "the condition holds a lone surrogate, which is not a Unicode character"
            )
