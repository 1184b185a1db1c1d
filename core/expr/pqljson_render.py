"""The AST → pql/json nodes: the one lowering both PQL forms are rendered from.

``render_pqljson`` encodes these nodes as JSON and ``core.expr.pql_render`` prints them as text,
so the two forms state every condition the same way and refuse (``NotExpressible``) the same
ones.
Lowering undoes the reader's expansions: ``And(Exists(p), Not(In(p, …)))`` goes back to
``notIn``, and likewise for the ``doesNot…`` functions, so text → AST → text is stable.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NoReturn

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
    NowPart,
    Occurs,
    Or,
    Path,
    Quant,
    Regex,
    SegmentRef,
    StrOp,
)
from core.expr.pqljson_nodes import (
    EVERYONE,
    FieldLookup,
    FnApply,
    Literal,
    Node,
    ParameterReference,
    is_number,
    normal_number,
    valid_date,
)
from core.expr.pqljson_vocab import (
    ARITH_SYMBOLS,
    CMP_SYMBOLS,
    DATE_PART_FNS,
    NEGATED_STR_FN_NAMES,
    NOW_PART_FNS,
    STR_FN_NAMES,
)
from core.expr.relative import occurs_tail

__all__ = ["lower"]


def lower(expr: Expr | None, language: str) -> Node:
    """The node tree of ``expr``; raises ``NotExpressible(language, …)`` where PQL cannot
    state the condition exactly."""
    if expr is None:
        return EVERYONE
    return _Lowering(language).node(expr, 1)


class _Lowering:
    """One lowering; ``language`` (``pql`` or ``pql/json``) is what ``NotExpressible`` names."""

    def __init__(self, language: str) -> None:
        self.language = language

    def refuse(self, reason: str) -> NoReturn:
        raise NotExpressible(self.language, reason)

    def number(self, value: int | float) -> Literal:
        return Literal("Integer", value) if isinstance(value, int) else Literal("Double", value)

    def node(self, expr: Expr, level: int) -> Node:
        match expr:
            case Cmp():
                return self.cmp(expr, level)
            case In(path=path, values=values, ci=ci):
                if ci:
                    self.refuse("PQL's in has no case-insensitive form")
                return FnApply("in", [self.path(path, level), self.array(values)])
            case StrOp():
                return self.strop(expr, level, negated=False)
            case Like(path=path, pattern=pattern, ci=ci):
                if ci:
                    self.refuse("PQL's like has no case-insensitive form")
                return FnApply("like", [self.path(path, level), Literal("String", pattern)])
            case Regex(path=path, pattern=pattern, ci=ci):
                if ci:
                    # Java's (?i) folds ASCII only; no PQL spelling equals casefold.
                    self.refuse("PQL's matches() has no case-insensitive form equal to casefold")
                return FnApply("matches", [self.path(path, level), Literal("String", pattern)])
            case Exists(path=path):
                return FnApply("isNotNull", [self.path(path, level)])
            case Count(op=op, path=path, value=value, distinct=distinct):
                target = self.path(path, level)
                if distinct:
                    target = FnApply("distinct", [target])
                count = FnApply("count", [target])
                return FnApply(CMP_SYMBOLS[op], [count, self.literal(value)])
            case CmpAttr(op=op, left=left, right=right):
                params = [self.path(left, level), self.path(right, level)]
                return FnApply(CMP_SYMBOLS[op], params)
            case Mod(path=path, divisor=divisor, op=op, value=value):
                rem = FnApply("%", [self.path(path, level), Literal("Integer", divisor)])
                return FnApply(CMP_SYMBOLS[op], [rem, self.literal(value)])
            case Arith():
                sides = [
                    self.path(side, level) if isinstance(side, tuple) else self.number(side)
                    for side in (expr.left, expr.right)
                ]
                call = FnApply(ARITH_SYMBOLS[expr.fn], sides)
                return FnApply(CMP_SYMBOLS[expr.op], [call, self.literal(expr.value)])
            case NowPart(part=part, op=op, path=path):
                now = FnApply(NOW_PART_FNS[part], [])
                return FnApply(CMP_SYMBOLS[op], [self.path(path, level), now])
            case Occurs():
                tail = Literal("String", occurs_tail(expr))
                return FnApply("occurs", [self.path(expr.path, level), tail])
            case DatePart(part=part, op=op, path=path, value=value):
                call = FnApply(DATE_PART_FNS[part], [self.path(path, level)])
                return FnApply(CMP_SYMBOLS[op], [call, self.literal(value)])
            case SegmentRef(ref=ref):
                if level != 1:  # PQL names a profile's segments, not an array element's
                    self.refuse("inSegment() inside exists/forall")
                return FnApply("inSegment", [Literal("String", ref)])
            case And(args=args):
                return self.conjunction(args, level)
            case Or(args=args):
                if not args:
                    self.refuse("an empty or (a condition no profile matches)")
                return FnApply("or", [self.node(arg, level) for arg in args])
            case Not(arg=Exists(path=path)):
                return FnApply("isNull", [self.path(path, level)])
            case Not(arg=arg):
                return FnApply("not", [self.node(arg, level)])
            case Quant(q=q, path=path, cond=cond):
                fn = "exists" if q == "any" else "forall"
                return FnApply(fn, [self.path(path, level), self.node(cond, level + 1)])
        raise TypeError(f"not an AST node: {expr!r}")  # pragma: no cover

    def cmp(self, expr: Cmp, level: int) -> Node:
        path, value = self.path(expr.path, level), self.literal(expr.value)
        if expr.ci and expr.value.kind == "string":
            if expr.op == "eq":
                return FnApply("equals", [path, value, Literal("Boolean", False)])
            if expr.op == "ne":
                return FnApply("notEqualTo", [path, value, Literal("Boolean", False)])
            self.refuse("PQL has no case-insensitive ordering comparison")
        # ci on a non-string kind changes nothing (the contract: only strings fold).
        return FnApply(CMP_SYMBOLS[expr.op], [path, value])

    def strop(self, expr: StrOp, level: int, *, negated: bool) -> Node:
        if not expr.values:
            self.refuse("a string test against no values")
        names = NEGATED_STR_FN_NAMES if negated else STR_FN_NAMES
        path = self.path(expr.path, level)
        calls: list[Node] = []
        for text in expr.values:
            params: list[Node] = [path, Literal("String", text)]
            if expr.ci:
                params.append(Literal("Boolean", False))
            calls.append(FnApply(names[expr.op], params))
        # PQL's string functions take one value; several values mean any of them.
        return calls[0] if len(calls) == 1 else FnApply("or", calls)

    def conjunction(self, args: tuple[Expr, ...], level: int) -> Node:
        if not args:
            self.refuse("an empty and (a condition every profile matches) inside a condition")
        parts = [self.node_or_pair(pair, level) for pair in _pairs(args)]
        return parts[0] if len(parts) == 1 else FnApply("and", parts)

    def node_or_pair(self, pair: tuple[Expr, ...], level: int) -> Node:
        if len(pair) == 1:
            return self.node(pair[0], level)
        negated = pair[1]
        assert isinstance(negated, Not)
        inner = negated.arg
        if isinstance(inner, In):
            return FnApply("notIn", [self.path(inner.path, level), self.array(inner.values)])
        assert isinstance(inner, StrOp)
        return self.strop(inner, level, negated=True)

    def path(self, path: Path, level: int) -> Node:
        if not path and level == 1:
            self.refuse("an empty path (a list element) outside exists/forall")
        node: Node = ParameterReference(level)
        for step in path:
            node = FieldLookup(step, node)
        return node

    def array(self, values: tuple[Lit, ...]) -> Literal:
        if len({lit.kind for lit in values}) > 1:
            self.refuse("a set mixing literal kinds")
        return Literal("Array", [self.literal(lit) for lit in values])

    def literal(self, lit: Lit) -> Literal:
        value = lit.value
        if lit.kind == "string" and isinstance(value, str):
            return Literal("String", value)
        if lit.kind == "bool" and isinstance(value, bool):
            return Literal("Boolean", value)
        if lit.kind == "number" and is_number(value):
            number = normal_number(value)
            return Literal("Integer" if isinstance(number, int) else "Double", number)
        if lit.kind == "date" and isinstance(value, str) and valid_date(value):
            return Literal("Date", value)
        if lit.kind in ("datetime", "semver", "version", "null"):
            self.refuse(f"PQL has no {lit.kind} literal")
        self.refuse(f"{value!r} is not a valid {lit.kind} literal")


def _pairs(args: tuple[Expr, ...]) -> Iterator[tuple[Expr, ...]]:
    """Group ``Exists(p), Not(In(p, …))`` / ``Exists(p), Not(StrOp(p, one value))`` into the
    notIn / doesNot… they came from; everything else stands alone."""
    i = 0
    while i < len(args):
        if i + 1 < len(args) and _is_negated_pair(args[i], args[i + 1]):
            yield args[i], args[i + 1]
            i += 2
        else:
            yield (args[i],)
            i += 1


def _is_negated_pair(first: Expr, second: Expr) -> bool:
    if not isinstance(first, Exists) or not isinstance(second, Not):
        return False
    inner = second.arg
    if isinstance(inner, In):
        return inner.path == first.path and not inner.ci
    if isinstance(inner, StrOp):
        return inner.path == first.path and len(inner.values) == 1
    return False
