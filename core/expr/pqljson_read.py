"""pql/json nodes → the AST: PQL's rules, the limits, and refusals of what segmux leaves out.

``NodeReader`` serves both PQL forms: ``parse_pqljson`` runs it on decoded JSON and
``core.expr.pql`` runs it on the nodes its text parser builds (passing the text offsets, so that
errors point into the text). One reader means text and JSON accept and refuse the same
conditions with the same messages. The mapping it implements is documented in
``core.expr.pqljson``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

from core.errors import Invalid, LimitExceeded
from core.expr import re2
from core.expr.ast import (
    And,
    Arith,
    Cmp,
    CmpAttr,
    CmpOp,
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
    Or,
    Path,
    Quant,
    Regex,
    SegmentRef,
    StrOp,
)
from core.expr.limits import Limits
from core.expr.pqljson_nodes import (
    FIELD,
    LITERAL_TYPES,
    NOBODY,
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
    ARITH_FNS,
    ARRAY_FNS,
    CMP_FNS,
    DATE_PARTS,
    NEGATED_STR_FNS,
    NOW_PARTS,
    STR_FNS,
    VALUE_FNS,
    describe_function,
    refused,
)
from core.expr.relative import read_occurs_tail

__all__ = ["NodeReader"]


class NodeReader:
    """Turns a node tree into the AST, checking PQL's rules and the limits.

    ``positions`` maps ``id(node)`` to a character offset when the nodes came from PQL text,
    so errors point into the text; for pql/json errors name the JSON location instead.
    """

    def __init__(self, limits: Limits, positions: dict[int, int] | None = None) -> None:
        self.limits = limits
        self.positions = positions

    # -- errors

    def _where(self, node: Node, loc: str) -> tuple[str, int | None]:
        if self.positions is None:
            return f"at {loc}", None
        pos = self.positions.get(id(node))
        return (f"position {pos}" if pos is not None else "in the expression"), pos

    def fail(self, node: Node, loc: str, reason: str) -> NoReturn:
        where, pos = self._where(node, loc)
        raise Invalid(FIELD, f"{reason} ({where})", pos)

    def refuse(self, node: Node, loc: str, construct: str) -> NoReturn:
        where, pos = self._where(node, loc)
        raise Invalid(FIELD, refused(construct, where), pos)

    # -- conditions

    def root(self, node: Node) -> Expr:
        """The whole condition (``true``, everyone, is handled by the caller)."""
        if node == NOBODY:
            self.refuse(node, "$", "false alone (a condition no profile matches)")
        return self.condition(node)

    def condition(self, node: Node, loc: str = "$", level: int = 1, depth: int = 1) -> Expr:
        """``level`` is the parameter position paths must start from (1 = the profile)."""
        if depth > self.limits.max_depth:
            where, pos = self._where(node, loc)
            raise LimitExceeded(
                FIELD,
                f"the condition nests deeper than {self.limits.max_depth} levels ({where})",
                pos,
            )
        if isinstance(node, Literal):
            if node.literalType == "Boolean":
                self.fail(node, loc, "true/false can only stand alone as the whole condition")
            self.fail(node, loc, "a literal alone is not a condition")
        if not isinstance(node, FnApply) or _is_path(node):
            self.fail(node, loc, "an attribute alone is not a condition; compare it with a value")
        handler = _HANDLERS.get(node.fnName)
        if node.fnName in VALUE_FNS:
            self.fail(node, loc, f"{node.fnName}() is a value, not a condition: compare it")
        if handler is None:
            self.refuse(node, loc, describe_function(node.fnName, method=False))
        return handler(self, node, loc, level, depth)

    def _logical(self, node: FnApply, loc: str, level: int, depth: int) -> Expr:
        if not node.params:
            self.fail(node, loc, f"{node.fnName} needs at least one condition")
        kind = And if node.fnName == "and" else Or
        args: list[Expr] = []
        for i, param in enumerate(node.params):
            arg = self.condition(param, f"{loc}.params[{i}]", level, depth + 1)
            # Flat n-ary form: `a and (b and c)` is the same condition as `a and b and c`.
            args.extend(arg.args if isinstance(arg, kind) else (arg,))
        if len(args) == 1:
            return args[0]
        return And(tuple(args)) if kind is And else Or(tuple(args))

    def _occurs(self, node: FnApply, loc: str, level: int, depth: int) -> Expr:
        """``a occurs last week``: segmux's pql/json holds the words after ``occurs`` as a
        string, ``{"fnName": "occurs", "params": [a, "last week"]}`` (``core.expr.relative``)."""
        target, tail = self._params(node, loc, 2)
        path = self.path(target, f"{loc}.params[0]", level)
        if not isinstance(tail, Literal) or not isinstance(tail.value, str):
            self.fail(node, f"{loc}.params[1]", "occurs takes its time as a string")
        try:
            return read_occurs_tail(path, tail.value)
        except ValueError as exc:
            self.fail(node, loc, str(exc))

    def _not(self, node: FnApply, loc: str, level: int, depth: int) -> Expr:
        (param,) = self._params(node, loc, 1)
        return Not(self.condition(param, f"{loc}.params[0]", level, depth + 1))

    def _compare(self, node: FnApply, loc: str, level: int, depth: int) -> Expr:
        left, right = self._params(node, loc, 2)
        op = CMP_FNS[node.fnName]
        if _is_path(left) and _is_path(right):
            return CmpAttr(
                op,
                self.path(left, f"{loc}.params[0]", level),
                self.path(right, f"{loc}.params[1]", level),
            )
        if isinstance(left, FnApply) and left.fnName in NOW_PARTS and not left.params:
            left, right = right, left  # `currentMonth() = a` reads as `a = currentMonth()`
            op = _MIRRORED[op]
        if isinstance(right, FnApply) and right.fnName in NOW_PARTS:
            if right.params:
                self.fail(right, f"{loc}.params[1]", f"{right.fnName}() takes no arguments")
            return NowPart(NOW_PARTS[right.fnName], op, self.path(left, f"{loc}.params[0]", level))
        if isinstance(left, Literal):
            if isinstance(right, Literal):
                self.fail(node, loc, "a comparison needs an attribute on one side")
            left, right = right, left  # `"US" = a` reads as `a = "US"`, the operator mirrored
            op = _MIRRORED[op]
        if isinstance(left, FnApply) and left.fnName in VALUE_FNS:
            return self._value_compare(node, left, op, right, loc, level)
        if isinstance(left, FnApply) and not _is_path(left):
            self._not_a_value(left, f"{loc}.params[0]")
        if isinstance(right, FnApply) and not _is_path(right):
            self._not_a_value(right, f"{loc}.params[1]")
        path = self.path(left, f"{loc}.params[0]", level)
        return Cmp(op, path, self.scalar(right, f"{loc}.params[1]"))

    def _value_compare(
        self, node: FnApply, left: FnApply, op: CmpOp, right: Node, loc: str, level: int
    ) -> Expr:
        """A comparison whose left side is a function's value: ``.count()``,
        ``.distinct().count()``, ``.intersection([…])``."""
        where = f"{loc}.params[0]"
        if not isinstance(right, Literal):
            self.refuse(node, loc, f"comparing {left.fnName}() with an attribute or a function")
        if left.fnName == "distinct":
            self.fail(left, where, "distinct() is a list: compare its .count()")
        if left.fnName == "intersection":
            return self._intersection(left, op, right, where, level)
        if left.fnName == "%":
            return self._mod(left, op, right, loc, level)
        if left.fnName in ARITH_FNS:
            return self._arith(left, op, right, loc, level)
        if left.fnName in DATE_PARTS:
            (target,) = self._params(left, where, 1)
            path = self.path(target, f"{where}.params[0]", level)
            value = self.scalar(right, f"{loc}.params[1]")
            if value.kind != "number":
                self.fail(right, f"{loc}.params[1]", f"{left.fnName}() is compared with a number")
            return DatePart(DATE_PARTS[left.fnName], op, path, value)
        (target,) = self._params(left, where, 1)
        distinct = isinstance(target, FnApply) and target.fnName == "distinct"
        if isinstance(target, FnApply):
            if not distinct:
                self.refuse(target, where, describe_function(target.fnName, method=False))
            (target,) = self._params(target, f"{where}.params[0]", 1)
        path = self.path(target, f"{where}.params[0]", level)
        value = self.scalar(right, f"{loc}.params[1]")
        if value.kind != "number":
            self.fail(right, f"{loc}.params[1]", "count() is compared with a number")
        return Count(op, path, value, distinct)

    def _mod(self, call: FnApply, op: CmpOp, right: Literal, loc: str, level: int) -> Expr:
        """``a % n <op> m``: the remainder of a whole number by a whole number ``n`` (not 0)."""
        target, divisor = self._params(call, f"{loc}.params[0]", 2)
        path = self.path(target, f"{loc}.params[0].params[0]", level)
        n = divisor.value if isinstance(divisor, Literal) else None
        if divisor is None or not isinstance(n, int) or isinstance(n, bool) or n == 0:
            self.fail(divisor, loc, "% divides by a whole number other than 0")
        if abs(n) >= 2**53:
            self.fail(divisor, loc, "% divides by a whole number below 2^53")
        value = self.scalar(right, f"{loc}.params[1]")
        if value.kind != "number":
            self.fail(right, f"{loc}.params[1]", "a remainder is compared with a number")
        return Mod(path, n, op, value)

    def _arith(self, call: FnApply, op: CmpOp, right: Literal, loc: str, level: int) -> Expr:
        """``a + b <op> n``: each side an attribute or a number, at least one an attribute."""
        where = f"{loc}.params[0]"
        sides: list[Path | int | float] = []
        for i, side in enumerate(self._params(call, where, 2)):
            if isinstance(side, Literal):
                number = side.value
                if side.literalType not in ("Integer", "Double") or isinstance(number, bool):
                    self.fail(side, f"{where}.params[{i}]", "arithmetic takes numbers")
                assert isinstance(number, int | float)
                sides.append(number)
            else:
                sides.append(self.path(side, f"{where}.params[{i}]", level))
        if not any(isinstance(side, tuple) for side in sides):
            self.fail(call, where, "arithmetic needs an attribute on one side")
        value = self.scalar(right, f"{loc}.params[1]")
        if value.kind != "number":
            self.fail(
                right,
                f"{loc}.params[1]",
                "a sum, difference, product or quotient is compared with a number",
            )
        return Arith(ARITH_FNS[call.fnName], sides[0], sides[1], op, value)

    def _intersection(self, call: FnApply, op: CmpOp, right: Literal, loc: str, level: int) -> Expr:
        """``a.intersection(L) = R``: the values of ``a`` that are in ``L`` are exactly those
        of ``R``, compared as sets. So ``a`` holds every value of ``R`` and none of ``L``'s
        others; ``!=`` is its negation, false (as every PQL comparison) where ``a`` is null."""
        target, listed = self._params(call, loc, 2)
        if _is_path(listed):
            self.refuse(call, loc, "intersection() of two attributes (comparing two attributes)")
        if op not in ("eq", "ne"):
            self.fail(call, loc, "a list (intersection()) is compared with = or != only")
        path = self.path(target, f"{loc}.params[0]", level)
        within = self.array(listed, f"{loc}.params[1]")
        result = self.array(right, f"{loc}.params[1]")
        if within and result and within[0].kind != result[0].kind:
            self.fail(right, loc, "the two lists of intersection() = […] hold different types")
        outside = [lit for lit in result if lit not in within]
        if outside:
            self.fail(
                right, loc, f"never true: {outside[0].value!r} is not in the intersected list"
            )
        others = tuple(lit for lit in within if lit not in result)
        parts: list[Expr] = [Exists(path), *(Cmp("eq", path, lit) for lit in dict.fromkeys(result))]
        if others:
            parts.append(Not(In(path, others)))
        equal = And(tuple(parts))
        return equal if op == "eq" else And((Exists(path), Not(equal)))

    def _array_fn(self, node: FnApply, loc: str, level: int, depth: int) -> Expr:
        """``a.includes(v)``, ``a.intersects(L)``, ``a.supersetOf(L)``, ``a.subsetOf(L)``
        over the values of ``a`` (a list, or a scalar as a one-value list)."""
        target, arg = self._params(node, loc, 2)
        fn = node.fnName
        path = self.path(target, f"{loc}.params[0]", level)
        if _is_path(arg) or isinstance(arg, FnApply):
            self.refuse(node, loc, f"{fn}() of another attribute (comparing two attributes)")
        if fn == "includes":
            if isinstance(arg, Literal) and arg.literalType == "Array":
                self.fail(
                    arg,
                    f"{loc}.params[1]",
                    "includes() takes one value; for several "
                    "use supersetOf([…]) (all of them) or intersects([…]) (any)",
                )
            return Cmp("eq", path, self.scalar(arg, f"{loc}.params[1]"))
        lits = self.array(arg, f"{loc}.params[1]")
        if fn == "intersects":
            return In(path, lits)
        if fn == "supersetOf":
            if not lits:
                return Exists(path)  # every list holds the empty set; a missing one is null
            wanted = [Cmp("eq", path, lit) for lit in dict.fromkeys(lits)]
            return wanted[0] if len(wanted) == 1 else And(tuple(wanted))
        # subsetOf: present, and every value is one of the list's
        return And((Exists(path), Quant("all", path, In((), lits))))

    def _not_a_value(self, node: FnApply, loc: str) -> NoReturn:
        if node.fnName in VALUE_FNS:
            self.refuse(node, loc, f"comparing an attribute with {node.fnName}()")
        if node.fnName not in _HANDLERS:
            self.refuse(node, loc, describe_function(node.fnName, method=False))
        self.fail(node, loc, f"{node.fnName} is a condition, not a value to compare")

    def _in(self, node: FnApply, loc: str, level: int, depth: int) -> Expr:
        target, values = self._params(node, loc, 2)
        if isinstance(target, FnApply) and target.fnName in DATE_PARTS and node.fnName == "in":
            # `a.getYear() in [1991, 1992]`: any of the equalities
            (inner,) = self._params(target, f"{loc}.params[0]", 1)
            path = self.path(inner, f"{loc}.params[0].params[0]", level)
            lits = self.array(values, f"{loc}.params[1]")
            if not lits or lits[0].kind != "number":
                self.fail(values, f"{loc}.params[1]", f"{target.fnName}() is in a list of numbers")
            part = DATE_PARTS[target.fnName]
            parts = [DatePart(part, "eq", path, lit) for lit in lits]
            return parts[0] if len(parts) == 1 else Or(tuple(parts))
        path = self.path(target, f"{loc}.params[0]", level)
        lits = self.array(values, f"{loc}.params[1]")
        if node.fnName == "in":
            return In(path, lits)
        return And((Exists(path), Not(In(path, lits))))

    def _like(self, node: FnApply, loc: str, level: int, depth: int) -> Expr:
        target, pattern = self._params(node, loc, 2)
        return Like(self.path(target, f"{loc}.params[0]", level), self.string(pattern, loc, 1))

    def _matches(self, node: FnApply, loc: str, level: int, depth: int) -> Expr:
        target, pattern = self._params(node, loc, 2)
        text = self.string(pattern, loc, 1)
        problem = re2.problem(text)  # RE2 is what the evaluator and the SQL compiler run
        if problem is not None:
            reason = f"matches() needs an RE2 regular expression: {problem} in the pattern"
            self.fail(pattern, f"{loc}.params[1]", reason)
        return Regex(self.path(target, f"{loc}.params[0]", level), text)

    def _string_fn(self, node: FnApply, loc: str, level: int, depth: int) -> Expr:
        params = node.params
        if len(params) not in (2, 3):
            self.fail(node, loc, f"{node.fnName}() takes a string and an optional true/false")
        path = self.path(params[0], f"{loc}.params[0]", level)
        text = self.string(params[1], loc, 1)
        ci = len(params) == 3 and not self.boolean(params[2], f"{loc}.params[2]")
        fn = node.fnName
        if fn in STR_FNS:
            return StrOp(STR_FNS[fn], path, (text,), ci)
        if fn in NEGATED_STR_FNS:
            return And((Exists(path), Not(StrOp(NEGATED_STR_FNS[fn], path, (text,), ci))))
        return Cmp("eq" if fn == "equals" else "ne", path, Lit("string", text), ci)

    def _null_test(self, node: FnApply, loc: str, level: int, depth: int) -> Expr:
        (target,) = self._params(node, loc, 1)
        path = self.path(target, f"{loc}.params[0]", level)
        return Exists(path) if node.fnName == "isNotNull" else Not(Exists(path))

    def _segment(self, node: FnApply, loc: str, level: int, depth: int) -> Expr:
        """``inSegment("<id>")``: the profile's membership of another segment; which segment the
        string names is resolved when the condition is stored (``core.segment_links``)."""
        (ref,) = self._params(node, loc, 1)
        if level != 1:
            # A segment's members are profiles, not the elements of one of their arrays.
            self.refuse(node, loc, "inSegment() inside exists/forall")
        name = self.string(ref, loc, 0)
        if not name:
            self.fail(node, loc, "inSegment() needs a segment id")
        return SegmentRef(name)

    def _quant(self, node: FnApply, loc: str, level: int, depth: int) -> Expr:
        target, cond = self._params(node, loc, 2)
        path = self.path(target, f"{loc}.params[0]", level)
        body = self.condition(cond, f"{loc}.params[1]", level + 1, depth + 1)
        return Quant("any" if node.fnName == "exists" else "all", path, body)

    # -- operands

    def _params(self, node: FnApply, loc: str, count: int) -> list[Node]:
        if len(node.params) != count:
            self.fail(node, loc, f"{node.fnName} takes {count} operand(s), got {len(node.params)}")
        return node.params

    def path(self, node: Node, loc: str, level: int) -> Path:
        steps: list[str] = []
        current = node
        while True:  # iterative: paths can be long
            if isinstance(current, FieldLookup):
                steps.append(current.fieldName)
                current = current.object
            elif (key := _map_key(current)) is not None:
                assert isinstance(current, FnApply)
                steps.append(key)  # `map.get("key")`: map access is one more step
                current = current.params[0]
            else:
                break
        if not isinstance(current, ParameterReference):
            if isinstance(current, Literal) and current is node:
                self.fail(node, loc, "expected an attribute, got a literal")
            self.fail(node, loc, "expected an attribute (fieldLookup on a parameterReference)")
        if current.position != level:
            if level == 1:
                self.fail(node, loc, f"${current.position} is not a parameter; $1 is the profile")
            self.fail(
                node, loc, "inside exists/forall a path must start at the quantifier's variable"
            )
        if not steps and level == 1:
            self.fail(node, loc, "$1 is the profile itself; name one of its attributes")
        return tuple(reversed(steps))

    def scalar(self, node: Node, loc: str) -> Lit:
        if not isinstance(node, Literal):
            self.fail(node, loc, "expected a literal")
        value, kind = node.value, node.literalType
        if kind == "String" and isinstance(value, str):
            return Lit("string", value)
        if kind == "Boolean" and isinstance(value, bool):
            return Lit("bool", value)
        if kind in ("Integer", "Double") and is_number(value):
            return Lit("number", normal_number(value))
        if kind == "Date" and isinstance(value, str) and valid_date(value):
            return Lit("date", value)
        if kind == "Array":
            self.fail(node, loc, "a list can only follow in / notIn")
        if kind in LITERAL_TYPES:
            self.fail(node, loc, f"{value!r} is not a valid {kind} literal")
        self.fail(node, loc, f"unknown literalType {kind!r}")

    def array(self, node: Node, loc: str) -> tuple[Lit, ...]:
        if not isinstance(node, Literal) or node.literalType != "Array":
            self.fail(node, loc, "in / notIn takes a list of literals")
        items = node.value
        if not isinstance(items, list):
            self.fail(node, loc, "an Array literal's value must be a list of literals")
        if len(items) > self.limits.max_values:
            where, pos = self._where(node, loc)
            raise LimitExceeded(
                FIELD, f"the list has more than {self.limits.max_values} values ({where})", pos
            )
        lits = tuple(self.scalar(item, f"{loc}.value[{i}]") for i, item in enumerate(items))
        if len({lit.kind for lit in lits}) > 1:
            self.fail(node, loc, "the values of a list must all be of one type")
        return lits

    def string(self, node: Node, loc: str, index: int) -> str:
        if (
            isinstance(node, Literal)
            and node.literalType == "String"
            and isinstance(node.value, str)
        ):
            return node.value
        self.fail(node, f"{loc}.params[{index}]", "expected a string literal")

    def boolean(self, node: Node, loc: str) -> bool:
        if (
            isinstance(node, Literal)
            and node.literalType == "Boolean"
            and isinstance(node.value, bool)
        ):
            return node.value
        self.fail(node, loc, "the case-sensitivity flag must be true or false")


_HANDLERS: dict[str, Callable[[NodeReader, FnApply, str, int, int], Expr]] = {
    "occurs": NodeReader._occurs,
    "and": NodeReader._logical,
    "or": NodeReader._logical,
    "not": NodeReader._not,
    **{fn: NodeReader._compare for fn in CMP_FNS},
    "in": NodeReader._in,
    "notIn": NodeReader._in,
    "like": NodeReader._like,
    "matches": NodeReader._matches,
    **{fn: NodeReader._string_fn for fn in (*STR_FNS, *NEGATED_STR_FNS, "equals", "notEqualTo")},
    "isNull": NodeReader._null_test,
    "isNotNull": NodeReader._null_test,
    "inSegment": NodeReader._segment,
    "exists": NodeReader._quant,
    "forall": NodeReader._quant,
    **{fn: NodeReader._array_fn for fn in ARRAY_FNS},
}
"""fnName → the NodeReader method that reads it."""


_MIRRORED: dict[CmpOp, CmpOp] = {
    "eq": "eq",
    "ne": "ne",
    "lt": "gt",
    "le": "ge",
    "gt": "lt",
    "ge": "le",
}


def _map_key(node: Node) -> str | None:
    """The key of ``map.get("key")`` (a non-empty string), else None."""
    if not isinstance(node, FnApply) or node.fnName != "get" or len(node.params) != 2:
        return None
    key = node.params[1]
    if isinstance(key, Literal) and isinstance(key.value, str) and key.value:
        return key.value
    return None


def _is_path(node: Node) -> bool:
    return isinstance(node, FieldLookup | ParameterReference) or _map_key(node) is not None
