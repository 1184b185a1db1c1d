"""Read a condition a client sends as the canonical AST itself (``core.expr.ast`` as JSON).

The AST is segmux's own condition language: what ``/segmux/v1`` shows as a segment's
``expression`` can be sent back unchanged. A hand-written AST gets the checks a parser gives its
output — the same limits, literals that are valid values of their kind, RE2 patterns — and is
normalised like every parsed condition, so equal conditions are stored equally. Segment
criteria (``segment`` nodes) are refused: they are Confidence's, and only its API checks what
they name.
"""

from __future__ import annotations

from typing import Any

import msgspec

from core.errors import Invalid, LimitExceeded
from core.expr import re2
from core.expr.ast import (
    And,
    Arith,
    Cmp,
    CmpAttr,
    Count,
    DatePart,
    Exists,
    Expr,
    In,
    Like,
    Lit,
    Mod,
    Not,
    NowPart,
    Occurs,
    Or,
    Path,
    Quant,
    Regex,
    SegmentRef,
    StrOp,
)
from core.expr.kinds import canonical_number, lit_key
from core.expr.limits import DEFAULT_LIMITS, Limits
from core.expr.normalize import normalize
from core.expr.relative import occurs_problem

MAX_STEP = 256
"""Characters of one path step (an attribute name)."""

_encoder = msgspec.json.Encoder()


def read_canonical(
    value: Any, field: str = "expression", limits: Limits = DEFAULT_LIMITS
) -> Expr | None:
    """The normal form of the AST node ``value`` (decoded JSON); None (matches everyone) for
    null. ``Invalid`` names the offending part as ``field`` plus a ``$``-path."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Invalid(field, "the canonical expression is an AST node (a JSON object) or null")
    if len(_encoder.encode(value)) > limits.max_text:
        raise LimitExceeded(field, f"at most {limits.max_text} characters of JSON")
    try:
        expr: Expr = msgspec.convert(value, Expr)
    except msgspec.ValidationError as exc:
        text, _, where = str(exc).partition(" - at `$")
        raise Invalid(f"{field}{where.rstrip('`')}", text) from None
    _no_unknown_keys(value, expr, field)
    _Checker(field, limits).node(expr, 1, in_quant=False)
    return normalize(expr)


def _no_unknown_keys(value: Any, node: Any, field: str) -> None:
    """The AST's structs ignore keys they do not know; a client's typo (``"vaue"``) must not
    silently become a default, so every object holds only its node's fields and ``t``."""
    if isinstance(node, msgspec.Struct) and isinstance(value, dict):
        fields = node.__struct_fields__
        unknown = sorted(set(value) - set(fields) - {"t"})
        if unknown:
            raise Invalid(field, f"{type(node).__name__} has no field {unknown[0]!r}")
        for name in fields:
            if name in value:
                _no_unknown_keys(value[name], getattr(node, name), field)
    elif isinstance(node, tuple) and isinstance(value, list):
        for item, child in zip(value, node, strict=False):
            _no_unknown_keys(item, child, field)


SEGMENT_CRITERIA = (
    "segment criteria (references to other segments) are made through "
    "Confidence's API (/v1/segments), which checks what they name"
)


def refuse_segment_criteria(expr: Expr | None, field: str) -> None:
    """``Invalid`` if ``expr`` holds segment criteria (a language such as Confidence's
    targeting can carry them; only Confidence's API checks them)."""
    pending = [expr] if expr is not None else []
    while pending:
        e = pending.pop()
        if isinstance(e, SegmentRef):
            raise Invalid(field, SEGMENT_CRITERIA)
        if isinstance(e, And | Or):
            pending += e.args
        elif isinstance(e, Not):
            pending.append(e.arg)
        elif isinstance(e, Quant):
            pending.append(e.cond)


class _Checker:
    def __init__(self, field: str, limits: Limits) -> None:
        self.field = field
        self.limits = limits

    def refuse(self, reason: str) -> Invalid:
        return Invalid(self.field, reason)

    def node(self, e: Expr, depth: int, *, in_quant: bool) -> None:
        if depth > self.limits.max_depth:
            raise LimitExceeded(self.field, f"nests deeper than {self.limits.max_depth}")
        if isinstance(e, And | Or):
            if not e.args:
                raise self.refuse(f"an {e.__class__.__name__.lower()} needs at least one argument")
            if len(e.args) > self.limits.max_values:
                raise LimitExceeded(self.field, f"at most {self.limits.max_values} arguments")
            for arg in e.args:
                self.node(arg, depth + 1, in_quant=in_quant)
        elif isinstance(e, Not):
            self.node(e.arg, depth + 1, in_quant=in_quant)
        elif isinstance(e, Quant):
            self.path(e.path, in_quant=False)
            self.node(e.cond, depth + 1, in_quant=True)
        elif isinstance(e, SegmentRef):
            raise self.refuse(SEGMENT_CRITERIA)
        elif isinstance(e, CmpAttr):
            self.path(e.left, in_quant=in_quant)
            self.path(e.right, in_quant=in_quant)
        elif isinstance(e, Arith):
            sides = (e.left, e.right)
            if not any(isinstance(side, tuple) for side in sides):
                raise self.refuse("an `arith` has an attribute on at least one side")
            for side in sides:
                if isinstance(side, tuple):
                    self.path(side, in_quant=in_quant)
                elif canonical_number(side) is None:
                    raise self.refuse("an `arith` operand is a path or a finite number")
            if e.value.kind != "number":
                raise self.refuse("an `arith` compares with a number")
            self.lit(e.value)
        elif isinstance(e, NowPart):
            self.path(e.path, in_quant=in_quant)
        elif isinstance(e, Occurs):
            self.path(e.path, in_quant=in_quant)
            if (problem := occurs_problem(e)) is not None:
                raise self.refuse(problem)
        else:
            self.atom(e, in_quant=in_quant)

    def atom(
        self,
        e: Cmp | In | StrOp | Like | Regex | Exists | Count | DatePart | Mod,
        *,
        in_quant: bool,
    ) -> None:
        self.path(e.path, in_quant=in_quant)
        if isinstance(e, Cmp):
            self.lit(e.value)
        elif isinstance(e, Mod) and not 0 < abs(e.divisor) < 2**53:
            raise self.refuse("a `mod` divides by a whole number other than 0")
        elif isinstance(e, Count | DatePart | Mod):
            if e.value.kind != "number":
                raise self.refuse(f"a `{e.__class__.__name__.lower()}` compares with a number")
            self.lit(e.value)
        elif isinstance(e, In):
            if len(e.values) > self.limits.max_values:
                raise LimitExceeded(self.field, f"at most {self.limits.max_values} values")
            for lit in e.values:
                self.lit(lit)
            if len({lit.kind for lit in e.values}) > 1:
                raise self.refuse("the values of an `in` are all of one kind")
        elif isinstance(e, StrOp):
            if len(e.values) > self.limits.max_values:
                raise LimitExceeded(self.field, f"at most {self.limits.max_values} values")
            self.texts(e.values)
        elif isinstance(e, Like | Regex):
            pattern = e.pattern
            self.texts((pattern,))
            if isinstance(e, Regex) and (problem := re2.problem(pattern)) is not None:
                raise self.refuse(f"regular expression {pattern!r}: {problem}")

    def path(self, path: Path, *, in_quant: bool) -> None:
        if not path and not in_quant:
            raise self.refuse("an empty path (the list element itself) only inside a `quant`")
        for step in path:
            if not step or len(step) > MAX_STEP or "\x00" in step:
                raise self.refuse(f"path steps are 1 to {MAX_STEP} characters without NUL")

    def lit(self, lit: Lit) -> None:
        if lit.kind == "null":
            if lit.value is not None:
                raise self.refuse("a `null` literal has the value null")
            return
        if lit_key(lit) is None:
            raise self.refuse(f"{lit.value!r} is not a valid {lit.kind} literal")
        if isinstance(lit.value, str):
            self.texts((lit.value,))

    def texts(self, values: tuple[str, ...]) -> None:
        for text in values:
            if len(text) > self.limits.max_text or "\x00" in text:
                raise self.refuse(
                    f"strings are at most {self.limits.max_text} characters without NUL"
                )
