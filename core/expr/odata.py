"""OData ``$filter`` (the HAL dialect's ``filter``) ⇄ the canonical AST.

Subset: ``eq ne gt ge lt le``, ``and``, ``or``, ``not``, parentheses, ``f in (v, …)``,
``startswith(f,'x')``, ``endswith(f,'x')``, ``contains(f,'x')``, the lambda operators
``f/any(x: cond)`` and ``f/all(x: cond)`` (paths inside start with ``x``; ``x`` alone is the
element), literals ``'single quoted'`` (``''`` is a quote), numbers, ``true``/``false``,
``null``, unquoted ISO-8601 instants (``2018-02-13T12:33:12Z``, offset required) and days
(``2018-02-13``); paths ``a/b/c`` (``$it/…`` allowed, needed before a keyword-named first step).
``true`` alone is everyone (None). Keywords and function names are lowercase, as in OData.

Semantics (decisions, consistent in both directions):

* Two-valued, as Pulpo's Elasticsearch engine evaluated filters: a test on a missing
  attribute is false and ``not`` is plain negation (not OData's three-valued ``null``).
* ``ne`` keeps OData's null rule, ``null ne 'x'`` is true: ``a ne v`` → ``Not(Cmp("eq"))``
  (over a list: no element equals ``v``). So the AST's ``Cmp("ne")`` (present and different,
  PQL ``!=``) has no exact OData form and is not expressible.
* ``a eq null`` → ``Not(Exists(a))``; ``a ne null`` → ``Exists(a)``. ``null`` takes no other
  operator. A literal on the left is mirrored (``5 lt a`` is ``a gt 5``).
* Instants are normalised to the canonical UTC text of ``core.expr.kinds``
  (``YYYY-MM-DDTHH:MM:SS[.fff|.ffffff]Z``); more than microsecond precision is refused.

Not expressible (``NotExpressible("odata", …)``): ``Cmp("ne")``, any ``ci``, ``Like``,
``Regex``, ``SegmentRef``, semver/version/null literals, empty sets or string tests with no
value, empty and/or. Errors are ``Invalid("filter", …, position)`` with the 0-based offset
where parsing fails.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path as FilePath
from typing import Literal as TypingLiteral
from typing import NoReturn, TypeAlias

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from core.errors import Invalid, LimitExceeded, NotExpressible
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
    Occurs,
    Or,
    Path,
    Quant,
    Regex,
    SegmentRef,
    StrOp,
    StrOpName,
)
from core.expr.kinds import canonical_datetime
from core.expr.lark_errors import lark_syntax_error
from core.expr.limits import DEFAULT_LIMITS, Limits

__all__ = ["parse_odata", "render_odata"]

FIELD = "filter"

_GRAMMAR = FilePath(__file__).with_name("grammars") / "odata.lark"
_PARSER = Lark.open(
    str(_GRAMMAR), parser="lalr", propagate_positions=True, maybe_placeholders=False
)
"""Built once at import; parsing is linear."""

_FUNCTIONS: dict[str, StrOpName] = {
    "startswith": "starts_with",
    "endswith": "ends_with",
    "contains": "contains",
}
_FUNCTION_NAMES: dict[StrOpName, str] = {op: fn for fn, op in _FUNCTIONS.items()}
_ARITHMETIC = frozenset({"add", "sub", "mul", "div", "divby", "mod", "has"})
_RESERVED_FIRST_STEPS = frozenset({"not", "true", "false", "null"})
"""Keywords accepted where a path may start; such a first step is written ``$it/step``."""
_MIRRORED: dict[CmpOp, CmpOp] = {
    "eq": "eq",
    "ne": "ne",
    "lt": "gt",
    "le": "ge",
    "gt": "lt",
    "ge": "le",
}
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DATETIME_RE = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt](?P<h>[0-9]{2}):(?P<m>[0-9]{2})"
    r"(?::(?P<s>[0-9]{2})(?:\.(?P<f>[0-9]+))?)?(?P<tz>[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

_TERMINAL_NAMES = {
    "NAME": "a name",
    "SQ_STRING": "a string",
    "NUMBER": "a number",
    "DATETIME": "a date-time",
    "DATE": "a date",
    "$END": "the end of the filter",
}


# ------------------------------------------------------------------------------- parsing


def parse_odata(text: str, limits: Limits = DEFAULT_LIMITS) -> Expr | None:
    """Parse an OData ``$filter`` to the AST; None means everyone (``true``)."""
    if len(text) > limits.max_text:
        raise LimitExceeded(FIELD, f"the filter is longer than {limits.max_text} characters")
    _check_nesting(text, limits)
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text) from None
    if isinstance(tree, Tree) and tree.data == "bare":
        only = tree.children[0]
        if isinstance(only, Tree) and only.data == "true":
            return None
        if isinstance(only, Tree) and only.data == "false":
            pos = _pos(only)
            reason = f"false alone (a filter nobody matches) is not supported (position {pos})"
            raise Invalid(FIELD, reason, pos)
    return _Reader(limits).condition(tree, 1)


def _check_nesting(text: str, limits: Limits) -> None:
    """Parenthesis depth outside strings, in one pass before the parser (10,000 nested
    parentheses stop here, promptly)."""
    depth = 0
    in_string = False
    for i, ch in enumerate(text):
        if ch == "'":
            in_string = not in_string  # '' inside a string toggles twice: still inside
        elif in_string:
            continue
        elif ch == "(":
            depth += 1
            if depth > limits.max_depth:
                raise LimitExceeded(
                    FIELD,
                    f"parentheses nest deeper than {limits.max_depth} levels (position {i})",
                    i,
                )
        elif ch == ")":
            depth -= 1


def _syntax_error(exc: UnexpectedInput, text: str) -> Invalid:
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        if text[pos] == "'":
            return Invalid(FIELD, f"unterminated string starting at position {pos}", pos)
        if text[pos] == '"':
            return Invalid(FIELD, f"OData strings use single quotes (position {pos})", pos)
    if isinstance(exc, UnexpectedToken) and exc.token.type == "NAME":
        word, pos = exc.token.value, exc.token.start_pos or 0
        if word in _ARITHMETIC:
            reason = f"the operator {word} is not supported in filters (position {pos})"
            return Invalid(FIELD, reason, pos)
    return lark_syntax_error(exc, text, _PARSER, FIELD, _TERMINAL_NAMES, "filter")


_Child: TypeAlias = "Tree[Token] | Token"
_Value: TypeAlias = "Path | Lit | _Call | None"


class _Call:
    """A function call or lambda seen as an operand, kept for its error message."""

    def __init__(self, name: str, pos: int) -> None:
        self.name = name
        self.pos = pos


class _Reader:
    """The lark tree → AST. Depth is checked on the way down (a chain of 20,000 ``not``
    stops at ``max_depth``), lambda variables are resolved against ``scopes``."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.scopes: list[str] = []

    def fail(self, reason: str, pos: int) -> NoReturn:
        raise Invalid(FIELD, f"{reason} (position {pos})", pos)

    def condition(self, tree: _Child, depth: int) -> Expr:
        pos = _pos(tree)
        if depth > self.limits.max_depth:
            raise LimitExceeded(
                FIELD,
                f"the filter nests deeper than {self.limits.max_depth} levels (position {pos})",
                pos,
            )
        assert isinstance(tree, Tree)
        kids = tree.children
        match tree.data:
            case "or_expr":
                return Or(self.flat(kids, depth, Or))
            case "and_expr":
                return And(self.flat(kids, depth, And))
            case "not_":
                return Not(self.condition(kids[0], depth + 1))
            case "compare":
                return self.compare(kids)
            case "in_":
                return self.in_(kids, pos)
            case "bare":
                return self.bare(kids[0], depth)
        self.fail("expected a condition", pos)  # pragma: no cover

    def flat(self, kids: list[_Child], depth: int, kind: type[And] | type[Or]) -> tuple[Expr, ...]:
        args: list[Expr] = []
        for kid in kids:
            arg = self.condition(kid, depth + 1)
            # n-ary and flat: `a and (b and c)` is `a and b and c`.
            args.extend(arg.args if isinstance(arg, kind) else (arg,))
        return tuple(args)

    def bare(self, tree: _Child, depth: int) -> Expr:
        pos = _pos(tree)
        if isinstance(tree, Tree) and tree.data == "func":
            return self.function(tree.children, pos)
        if isinstance(tree, Tree) and tree.data == "lambda_":
            return self.lambda_(tree.children, depth, pos)
        if isinstance(tree, Tree) and tree.data in ("true", "false"):
            self.fail("true/false can only stand alone as the whole filter", pos)
        self.fail("this is not a condition; compare it with a value", pos)

    def compare(self, kids: list[_Child]) -> Expr:
        left_tree, op_tree, right_tree = kids
        assert isinstance(op_tree, Tree)
        op_token = op_tree.children[0]
        assert isinstance(op_token, Token)
        pos = _pos(op_token)
        op: CmpOp = op_token.value
        left, right = self.value(left_tree), self.value(right_tree)
        for side in (left, right):
            if isinstance(side, _Call):
                self.not_a_value(side)
        if not isinstance(left, tuple):
            left, right, op = right, left, _MIRRORED[op]  # `5 lt a` is `a gt 5`
        if not isinstance(left, tuple):
            self.fail("a comparison needs an attribute on one side", pos)
        if isinstance(right, tuple):
            self.fail("comparing two attributes is not supported", pos)
        assert not isinstance(right, _Call)
        if right is None:
            if op == "eq":
                return Not(Exists(left))
            if op == "ne":
                return Exists(left)
            self.fail(f"null can only be compared with eq or ne, not {op}", pos)
        if op == "ne":
            return Not(Cmp("eq", left, right))  # OData: `null ne 'x'` is true
        return Cmp(op, left, right)

    def not_a_value(self, call: _Call) -> NoReturn:
        if call.name in _FUNCTIONS or call.name in ("any", "all"):
            self.fail(f"{call.name}() is a condition, not a value to compare", call.pos)
        self.fail(f"the function {call.name}() is not supported in filters", call.pos)

    def in_(self, kids: list[_Child], pos: int) -> Expr:
        target, *items = kids
        path = self.value(target)
        if not isinstance(path, tuple):
            self.fail("in needs an attribute on its left", pos)
        if len(items) > self.limits.max_values:
            raise LimitExceeded(
                FIELD,
                f"the list has more than {self.limits.max_values} values (position {pos})",
                pos,
            )
        values: list[Lit] = []
        for item in items:
            value = self.value(item)
            if not isinstance(value, Lit):
                self.fail("the values after in must be literals other than null", _pos(item))
            values.append(value)
        if len({value.kind for value in values}) > 1:
            self.fail("the values after in must all be of one type", pos)
        return In(path, tuple(values))

    def function(self, kids: list[_Child], pos: int) -> Expr:
        name_tree, *args = kids
        steps = _steps(name_tree)
        name = steps[-1].value
        if name in ("any", "all") and len(steps) > 1:
            self.fail(f"{name}() needs a condition, e.g. tags/{name}(x: x eq 'a')", pos)
        if len(steps) != 1 or name not in _FUNCTIONS:
            self.fail(f"the function {name}() is not supported in filters", pos)
        if len(args) != 2:
            self.fail(f"{name}() takes an attribute and a string", pos)
        path, text = self.value(args[0]), self.value(args[1])
        if not isinstance(path, tuple):
            self.fail(f"the first argument of {name}() must be an attribute", _pos(args[0]))
        if not isinstance(text, Lit) or text.kind != "string" or not isinstance(text.value, str):
            self.fail(f"the second argument of {name}() must be a string", _pos(args[1]))
        return StrOp(_FUNCTIONS[name], path, (text.value,))

    def lambda_(self, kids: list[_Child], depth: int, pos: int) -> Expr:
        path_tree, var, body = kids
        steps = _steps(path_tree)
        operator = steps[-1].value
        if operator not in ("any", "all") or len(steps) < 2:
            self.fail(f"{operator}(x: …) is not a lambda operator; use any or all", pos)
        collection = self.path(steps[:-1], pos)
        assert isinstance(var, Token)
        self.scopes.append(var.value)
        try:
            cond = self.condition(body, depth + 1)
        finally:
            self.scopes.pop()
        return Quant("any" if operator == "any" else "all", collection, cond)

    # -- operands

    def value(self, tree: _Child) -> _Value:
        """A path (tuple), a literal, None for ``null``, or a call (refused by the caller)."""
        pos = _pos(tree)
        assert isinstance(tree, Tree)
        kids = tree.children
        match tree.data:
            case "path":
                return self.path(_steps(tree), pos)
            case "func" | "lambda_":
                return _Call(_steps(kids[0])[-1].value, pos)
            case "string":
                return Lit("string", _token(kids[0])[1:-1].replace("''", "'"))
            case "number":
                return Lit("number", _number(_token(kids[0]), pos))
            case "true" | "false":
                return Lit("bool", tree.data == "true")
            case "null":
                return None
            case "datetime":
                return Lit("datetime", _instant(_token(kids[0]), pos))
            case "date":
                return Lit("date", _day(_token(kids[0]), pos))
        self.fail("expected a value", pos)  # pragma: no cover

    def path(self, steps: list[Token], pos: int) -> Path:
        names = [step.value for step in steps]
        if steps[0].type == "ROOT":
            if self.scopes:
                self.fail("inside any()/all() a path must start with the lambda variable", pos)
            return tuple(names[1:])
        if self.scopes:
            if names[0] != self.scopes[-1]:
                self.fail(
                    f"inside any()/all() a path must start with {self.scopes[-1]}, the innermost"
                    " lambda variable",
                    pos,
                )
            return tuple(names[1:])
        return tuple(names)


def _pos(item: _Child) -> int:
    if isinstance(item, Token):
        return item.start_pos or 0
    start: int = getattr(item.meta, "start_pos", 0)
    return start


def _token(item: _Child) -> str:
    assert isinstance(item, Token)
    return str(item.value)


def _steps(tree: _Child) -> list[Token]:
    assert isinstance(tree, Tree)
    steps = [step for step in tree.children if isinstance(step, Token)]
    return steps


def _number(text: str, pos: int) -> int | float:
    if not any(c in text for c in ".eE"):
        return int(text)
    value = float(text)
    if not math.isfinite(value):
        raise Invalid(FIELD, f"the number {text} is out of range (position {pos})", pos)
    return int(value) if value.is_integer() else value


def _instant(text: str, pos: int) -> str:
    match = _DATETIME_RE.fullmatch(text)
    assert match is not None  # the grammar's DATETIME terminal has the same shape
    if match.group("tz") is None:
        raise Invalid(
            FIELD, f"the date-time {text} needs a time zone, Z or ±hh:mm (position {pos})", pos
        )
    fraction = match.group("f") or ""
    if len(fraction) > 6:
        raise Invalid(
            FIELD, f"the date-time {text} is more precise than microseconds (position {pos})", pos
        )
    tz = match.group("tz").upper()
    iso = f"{match.group('date')}T{match.group('h')}:{match.group('m')}:{match.group('s') or '00'}"
    canonical = canonical_datetime(iso + (f".{fraction}" if fraction else "") + tz)
    if canonical is None:  # e.g. month 13, or 0001-01-01T00:00+01:00 (before year 1 in UTC)
        raise Invalid(FIELD, f"{text} is not a valid date-time (position {pos})", pos)
    return canonical


def _day(text: str, pos: int) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise Invalid(FIELD, f"{text} is not a valid date (position {pos})", pos) from None


# ----------------------------------------------------------------------------- rendering

Kind: TypeAlias = TypingLiteral["and", "or", "atom"]


def render_odata(expr: Expr | None) -> str:
    """The ``$filter`` for ``expr`` (None = everyone = ``true``); ``parse_odata`` reads it back
    to an equal AST. Raises ``NotExpressible("odata", …)`` where OData cannot say it exactly."""
    if expr is None:
        return "true"
    return _Writer().write(expr, 0)[0]


class _Writer:
    def refuse(self, reason: str) -> NoReturn:
        raise NotExpressible("odata", reason)

    def write(self, expr: Expr, level: int) -> tuple[str, Kind]:
        """``level`` counts enclosing lambdas: paths start at ``x{level}`` when above 0."""
        match expr:
            case And(args=args):
                return self.junction(args, level, "and"), "and"
            case Or(args=args):
                return self.junction(args, level, "or"), "or"
            case Not(arg=Cmp(op="eq", ci=False) as cmp):
                return f"{self.path(cmp.path, level)} ne {self.literal(cmp.value)}", "atom"
            case Not(arg=Exists(path=path)):
                return f"{self.path(path, level)} eq null", "atom"
            case Not(arg=arg):
                return f"not ({self.write(arg, level)[0]})", "atom"
            case Exists(path=path):
                return f"{self.path(path, level)} ne null", "atom"
            case Cmp():
                return self.cmp(expr, level), "atom"
            case In():
                return self.in_(expr, level), "atom"
            case StrOp():
                return self.strop(expr, level)
            case Quant(q=q, path=path, cond=cond):
                var = _var_name(level + 1)
                body = self.write(cond, level + 1)[0]
                return f"{self.path(path, level)}/{q}({var}: {body})", "atom"
            case Like():
                self.refuse("OData has no like pattern")
            case Regex():
                self.refuse("OData has no regular-expression test in this subset")
            case SegmentRef():
                self.refuse("OData filters cannot reference segments")
            case Count():
                self.refuse("this OData subset has no $count of a collection")
            case CmpAttr():
                self.refuse("this OData subset compares an attribute with a literal only")
            case Mod():
                self.refuse("this OData subset has no arithmetic (mod)")
            case Arith():
                self.refuse("this OData subset has no arithmetic (add, sub, mul, div)")
            case DatePart():
                self.refuse("this OData subset has no year()/month()/day() functions")
            case Occurs() | NowPart():
                self.refuse("this OData subset has no time relative to now (now())")
        raise TypeError(f"not an AST node: {expr!r}")  # pragma: no cover

    def junction(self, args: tuple[Expr, ...], level: int, word: Kind) -> str:
        if not args:
            self.refuse(f"an empty {word}")
        wrap = {"or", "and"} if word == "and" else {"or"}
        parts = []
        for arg in args:
            text, kind = self.write(arg, level)
            parts.append(f"({text})" if kind in wrap else text)
        return f" {word} ".join(parts)

    def cmp(self, expr: Cmp, level: int) -> str:
        if expr.ci and expr.value.kind == "string":
            self.refuse("OData has no case-insensitive comparison equal to casefold")
        if expr.op == "ne":
            self.refuse(
                "OData's ne is also true when the attribute is missing; 'present and different'"
                " has no exact OData form"
            )
        return f"{self.path(expr.path, level)} {expr.op} {self.literal(expr.value)}"

    def in_(self, expr: In, level: int) -> str:
        if expr.ci:
            self.refuse("OData's in has no case-insensitive form")
        if not expr.values:
            self.refuse("OData's in needs at least one value")
        if len({value.kind for value in expr.values}) > 1:
            self.refuse("a set mixing literal kinds")
        values = ",".join(self.literal(value) for value in expr.values)
        return f"{self.path(expr.path, level)} in ({values})"

    def strop(self, expr: StrOp, level: int) -> tuple[str, Kind]:
        if expr.ci:
            self.refuse("OData's string functions have no case-insensitive form equal to casefold")
        if not expr.values:
            self.refuse("a string test against no values")
        path = self.path(expr.path, level)
        name = _FUNCTION_NAMES[expr.op]
        calls = [f"{name}({path},{_quote(value)})" for value in expr.values]
        # One value per OData call; several values mean any of them.
        return (calls[0], "atom") if len(calls) == 1 else (" or ".join(calls), "or")

    def path(self, path: Path, level: int) -> str:
        for step in path:
            if not _NAME_RE.fullmatch(step):
                self.refuse(f"the attribute name {step!r} cannot be written in OData")
        if level:
            return "/".join([_var_name(level), *path])
        if not path:
            self.refuse("an empty path (a list element) outside any()/all()")
        if path[0] in _RESERVED_FIRST_STEPS:
            return "/".join(["$it", *path])
        return "/".join(path)

    def literal(self, lit: Lit) -> str:
        value = lit.value
        if lit.kind == "string" and isinstance(value, str):
            return _quote(value)
        if lit.kind == "bool" and isinstance(value, bool):
            return "true" if value else "false"
        if lit.kind == "number" and _finite_number(value):
            assert isinstance(value, int | float)
            return repr(int(value) if isinstance(value, float) and value.is_integer() else value)
        if lit.kind == "datetime" and isinstance(value, str):
            return self.instant(value)
        if lit.kind == "date" and isinstance(value, str) and _valid_day(value):
            return value
        if lit.kind in ("semver", "version", "null"):
            self.refuse(f"OData has no {lit.kind} literal")
        self.refuse(f"{value!r} is not a valid {lit.kind} literal")

    def instant(self, value: str) -> str:
        canonical = canonical_datetime(value)  # a zone-less value is UTC, as the evaluator reads it
        if canonical is None:
            self.refuse(f"{value!r} is not an RFC 3339 date-time in the years 1-9999 (UTC)")
        return canonical


def _valid_day(value: str) -> bool:
    if not _DATE_RE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _finite_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not isinstance(value, float) or math.isfinite(value)


def _var_name(level: int) -> str:
    return f"x{level}"


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
