"""PQL's JSON form (``pql/json``) and the PQL semantics shared with the text form.

The node tree is PQL's intermediate form in segmux: ``pql.py`` parses text *into these nodes*
and renders text *from them*, so PQL text and pql/json always agree (text → AST → pql/json →
AST gives the same AST).

Node format (the four documented node types; keys are emitted in this order, compact JSON):

======================  ==========================================  ==========================
nodeType                keys                                        meaning
======================  ==========================================  ==========================
``fnApply``             ``nodeType, fnName, params``                operator / function
``fieldLookup``         ``nodeType, fieldName, object``             one path step on ``object``
``parameterReference``  ``nodeType, position``                      ``$1`` = the profile
``literal``             ``nodeType, literalType, value``            a constant
======================  ==========================================  ==========================

Documented (Adobe): ``fnName "="``, ``literalType "String"``, paths nesting outside-in (the last
step is the outermost ``fieldLookup``). Everything else is [project]-defined, named after PQL:

* ``fnName`` — ``and``, ``or`` (n-ary), ``not`` (one param); ``=``, ``!=``, ``<``, ``<=``, ``>``,
  ``>=`` (``[path, literal]``; ``[literal, path]`` is accepted and flipped); ``in``, ``notIn``
  (``[path, Array]``); ``like`` (``[path, String]``); ``startsWith``, ``endsWith``, ``contains``,
  ``doesNotStartWith``, ``doesNotEndWith``, ``doesNotContain``, ``equals``, ``notEqualTo``
  (``[path, String]`` or ``[path, String, Boolean caseSensitive]``; the flag is emitted only
  when false); ``matches`` (``[path, String]``); ``isNull``, ``isNotNull`` (``[path]``);
  ``exists``, ``forall`` (``[path, condition]``).
* ``literalType`` — ``String``, ``Integer``, ``Double``, ``Boolean``, ``Date`` (value
  ``"YYYY-MM-DD"``), ``Array`` (value: a list of literal nodes), after PQL's literal table.
* Quantifiers: inside the condition of the k-th nested ``exists``/``forall`` the list element
  is ``parameterReference`` position ``k + 1`` (``$1`` stays the profile, as PQL numbers its
  parameters); a path there must start at that element.
* A bare ``Boolean true`` literal is the whole condition "everyone" (``None``).

Mapping to the AST (``core.expr.ast``; PQL compares with null as false):

* ``!=`` / ``notEqualTo`` → ``Cmp("ne")`` (present and different); ``equals(s, false)`` →
  ``Cmp("eq", ci=True)``.
* ``notIn`` → ``And(Exists(p), Not(In(p, …)))`` (PQL: notIn is also false for null); the
  ``doesNot*`` functions follow the same rule, ``And(Exists(p), Not(StrOp(…)))``, so every
  PQL string test is false on a missing or null attribute.
* ``matches`` → ``Regex``: the documented example ``name.matches("(?i)^John")`` is described as
  "starts with John", so the pattern is *searched* (Java ``find``), not matched whole; the
  pattern is kept verbatim (an inline ``(?i)`` stays in it) and must be in the RE2 subset the
  evaluator runs (``core.expr.re2``): Java-only syntax (lookaround, back-references,
  possessive quantifiers, ``\\p{…}``) is refused.
* ``like`` → ``Like`` (case-sensitive); ``isNull`` → ``Not(Exists)``; ``isNotNull`` → ``Exists``.

Not expressible (``NotExpressible``): ``datetime`` / ``semver`` / ``version`` / ``null`` literals
(PQL has no exact instant literal), ``SegmentRef``, case-insensitive ``In``/``Like``/``Regex``/
ordering, string tests against no values, and an empty path outside a quantifier.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterator
from typing import NoReturn, TypeAlias

import msgspec

from core.errors import Invalid, LimitExceeded, NotExpressible
from core.expr import re2
from core.expr.ast import (
    And,
    Cmp,
    CmpOp,
    Exists,
    Expr,
    In,
    Like,
    Lit,
    Not,
    Or,
    Path,
    Quant,
    Regex,
    SegmentRef,
    StrOp,
    StrOpName,
)
from core.expr.limits import DEFAULT_LIMITS, Limits

__all__ = [
    "FieldLookup",
    "FnApply",
    "Literal",
    "Node",
    "NodeReader",
    "ParameterReference",
    "describe_function",
    "lower",
    "parse_pqljson",
    "render_pqljson",
]

FIELD = "expression"
"""The request field every PQL error names."""


# --------------------------------------------------------------------------- node types


class FnApply(msgspec.Struct, frozen=True, tag="fnApply", tag_field="nodeType"):
    fnName: str
    params: list[Node]


class FieldLookup(msgspec.Struct, frozen=True, tag="fieldLookup", tag_field="nodeType"):
    fieldName: str
    object: Node


class ParameterReference(
    msgspec.Struct, frozen=True, tag="parameterReference", tag_field="nodeType"
):
    position: int


class Literal(msgspec.Struct, frozen=True, tag="literal", tag_field="nodeType"):
    literalType: str
    value: LiteralValue


LiteralValue: TypeAlias = "str | int | float | bool | list[Literal] | None"
Node: TypeAlias = FnApply | FieldLookup | ParameterReference | Literal

EVERYONE = Literal("Boolean", True)
NOBODY = Literal("Boolean", False)

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Node)


# ------------------------------------------------------------------- vocabulary (shared)

CMP_FNS: dict[str, CmpOp] = {"=": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
CMP_SYMBOLS: dict[CmpOp, str] = {op: sym for sym, op in CMP_FNS.items()}

STR_FNS: dict[str, StrOpName] = {
    "startsWith": "starts_with",
    "endsWith": "ends_with",
    "contains": "contains",
}
NEGATED_STR_FNS: dict[str, StrOpName] = {
    "doesNotStartWith": "starts_with",
    "doesNotEndWith": "ends_with",
    "doesNotContain": "contains",
}
STR_FN_NAMES: dict[StrOpName, str] = {op: fn for fn, op in STR_FNS.items()}
NEGATED_STR_FN_NAMES: dict[StrOpName, str] = {op: fn for fn, op in NEGATED_STR_FNS.items()}

METHODS = frozenset(
    {*STR_FNS, *NEGATED_STR_FNS, "equals", "notEqualTo", "matches", "isNull", "isNotNull"}
)
"""Method names (``path.name(...)``) in the supported subset."""

_REFUSED_METHODS: dict[str, str] = {
    **{n: "aggregation .{}()" for n in ("count", "sum", "average", "min", "max")},
    **{n: "aggregation .{}()" for n in ("topN", "bottomN", "head")},
    **{
        n: "array function .{}()"
        for n in (
            "intersects",
            "intersection",
            "subsetOf",
            "supersetOf",
            "includes",
            "distinct",
            "groupBy",
            "filter",
            "map",
        )
    },
    **{n: "map function .{}()" for n in ("get", "keys", "values")},
    **{n: "date function .{}()" for n in ("getMonth", "getYear", "getDayOfMonth")},
    "regexGroup": ".regexGroup() (it returns a value, not a condition)",
}
_REFUSED_FUNCTIONS: dict[str, str] = {
    "if": "if()",
    "inSegment": "inSegment() (segment membership)",
    "chain": "chain()",
    "CHAIN": "CHAIN()",
    **{n: "date function {}()" for n in ("currentMonth", "currentYear", "currentDayOfMonth")},
}


def describe_function(name: str, *, method: bool) -> str:
    """How a refusal names an unsupported PQL method (``.count()``) or function (``if()``);
    pql/json has no syntax for the difference, so it asks for the function form."""
    if name in _REFUSED_METHODS:
        text = _REFUSED_METHODS[name].format(name)
        return text if method else text.replace(".", "", 1)
    if name in _REFUSED_FUNCTIONS:
        return _REFUSED_FUNCTIONS[name].format(name)
    return f"function .{name}()" if method else f"function {name}()"


def refused(construct: str, where: str) -> str:
    """The one wording every refusal of an unsupported construct uses."""
    return f"{construct} is not supported in segment conditions ({where})"


# ------------------------------------------------------------------ JSON → nodes → AST

_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BYTE_RE = re.compile(r"\(byte ([0-9]+)\)")
_JSON_DEPTH_FACTOR = 3
"""pql/json nests two JSON levels per condition level plus one per path step; the raw
nesting bound (``3 * max_depth``) only protects msgspec's recursive decoder, the AST depth is
checked exactly afterwards."""


def parse_pqljson(
    value: str | dict[str, object] | list[object], limits: Limits = DEFAULT_LIMITS
) -> Expr | None:
    """Parse pql/json (JSON text, or the already-decoded object) to the AST; None = everyone."""
    node = _decode_text(value, limits) if isinstance(value, str) else _convert_object(value, limits)
    if node == EVERYONE:
        return None
    return NodeReader(limits).root(node)


def _decode_text(text: str, limits: Limits) -> Node:
    if len(text) > limits.max_text:
        raise LimitExceeded(FIELD, f"the pql/json text is longer than {limits.max_text} characters")
    _check_json_nesting(text, _JSON_DEPTH_FACTOR * limits.max_depth)
    try:
        return _decoder.decode(text)
    except msgspec.ValidationError as exc:
        raise Invalid(FIELD, f"pql/json: {exc}") from None
    except msgspec.DecodeError as exc:
        match = _BYTE_RE.search(str(exc))
        position = int(match.group(1)) if match else None
        raise Invalid(FIELD, f"pql/json is not valid JSON: {exc}", position) from None


def _check_json_nesting(text: str, bound: int) -> None:
    """Linear scan of bracket nesting outside strings, before the recursive decoder runs."""
    depth = 0
    in_string = False
    escaped = False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > bound:
                raise LimitExceeded(
                    FIELD, f"pql/json nests deeper than {bound} levels (position {i})", i
                )
        elif ch in "]}":
            depth -= 1


def _convert_object(value: object, limits: Limits) -> Node:
    bound = _JSON_DEPTH_FACTOR * limits.max_depth
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:  # iterative: a hostile object may nest far deeper than Python recursion
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > bound:
                raise LimitExceeded(FIELD, f"pql/json nests deeper than {bound} levels")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    try:
        size = len(_encoder.encode(value))
        if size > limits.max_text:
            raise LimitExceeded(
                FIELD, f"the pql/json text is longer than {limits.max_text} characters"
            )
        node: Node = msgspec.convert(value, Node)
    except msgspec.ValidationError as exc:
        raise Invalid(FIELD, f"pql/json: {exc}") from None
    except (TypeError, msgspec.EncodeError) as exc:
        raise Invalid(FIELD, f"pql/json: {exc}") from None
    return node


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
        if not isinstance(node, FnApply):
            self.fail(node, loc, "an attribute alone is not a condition; compare it with a value")
        handler = _HANDLERS.get(node.fnName)
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

    def _not(self, node: FnApply, loc: str, level: int, depth: int) -> Expr:
        (param,) = self._params(node, loc, 1)
        return Not(self.condition(param, f"{loc}.params[0]", level, depth + 1))

    def _compare(self, node: FnApply, loc: str, level: int, depth: int) -> Expr:
        left, right = self._params(node, loc, 2)
        op = CMP_FNS[node.fnName]
        if _is_path(left) and _is_path(right):
            self.refuse(node, loc, "comparing two attributes")
        if isinstance(left, Literal):
            if isinstance(right, Literal):
                self.fail(node, loc, "a comparison needs an attribute on one side")
            left, right = right, left  # `"US" = a` reads as `a = "US"`, the operator mirrored
            op = _MIRRORED[op]
        if isinstance(left, FnApply):
            self._not_a_value(left, f"{loc}.params[0]")
        if isinstance(right, FnApply):
            self._not_a_value(right, f"{loc}.params[1]")
        path = self.path(left, f"{loc}.params[0]", level)
        return Cmp(op, path, self.scalar(right, f"{loc}.params[1]"))

    def _not_a_value(self, node: FnApply, loc: str) -> NoReturn:
        if node.fnName not in _HANDLERS:
            self.refuse(node, loc, describe_function(node.fnName, method=False))
        self.fail(node, loc, f"{node.fnName} is a condition, not a value to compare")

    def _in(self, node: FnApply, loc: str, level: int, depth: int) -> Expr:
        target, values = self._params(node, loc, 2)
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
        while isinstance(current, FieldLookup):  # iterative: paths can be long
            steps.append(current.fieldName)
            current = current.object
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
        if kind in ("Integer", "Double") and _is_number(value):
            return Lit("number", _normal_number(value))
        if kind == "Date" and isinstance(value, str) and _valid_date(value):
            return Lit("date", value)
        if kind == "Array":
            self.fail(node, loc, "a list can only follow in / notIn")
        if kind in _LITERAL_TYPES:
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
    "exists": NodeReader._quant,
    "forall": NodeReader._quant,
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


def _is_path(node: Node) -> bool:
    return isinstance(node, FieldLookup | ParameterReference)


_LITERAL_TYPES = frozenset({"String", "Integer", "Double", "Boolean", "Date", "Array"})


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not isinstance(value, float) or math.isfinite(value)


def _normal_number(value: object) -> int | float:
    """The AST keeps integral numbers as int (``3.0`` and ``3`` are the same literal)."""
    assert isinstance(value, int | float)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _valid_date(value: str) -> bool:
    if not _DATE_RE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


# ------------------------------------------------------------------- AST → nodes → JSON


def render_pqljson(expr: Expr | None) -> str:
    """Compact pql/json text for ``expr`` (None = everyone = ``Boolean true``)."""
    return _encoder.encode(lower(expr, "pql/json")).decode()


def lower(expr: Expr | None, language: str) -> Node:
    """The node tree of ``expr``; raises ``NotExpressible(language, …)`` where PQL cannot
    state the condition exactly."""
    if expr is None:
        return EVERYONE
    return _Lowering(language).node(expr, 1)


class _Lowering:
    def __init__(self, language: str) -> None:
        self.language = language

    def refuse(self, reason: str) -> NoReturn:
        raise NotExpressible(self.language, reason)

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
            case SegmentRef():
                self.refuse("segment references (inSegment) are not supported in PQL here")
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
        if lit.kind == "number" and _is_number(value):
            number = _normal_number(value)
            return Literal("Integer" if isinstance(number, int) else "Double", number)
        if lit.kind == "date" and isinstance(value, str) and _valid_date(value):
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
