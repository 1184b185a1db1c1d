"""PQL text's parse tree (lark's, from ``core.expr.pql``) → pql/json nodes
(``core.expr.pqljson``): names resolved to parameter positions, literals read (strings
unescaped, numbers, dates), each node's text offset recorded so that ``NodeReader``'s checks
point into the text.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import NoReturn, TypeAlias, TypeVar

from lark import Token, Tree

from core.errors import Invalid, LimitExceeded
from core.expr.limits import Limits
from core.expr.pql_render import write_literal
from core.expr.pql_vocab import SEGMENT_FN
from core.expr.pqljson import (
    FIELD,
    FieldLookup,
    FnApply,
    Literal,
    Node,
    ParameterReference,
    describe_function,
    refused,
)
from core.expr.pqljson_vocab import NOW_PARTS
from core.expr.relative import TIME_WORDS

_N = TypeVar("_N", FnApply, FieldLookup, ParameterReference, Literal)
_Child: TypeAlias = "Tree[Token] | Token"


class TreeReader:
    """The lark tree → pql/json nodes, resolving names to parameter positions.

    Every node it makes is recorded in ``positions`` so the semantic checks in
    ``NodeReader`` can point into the text. Depth is checked on the way down, so a chain of
    20,000 ``not``s stops at ``max_depth`` instead of exhausting Python's stack."""

    def __init__(self, limits: Limits, lambda_var: str | None) -> None:
        self.limits = limits
        self.positions: dict[int, int] = {}
        self.scopes: list[str | None] = [lambda_var]  # index k ↔ parameter position k + 1

    def mark(self, node: _N, pos: int) -> _N:
        self.positions[id(node)] = pos
        return node

    def fail(self, reason: str, pos: int) -> NoReturn:
        raise Invalid(FIELD, f"{reason} (position {pos})", pos)

    def condition(self, tree: _Child, depth: int) -> Node:
        pos = _pos(tree)
        if depth > self.limits.max_depth:
            raise LimitExceeded(
                FIELD,
                f"the condition nests deeper than {self.limits.max_depth} levels (position {pos})",
                pos,
            )
        if isinstance(tree, Token):  # pragma: no cover - every condition rule builds a tree
            self.fail("expected a condition", pos)
        kids = tree.children
        match tree.data:
            case "or_expr" | "and_expr":
                fn = "or" if tree.data == "or_expr" else "and"
                return self.mark(FnApply(fn, [self.condition(k, depth + 1) for k in kids]), pos)
            case "not_":
                return self.mark(FnApply("not", [self.condition(kids[0], depth + 1)]), pos)
            case "quant":
                return self.quant(kids, depth, pos)
            case "arith_compare":
                # `a % 5 = 0` (Mod), `a + b > 3` (Arith): the operator's value compared
                left, sym, second, op, right = kids
                assert isinstance(op, Token)
                value = FnApply(_token(sym), [self.operand(left), self.operand(second)])
                self.mark(value, _pos(sym))
                return self.mark(FnApply(op.value, [value, self.operand(right)]), _pos(op))
            case "compare":
                left, op, right = kids
                assert isinstance(op, Token)
                params = [self.operand(left), self.operand(right)]
                return self.mark(FnApply(op.value, params), _pos(op))
            case "occurs_between":
                left, low, high = kids
                target = self.operand(left)
                if self.time_word(low) is None and self.time_word(high) is None:
                    lower = self.occurs_day(low)
                    upper = self.occurs_day(high)
                    params = [self.mark(FnApply(">=", [target, lower]), pos)]
                    params.append(self.mark(FnApply("<=", [target, upper]), pos))
                    return self.mark(FnApply("and", params), pos)
                tail = f"between {self.occurs_end(low)} and {self.occurs_end(high)}"
                return self.relative(target, tail, pos)
            case "occurs":
                left, *words, right = kids
                word = _as_token(words[0]).value if words else "on"
                if (time := self.time_word(right)) is not None:
                    return self.relative(self.operand(left), f"{word} {time}", pos)
                fn = {"on": "=", "before": "<", "after": ">"}[word]
                day = self.occurs_day(right)
                return self.mark(FnApply(fn, [self.operand(left), day]), pos)
            case "occurs_period":
                left, which, unit = kids
                return self.relative(self.operand(left), f"{_token(which)} {_token(unit)}", pos)
            case "occurs_count":
                left, op, n, unit, direction, right = kids
                time = self.time_word(right)
                if time is None:
                    self.fail("occurs counts units from now or today", _pos(right))
                spelled = (_token(op), _token(n), _token(unit), _token(direction), time)
                return self.relative(self.operand(left), " ".join(spelled), pos)
            case "in_" | "not_in" | "like":
                fn = {"in_": "in", "not_in": "notIn", "like": "like"}[str(tree.data)]
                return self.mark(FnApply(fn, [self.operand(k) for k in kids]), pos)
            case "bare":
                return self.operand(kids[0])
        return self.operand(tree)

    def time_word(self, tree: _Child) -> str | None:
        """``now``, ``today``, ``yesterday`` or ``tomorrow`` where ``tree`` is one of them."""
        if isinstance(tree, Tree) and tree.data == "path" and len(tree.children) == 1:
            word = _token(tree.children[0])
            return word if word in TIME_WORDS else None
        return None

    def occurs_end(self, tree: _Child) -> str:
        """An end of ``occurs between``: a time word, or ``date(…)`` as PQL writes it."""
        time = self.time_word(tree)
        if time is not None:
            return time
        day = self.occurs_day(tree)
        assert isinstance(day, Literal)
        return write_literal(day)

    def relative(self, target: Node, tail: str, pos: int) -> Node:
        """``target occurs <tail>`` relative to the clock, read by ``core.expr.relative``."""
        return self.mark(FnApply("occurs", [target, self.mark(Literal("String", tail), pos)]), pos)

    def occurs_day(self, tree: _Child) -> Node:
        """``occurs`` compares an instant's UTC calendar day with a fixed day, ``date(y, m, d)``."""
        node = self.operand(tree)
        if not isinstance(node, Literal) or node.literalType != "Date":
            self.fail("occurs compares with a fixed day, date(year, month, day)", _pos(tree))
        return node

    def quant(self, kids: list[_Child], depth: int, pos: int) -> Node:
        keyword, var, path, body = kids
        assert isinstance(keyword, Token) and isinstance(var, Token)
        target = self.path(path)  # resolved in the enclosing scope
        self.scopes.append(var.value)
        try:
            cond = self.condition(body, depth + 1)
        finally:
            self.scopes.pop()
        return self.mark(FnApply(keyword.value, [target, cond]), pos)

    def operand(self, tree: _Child) -> Node:
        pos = _pos(tree)
        assert isinstance(tree, Tree)
        kids = tree.children
        match tree.data:
            case "path":
                return self.path(tree)
            case "call":
                return self.call(kids, pos)
            case "chained":
                inner, name, *args = kids
                return self.method(_as_token(name), self.operand(inner), args)
            case "field_after":
                inner, name = kids
                step = _as_token(name)
                return self.mark(FieldLookup(step.value, self.operand(inner)), _pos(step))
            case "string":
                return self.mark(Literal("String", _unescape(_token(kids[0]), pos)), pos)
            case "number":
                return self.mark(_number(_token(kids[0])), pos)
            case "true" | "false":
                return self.mark(Literal("Boolean", tree.data == "true"), pos)
            case "list":
                return self.array(kids, pos)
        self.fail("expected a value or an attribute", pos)  # pragma: no cover

    def array(self, kids: list[_Child], pos: int) -> Node:
        items: list[Literal] = []
        for kid in kids:
            item = self.operand(kid)
            if not isinstance(item, Literal) or item.literalType == "Array":
                self.fail("the values of a list must be literals", _pos(kid))
            items.append(item)
        return self.mark(Literal("Array", items), pos)

    def call(self, kids: list[_Child], pos: int) -> Node:
        path, *args = kids
        assert isinstance(path, Tree)
        steps = [_as_token(step) for step in path.children]
        name = steps[-1]
        if len(steps) == 1:
            if name.value == "date":
                return self.date(args, pos)
            if name.value == SEGMENT_FN:
                return self.segment(args, pos)
            if name.value in NOW_PARTS:
                if args:
                    self.fail(f"{name.value}() takes no arguments", pos)
                return self.mark(FnApply(name.value, []), pos)
            raise Invalid(  # pragma: no cover - the pre-scan refuses other functions first
                FIELD, refused(describe_function(name.value, method=False), f"position {pos}"), pos
            )
        target = self.path_steps(steps[:-1], pos)
        return self.method(name, target, args)

    def method(self, name: Token, target: Node, args: list[_Child]) -> Node:
        """``target.name(args)``; ``.get("key")`` is map access, one more path step."""
        params = [target, *(self.operand(arg) for arg in args)]
        if name.value == "get":
            key = params[1] if len(params) == 2 else None
            if not isinstance(key, Literal) or not isinstance(key.value, str) or not key.value:
                self.fail('get() takes one key, a non-empty string: .get("key")', _pos(name))
            return self.mark(FieldLookup(key.value, target), _pos(name))
        return self.mark(FnApply(name.value, params), _pos(name))

    def segment(self, args: list[_Child], pos: int) -> Node:
        """``inSegment("<id>")``: one non-empty string naming the segment (which segment it
        names, and whether it exists, is decided when the condition is stored)."""
        parts = [self.operand(arg) for arg in args]
        ref = parts[0] if len(parts) == 1 else None
        if not isinstance(ref, Literal) or not isinstance(ref.value, str) or not ref.value:
            self.fail('inSegment() takes one segment id, a string: inSegment("<id>")', pos)
        return self.mark(FnApply(SEGMENT_FN, [ref]), pos)

    def date(self, args: list[_Child], pos: int) -> Node:
        parts = [self.operand(arg) for arg in args]
        numbers = [p.value for p in parts if isinstance(p, Literal) and p.literalType == "Integer"]
        if len(parts) != 3 or len(numbers) != 3:
            self.fail("date() takes three integers: date(year, month, day)", pos)
        year, month, day = (int(n) for n in numbers if isinstance(n, int))
        try:
            iso = dt.date(year, month, day).isoformat()
        except ValueError:
            self.fail(f"date({year}, {month}, {day}) is not a valid date", pos)
        return self.mark(Literal("Date", iso), pos)

    def path(self, tree: _Child) -> Node:
        assert isinstance(tree, Tree)
        return self.path_steps([_as_token(step) for step in tree.children], _pos(tree))

    def path_steps(self, steps: list[Token], pos: int) -> Node:
        first = steps[0]
        if first.type == "PARAM":
            if first.value != "$1":
                self.fail(f"{first.value} is not a parameter; $1 is the profile", pos)
            root, names = 1, steps[1:]
        elif (bound := self.bound_position(first.value)) is not None:
            root, names = bound, steps[1:]
        elif self.scopes[0] is not None and len(self.scopes) == 1:
            self.fail(f"paths must start with the lambda's parameter {self.scopes[0]}", pos)
        else:
            root, names = 1, steps  # an implicit path on the profile
        node: Node = self.mark(ParameterReference(root), pos)
        for name in names:
            node = self.mark(FieldLookup(name.value, node), pos)
        return node

    def bound_position(self, name: str) -> int | None:
        """The parameter position of the innermost variable called ``name``, if any."""
        for index in range(len(self.scopes) - 1, -1, -1):
            if self.scopes[index] == name:
                return index + 1
        return None


def _pos(item: _Child) -> int:
    if isinstance(item, Token):
        return item.start_pos or 0
    start: int = getattr(item.meta, "start_pos", 0)
    return start


def _token(item: _Child) -> str:
    return str(_as_token(item).value)


def _as_token(item: _Child) -> Token:
    assert isinstance(item, Token)
    return item


def _number(text: str) -> Literal:
    if any(c in text for c in ".eE"):
        return Literal("Double", float(text))
    return Literal("Integer", int(text))


_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
_ESCAPE_RE = re.compile(r"\\(u[0-9A-Fa-f]{4}|.)", re.DOTALL)


def _unescape(token: str, pos: int) -> str:
    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if len(code) == 5:
            return chr(int(code[1:], 16))
        # Unknown escapes stay as written: PQL regex strings use `\w`, `\d`, ...
        return _ESCAPES.get(code, match.group(0))

    value = _ESCAPE_RE.sub(replace, token[1:-1])
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        # \uD83D\uDE00 is one character. A lone surrogate is no character at all: no store,
        # JSON text or other language can hold it, so it is refused here, where it is written.
        value = value.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")
        if any("\ud800" <= ch <= "\udfff" for ch in value):
            raise Invalid(
                FIELD,
                "a string holds a lone surrogate (a \\uD800-\\uDFFF escape "
                f"that is not half of a pair): not a Unicode character (position {pos})",
                pos,
            )
    return value
