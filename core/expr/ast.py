"""The canonical condition AST shared by every condition language.

Semantics (the contract every parser, renderer, evaluator and SQL compiler follows):

* Two-valued logic. Every *atom* (``Cmp``, ``In``, ``StrOp``, ``Like``, ``Regex``, ``Count``,
  ``DatePart``, ``Occurs``, ``NowPart``) is **false** when
  the attribute at its path is missing or JSON null. ``Not`` is plain boolean negation, so
  ``Not(In(...))`` is true on a missing attribute (Unleash ``NOT_IN``), while "present and not in"
  (PQL ``notIn``) is ``And(Exists(p), Not(In(...)))``.
* ``Exists(p)`` is true when the attribute is present and not null; "is null" is ``Not(Exists(p))``.
* A path that reaches a JSON array while more steps remain, or ends on an array, matches an atom
  when **any** element matches (HAL/Confidence list semantics). ``Quant`` states ``any``/``all``
  explicitly, with a condition over each element (paths inside are relative to the element; the
  empty path ``()`` is the element itself).
* The literal's ``kind`` decides how a comparison is made: ``string`` (byte order, values are
  stringified scalars), ``number`` (context strings that parse as numbers are numbers),
  ``bool``, ``datetime`` (an instant, RFC 3339), ``date`` (a calendar day), ``semver``
  (SemVer 2.0 incl. pre-release order, Unleash), ``version`` (2 to 4 numeric parts, Confidence).
* ``ci`` (case-insensitive) compares after ``casefold`` of both sides; only string kinds use it.

Nodes are frozen msgspec structs, tagged by ``t``, so they hash, compare structurally and encode to
JSON directly. ``core.expr.normalize`` gives the canonical form (flattened, sorted, deduplicated).
"""

from __future__ import annotations

from typing import Literal, TypeAlias

import msgspec

Path: TypeAlias = tuple[str, ...]
LitKind = Literal["string", "number", "bool", "null", "datetime", "date", "semver", "version"]
CmpOp = Literal["eq", "ne", "lt", "le", "gt", "ge"]
StrOpName = Literal["starts_with", "ends_with", "contains"]
DatePartName = Literal["year", "month", "day"]
TimeUnit = Literal[
    "millisecond",
    "second",
    "minute",
    "hour",
    "day",
    "week",
    "month",
    "year",
    "decade",
    "century",
    "millennium",
]
ArithName = Literal["add", "sub", "mul", "div"]
OccursForm = Literal[
    "before", "on", "after", "between", "last", "this", "next", "eq", "ne", "lt", "le", "gt", "ge"
]


class Lit(msgspec.Struct, frozen=True, tag="lit", tag_field="t"):
    """A typed literal. ``value`` holds str for string/datetime/date/semver/version (ISO / text
    forms, normalised by the parser), int|float for number (integral floats become int), bool for
    bool and None for null."""

    kind: LitKind
    value: str | int | float | bool | None


class Cmp(msgspec.Struct, frozen=True, tag="cmp", tag_field="t"):
    """``path <op> value``; ``ne`` is "present and different" (an atom: false when missing)."""

    op: CmpOp
    path: Path
    value: Lit
    ci: bool = False


class In(msgspec.Struct, frozen=True, tag="in", tag_field="t"):
    """The attribute equals one of ``values`` (all of one kind). Empty ``values`` never matches."""

    path: Path
    values: tuple[Lit, ...]
    ci: bool = False


class StrOp(msgspec.Struct, frozen=True, tag="str", tag_field="t"):
    """A string test against any of ``values`` (Unleash STR_* take several; PQL/OData take one)."""

    op: StrOpName
    path: Path
    values: tuple[str, ...]
    ci: bool = False


class Like(msgspec.Struct, frozen=True, tag="like", tag_field="t"):
    """SQL-style pattern over the whole string: ``%`` any run, ``_`` one character."""

    path: Path
    pattern: str
    ci: bool = False


class Regex(msgspec.Struct, frozen=True, tag="regex", tag_field="t"):
    """Regular expression (the RE2-compatible subset) *searched* anywhere in the string."""

    path: Path
    pattern: str
    ci: bool = False


class Exists(msgspec.Struct, frozen=True, tag="exists", tag_field="t"):
    """The attribute is present and not null."""

    path: Path


class Count(msgspec.Struct, frozen=True, tag="count", tag_field="t"):
    """``number of values at path <op> value`` (PQL ``.count()`` / ``.distinct().count()``).

    The values are those an atom at ``path`` tests (lists opened one level; a scalar is one
    value; null elements are not values). Like every atom it is false when nothing non-null is
    at ``path``, so an empty list counts 0 but a missing attribute has no count. ``distinct``
    counts values equal as JSON once (numbers by value, objects whatever their key order).
    ``value`` is a ``number`` literal."""

    op: CmpOp
    path: Path
    value: Lit
    distinct: bool = False


class CmpAttr(msgspec.Struct, frozen=True, tag="cmpattr", tag_field="t"):
    """``left <op> right``: two attributes of the same node (PQL
    ``homeAddress.stateProvince = workAddress.stateProvince``). True when some value at
    ``left`` and some value at ``right`` (lists opened one level, as every atom opens them) are
    scalars of one JSON type in that relation: numbers by value, strings in code point order,
    booleans by equality only. Values of different types, objects and lists are never in any
    relation, so ``ne`` too is false for them (PQL's typed attributes cannot be compared)."""

    op: CmpOp
    left: Path
    right: Path


class Mod(msgspec.Struct, frozen=True, tag="mod", tag_field="t"):
    """``value at path % divisor <op> value`` (PQL ``person.age % 5 = 0``): the remainder of an
    integral number (``|n| < 2**53``, so every backend computes it exactly) divided by the
    integer ``divisor`` (not 0), with the sign of the dividend (Java's ``%``); false for a value
    that is no such number. ``value`` is a ``number`` literal."""

    path: Path
    divisor: int
    op: CmpOp
    value: Lit


class Arith(msgspec.Struct, frozen=True, tag="arith", tag_field="t"):
    """``left <fn> right <op> value`` (PQL ``product1.price + product2.price > 100``,
    ``totalProduct.price / totalProduct.sold < 10``): each side is a path or a number, at least
    one a path. A path's operand is the one value reached through objects only (no list is
    opened: PQL's arithmetic takes single numbers), a number as a ``number`` literal reads it
    (numeric strings too). The IEEE double result (``kinds.arith``) compared with ``value``;
    false where an operand is no such number, on a division by zero, and where the result
    overflows or underflows to 0 (no result: never a guess). ``value`` is a ``number``
    literal."""

    fn: ArithName
    left: Path | int | float
    right: Path | int | float
    op: CmpOp
    value: Lit


class DatePart(msgspec.Struct, frozen=True, tag="datepart", tag_field="t"):
    """``part of the value at path <op> value`` (PQL ``.getYear()``, ``.getMonth()`` 1-12,
    ``.getDayOfMonth()``): the part of the UTC calendar day of a ``datetime`` value (see
    ``core.expr.kinds``), compared as a number; false for a value that is no instant.
    ``value`` is a ``number`` literal."""

    part: DatePartName
    op: CmpOp
    path: Path
    value: Lit


class Occurs(msgspec.Struct, frozen=True, tag="occurs", tag_field="t"):
    """PQL ``occurs`` relative to the clock: the value at ``path`` is an instant (as for a
    ``datetime`` literal) in a period decided by the request's one instant (``core.clock``).
    The forms, as written (``core.expr.relative`` gives each its bounds, in UTC):

    * ``before`` / ``on`` / ``after`` ``at``: ``p occurs before today``; ``at`` is ``now``,
      ``today``, ``yesterday`` or ``tomorrow`` (a day word is that UTC day, ``now`` the instant);
    * ``between`` ``at`` and ``until``: each a word as above or an ISO day (``2015-01-08``),
      both ends included (not both days: that form is two ``Cmp`` of ``date`` literals);
    * ``last`` / ``this`` / ``next`` ``unit``: the calendar period before, holding, after now;
    * a comparison (``eq`` …) ``n`` ``unit`` ``before``/``after`` (``after=True``) ``at``
      (``now`` or ``today``): ``p occurs = 3 days before today``.
    """

    path: Path
    form: OccursForm
    at: str = "today"
    until: str = ""
    n: int = 0
    unit: TimeUnit = "day"
    after: bool = False


class NowPart(msgspec.Struct, frozen=True, tag="nowpart", tag_field="t"):
    """``number at path <op> part of the clock's UTC day`` (PQL ``currentYear()``,
    ``currentMonth()`` 1-12, ``currentDayOfMonth()``): true when some value at ``path`` is a
    number (as a ``number`` literal compares) in that relation."""

    part: DatePartName
    op: CmpOp
    path: Path


class SegmentRef(msgspec.Struct, frozen=True, tag="segment", tag_field="t"):
    """Membership of another segment (Confidence ``segment`` criteria); resolved at evaluation."""

    ref: str


class And(msgspec.Struct, frozen=True, tag="and", tag_field="t"):
    args: tuple[Expr, ...]


class Or(msgspec.Struct, frozen=True, tag="or", tag_field="t"):
    args: tuple[Expr, ...]


class Not(msgspec.Struct, frozen=True, tag="not", tag_field="t"):
    arg: Expr


class Quant(msgspec.Struct, frozen=True, tag="quant", tag_field="t"):
    """``any``/``all`` elements of the list at ``path`` satisfy ``cond``. ``all`` over a missing,
    null or empty list is true; ``any`` is false (Confidence's spec)."""

    q: Literal["any", "all"]
    path: Path
    cond: Expr


Expr: TypeAlias = (
    Cmp
    | In
    | StrOp
    | Like
    | Regex
    | Exists
    | Count
    | CmpAttr
    | Mod
    | Arith
    | DatePart
    | Occurs
    | NowPart
    | SegmentRef
    | And
    | Or
    | Not
    | Quant
)
"""Any node. A segment's condition is ``Expr | None``; None matches everyone."""

ATOMS: tuple[type, ...] = (
    Cmp,
    In,
    StrOp,
    Like,
    Regex,
    Exists,
    Count,
    CmpAttr,
    Mod,
    Arith,
    DatePart,
    Occurs,
    NowPart,
    SegmentRef,
)

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Expr)


def encode(expr: Expr) -> bytes:
    """Canonical JSON bytes of a node (stable: struct fields encode in declaration order)."""
    return _encoder.encode(expr)


def decode(data: bytes | str) -> Expr:
    """Parse the JSON produced by :func:`encode`."""
    return _decoder.decode(data)
