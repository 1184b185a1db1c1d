"""The dialect-neutral half of the SQL compiler (``core.expr.sql``).

Both dialects compile the same boolean structure (``And``/``Or``/``Not``/``Exists``/``Quant``
and the dispatch from an atom to its test) and refuse the same nodes; only how a path is walked
and how one value is tested differ. That shared skeleton lives here so ``sql_postgres`` and
``sql_sqlite`` hold nothing but their own spelling, and neither imports the other.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any

from core.errors import NotExpressible
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
    Or,
    Path,
    Quant,
    Regex,
    SegmentRef,
    StrOp,
)
from core.expr.kinds import lit_key
from core.expr.refs import ref_slug
from core.expr.sql_refs import MAX_INLINED, Condition, NoMatch, SqlRefs, StoredMembers

LANGUAGE = "sql"
SQL_OPS = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
LEAF = "\x01LEAF\x01"
"""Stand-in for the value expression in a test template (never part of a real SQL text)."""


def refuse(reason: str) -> NotExpressible:
    return NotExpressible(LANGUAGE, reason)


class SqlCompiler(abc.ABC):
    """What both dialects share: the boolean structure and dispatch; the parts they spell
    differently are the abstract methods (a test is SQL for one value, given its node)."""

    false = "FALSE"
    true = "TRUE"

    def __init__(self, refs: SqlRefs | None = None) -> None:
        self.params: list[object] = []
        self._aliases = 0
        self.refs = refs
        self.top: Any = None
        """The individual's root node: a reference is asked about the whole individual."""
        self._active: list[str] = [] if refs is None or refs.own is None else [refs.own]
        self._inlined = 0

    def alias(self, prefix: str) -> str:
        self._aliases += 1
        return f"{prefix}{self._aliases}"

    def pred(self, expr: Expr, root: Any) -> str:
        if isinstance(expr, And | Or):
            glue = " AND " if isinstance(expr, And) else " OR "
            return balanced([self.pred(a, root) for a in expr.args], glue)
        if isinstance(expr, Not):
            return f"(NOT {self.pred(expr.arg, root)})"
        if isinstance(expr, Exists):
            return self.exists(root, expr.path)
        if isinstance(expr, Quant):
            return self.quant(root, expr)
        if isinstance(expr, CmpAttr):
            return self.cmp_attr(root, expr)
        if isinstance(expr, Arith):
            expected = literal_key(expr.value, False) if expr.value.kind == "number" else None
            return self.false if expected is None else self.arith(root, expr, expected)
        if isinstance(expr, Count):
            expected = literal_key(expr.value, False) if expr.value.kind == "number" else None
            if expected is None:
                return self.false
            return self.count(root, expr, SQL_OPS[expr.op], expected)
        if isinstance(expr, SegmentRef):
            return self.segment_ref(expr.ref)
        test = self.test(expr)
        if test is None:
            return self.false
        assert isinstance(expr, Cmp | In | StrOp | Like | Regex | DatePart | Mod)
        return self.atom(root, expr.path, test)

    def segment_ref(self, ref: str) -> str:
        """The named segment's membership over the same individual (``core.expr.sql_refs``)."""
        if self.refs is None or self.top is None:
            raise refuse("segment membership is resolved outside the profile's attributes")
        slug = ref_slug(ref)
        if slug in self._active:
            return self.false  # a cycle never matches (the evaluator's rule)
        meaning = self.refs.resolve(slug)
        if isinstance(meaning, NoMatch):
            return self.false
        if isinstance(meaning, StoredMembers):
            return self.stored_member(self.refs.row, meaning.segment_id)
        assert isinstance(meaning, Condition)
        if meaning.expr is None:
            return self.true
        self._inlined += 1
        if self._inlined > MAX_INLINED:
            raise refuse(
                f"segment membership: the segments it names, followed, hold more than "
                f"{MAX_INLINED} conditions"
            )
        self._active.append(slug)
        try:
            return self.pred(meaning.expr, self.top)
        finally:
            self._active.pop()

    def stored_member(self, row: str, segment_id: str) -> str:
        """True where the individual of ``row`` is a stored member of the segment: the same
        individual (its sandbox and identifier), as ``memberships`` keeps it."""
        m = self.alias("sm")
        return (
            f"EXISTS (SELECT 1 FROM memberships {m} WHERE {m}.tenant = {row}.tenant AND "
            f"{m}.segment_id = {self.id_param(segment_id)} AND {m}.profile = {row}.identifier "
            f"AND {m}.sandbox = {row}.sandbox)"
        )

    @abc.abstractmethod
    def id_param(self, value: str) -> str:
        """A text parameter."""

    def test(self, expr: Expr) -> Callable[[Any], str] | None:
        if isinstance(expr, Cmp):
            return self.cmp(expr)
        if isinstance(expr, In):
            return self.in_(expr)
        if isinstance(expr, StrOp):
            return self.strop(expr) if expr.values else None
        if isinstance(expr, Like):
            return self.like(expr)
        if isinstance(expr, Regex):
            return self.regex(expr)
        if isinstance(expr, DatePart):
            expected = literal_key(expr.value, False) if expr.value.kind == "number" else None
            return None if expected is None else self.datepart(expr, SQL_OPS[expr.op], expected)
        if isinstance(expr, Mod):
            expected = literal_key(expr.value, False) if expr.value.kind == "number" else None
            if expected is None or expr.divisor == 0:
                return None
            return self.mod(expr, SQL_OPS[expr.op], expected)
        raise TypeError(f"not a condition node: {expr!r}")

    # dialect parts
    @abc.abstractmethod
    def exists(self, root: Any, path: Path) -> str:
        """SQL that is true where some non-null value is at ``path`` under ``root``."""

    @abc.abstractmethod
    def quant(self, root: Any, q: Quant) -> str:
        """SQL that is true where ``q.cond`` holds for any/all elements at ``q.path``."""

    @abc.abstractmethod
    def count(self, root: Any, e: Count, op: str, expected: float) -> str:
        """SQL that is true where the number of values at ``e.path`` (``Count``) ``op``
        ``expected``; false where nothing non-null is there."""

    @abc.abstractmethod
    def cmp_attr(self, root: Any, e: CmpAttr) -> str:
        """SQL that is true where some value at ``e.left`` is ``e.op`` some value at
        ``e.right`` (``evaluate.attrs_relate``)."""

    @abc.abstractmethod
    def arith(self, root: Any, e: Arith, expected: float) -> str:
        """SQL true where ``e``'s result (``kinds.arith`` of ``kinds.strict_number`` operands)
        is ``e.op`` ``expected``."""

    @abc.abstractmethod
    def mod(self, e: Mod, op: str, expected: float) -> Callable[[Any], str]:
        """The test comparing a value's remainder (``kinds.remainder``) with ``expected``."""

    @abc.abstractmethod
    def datepart(self, e: DatePart, op: str, expected: float) -> Callable[[Any], str]:
        """The test comparing a value's ``e.part`` (``kinds.date_part``) with ``expected``."""

    @abc.abstractmethod
    def atom(self, root: Any, path: Path, test: Callable[[Any], str]) -> str:
        """SQL that is true where ``test`` (SQL for one value) holds for a value at ``path``."""

    @abc.abstractmethod
    def cmp(self, e: Cmp) -> Callable[[Any], str] | None:
        """The test comparing a value's kind key with the literal's; None if none can match."""

    @abc.abstractmethod
    def in_(self, e: In) -> Callable[[Any], str] | None:
        """The test for a value's key being one of ``e.values``; None if none can match."""

    @abc.abstractmethod
    def strop(self, e: StrOp) -> Callable[[Any], str]:
        """The test for a string value passing ``e.op`` against any of ``e.values``."""

    @abc.abstractmethod
    def like(self, e: Like) -> Callable[[Any], str]:
        """The test for a string value matching the LIKE pattern ``e.pattern`` whole."""

    @abc.abstractmethod
    def regex(self, e: Regex) -> Callable[[Any], str] | None:
        """The test searching ``e.pattern`` in a string value; None if the pattern is invalid."""


_FLAT = 8


def balanced(parts: list[str], glue: str) -> str:
    """``parts`` joined by ``glue`` (AND or OR), parenthesised as a balanced tree: a flat chain
    of n terms is an expression tree n deep to the database's parser (SQLite refuses one
    deeper than 1,000), a balanced one about log2(n)."""
    if len(parts) <= _FLAT:
        return "(" + glue.join(parts) + ")"
    half = len(parts) // 2
    return "(" + balanced(parts[:half], glue) + glue + balanced(parts[half:], glue) + ")"


def bool_order(kind: str, op: str) -> bool:
    """Booleans have equality only (Confidence's resolver; docs/dialects/confidence.md): an
    ordering is always false."""
    return kind == "bool" and op not in ("eq", "ne")


def literal_key(lit: Lit, ci: bool) -> Any:
    key = lit_key(lit, ci and lit.kind == "string")
    if lit.kind == "bool" and key is not None:
        return bool(key)
    return key
