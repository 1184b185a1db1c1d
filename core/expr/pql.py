"""PQL text (Adobe Profile Query Language, ``pql/text``) ⇄ the canonical AST.

Text is parsed into pql/json nodes (``core.expr.pqljson``), which hold the PQL semantics, and
rendered from them; so the two PQL formats cannot drift apart.

Supported subset (profile-attribute conditions):

* literals: ``"double quoted"`` strings (``\\"``, ``\\\\``, ``\\n``, ``\\t``, ``\\r``, ``\\b``,
  ``\\f``, ``\\/``, ``\\u`` with four hex digits; any other ``\\c`` is kept as the two
  characters, so regex text such as the documented ``"@(\\w+)"`` survives), integers, doubles
  (optional exponent), ``true``/``false``, ``date(y, m, d)``, lists ``[1, 2]``;
* paths: implicit ``homeAddress.countryISO``, explicit ``$1.homeAddress.countryISO``, and the
  lambda form ``(Profile) => Profile.homeAddress.countryISO`` (the head only at the start);
* ``= != < <= > >=`` (a literal on the left is mirrored), ``and``, ``or``, ``not x``/``not (x)``,
  ``!x``, parentheses, ``in [..]``, ``notIn [..]``, ``like "pat"``;
* ``.startsWith .endsWith .contains .doesNotStartWith .doesNotEndWith .doesNotContain .equals
  .notEqualTo`` with the optional case-sensitivity flag (``false`` = case-insensitive),
  ``.matches("re")``, ``.isNull()``, ``.isNotNull()``;
* ``exists X from path where cond`` / ``forall X from path where cond`` (also ``: cond``); the
  condition extends as far right as possible and its paths must start with ``X``;
* array functions with a literal list: ``.includes(v)``, ``.intersects([..])``,
  ``.supersetOf([..])``, ``.subsetOf([..])``, ``.intersection([..]) = [..]`` (and ``!=``), and
  ``.count()`` / ``.distinct().count()`` compared with a number (methods chain on a call);
* map access ``m.get("key")`` (a path step; the renderer writes keys that are no name so);
* the remainder ``a % n <op> m`` (``n`` a whole number other than 0), and one arithmetic
  operator on the left of a comparison with a number: ``a + b > 3``, ``a * 2 <= 10``,
  ``price / sold < 5`` (each side an attribute or a number, ``core.expr.ast.Arith``);
* ``.getYear()``, ``.getMonth()``, ``.getDayOfMonth()`` compared with a number or ``in [..]``,
  and ``occurs`` with a fixed day: ``occurs [on|before|after] date(..)``,
  ``occurs between date(..) and date(..)``;
* time relative to the clock (``core.expr.relative``): ``currentYear()``, ``currentMonth()``,
  ``currentDayOfMonth()`` compared with an attribute, ``occurs [on|before|after] now|today|
  yesterday|tomorrow``, ``occurs last|this|next <unit>``, ``occurs between`` with a time word at
  either end, ``occurs <cmp> N <units> before|after|from now|today``;
* ``true`` alone is everyone (None).

Precedence, loosest first: ``or``, ``and``, ``not``/``!``, comparison / in / notIn / like.
The AST mapping is documented in ``core.expr.pqljson``.

Refused with ``Invalid("expression", "<construct> is not supported in segment conditions
(position N)", position=N)``, N the 0-based character offset of the construct: ``select``,
``xEvent``, ``chain``/``CHAIN``, ``let``, ``if``, ``inSegment``, a time word (``now``,
``today``, ``yesterday``, ``tomorrow``) outside ``occurs``, ``null``, aggregations other than
``count`` (``.sum()`` ``.average()`` ``.min()`` ``.max()`` ``.topN()`` ``.bottomN()`` ``.head()``,
``… over``), the other array functions (``groupBy``, ``filter``, ``map``), map / date functions,
arithmetic other than as above (``a + b + c``, ``a > b + 1``, unary ``-a``), an array
function of another attribute, and any other function. Two attributes compared (``a = b``)
read as ``CmpAttr``. Syntax errors say where and what was expected.

Rendering always writes implicit paths (``$1.`` only before a keyword-named first step),
``not (…)`` with parentheses, and quantifier variables ``X1``, ``X2`` … by nesting level.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path as FilePath
from typing import Literal as TypingLiteral
from typing import NoReturn, TypeAlias, TypeVar

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from core.errors import Invalid, LimitExceeded, NotExpressible
from core.expr.ast import Expr
from core.expr.limits import DEFAULT_LIMITS, Limits
from core.expr.pqljson import (
    EVERYONE,
    FIELD,
    METHODS,
    FieldLookup,
    FnApply,
    Literal,
    Node,
    NodeReader,
    ParameterReference,
    describe_function,
    lower,
    refused,
)
from core.expr.pqljson_vocab import NOW_PARTS
from core.expr.relative import TIME_WORDS

__all__ = ["parse_pql", "render_pql"]

_GRAMMAR = FilePath(__file__).with_name("grammars") / "pql.lark"
_PARSER = Lark.open(
    str(_GRAMMAR), parser="lalr", propagate_positions=True, maybe_placeholders=False
)
"""Built once at import: LALR tables are the expensive part, parsing is linear."""

# Bare words (not after a dot) that belong to PQL constructs outside the subset.
_REFUSED_WORDS: dict[str, str] = {
    "select": "select … from (event queries)",
    "xEvent": "xEvent (experience events)",
    "chain": "chain()",
    "CHAIN": "CHAIN()",
    "let": "let",
    "if": "if()",
    "over": "aggregation … over",
    "null": "the null literal (use .isNull() / .isNotNull())",
}
_TIME_WORD_SPAN = 8
"""How many words after ``occurs`` may be time words (``between yesterday and today``)."""
_OPERATOR_WORDS = frozenset(
    {"and", "or", "not", "in", "notIn", "like", "exists", "forall", "from", "where", "occurs"}
)
_OCCURS_WORDS = frozenset({"between", "on", "before", "after", "date", "last", "this", "next"})
"""What may follow ``occurs`` as a word (a comparison may follow too: ``= 3 days before``)."""
_KEYWORDS = _OPERATOR_WORDS | {"true", "false"}
_SEGMENT_FN = "inSegment"
"""``inSegment("<id>")``: membership of another segment of the tenant (``ast.SegmentRef``)."""
_RESERVED_FIRST_STEPS = _KEYWORDS | _REFUSED_WORDS.keys() | {"date", _SEGMENT_FN, *TIME_WORDS}
"""A path whose first step is one of these is written ``$1.step…`` so it reads as a path."""

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LAMBDA_RE = re.compile(r"\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*=>")
_WORD_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_WORD_CHARS = _WORD_START | frozenset("0123456789")
_DIGITS = frozenset("0123456789")


# ------------------------------------------------------------------------------- parsing


def parse_pql(text: str, limits: Limits = DEFAULT_LIMITS) -> Expr | None:
    """Parse PQL text to the AST; None means everyone (``true``)."""
    if len(text) > limits.max_text:
        raise LimitExceeded(FIELD, f"the expression is longer than {limits.max_text} characters")
    text, lambda_var = _strip_lambda_head(text)
    _prescan(text, limits)
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text) from None
    reader = _TreeReader(limits, lambda_var)
    node = reader.condition(tree, 1)
    if node == EVERYONE:
        return None
    return NodeReader(limits, reader.positions).root(node)


def _strip_lambda_head(text: str) -> tuple[str, str | None]:
    """``(Profile) => body``: blank the head (keeping offsets) and remember the variable."""
    match = _LAMBDA_RE.match(text)
    if match is None:
        return text, None
    return " " * match.end() + text[match.end() :], match.group(1)


def _prescan(text: str, limits: Limits) -> None:
    """One linear pass before the parser: bracket depth (so 10,000 nested parentheses stop
    here, promptly) and the constructs outside the subset, named where they start."""
    scan = _Scanner(text, limits)
    scan.run()


class _Scanner:
    def __init__(self, text: str, limits: Limits) -> None:
        self.text = text
        self.limits = limits
        self.depth = 0
        self.prev_operand = False  # the last token ends an operand: a `-` now is subtraction
        self.after_dot = False  # the next word is a path step or a method name
        self.time_words = 0  # words left in an `occurs` clause, where now/today/… are read

    def refuse(self, construct: str, pos: int) -> NoReturn:
        raise Invalid(FIELD, refused(construct, f"position {pos}"), pos)

    def run(self) -> None:
        text, i, n = self.text, 0, len(self.text)
        while i < n:
            ch = text[i]
            if ch.isspace():
                i += 1
            elif ch == '"':
                i = self.string(i)
            elif ch in _WORD_START:
                i = self.word(i)
            elif ch in _DIGITS:
                i = self.number(i)
            else:
                i = self.symbol(i)

    def string(self, start: int) -> int:
        text, i = self.text, start + 1
        while i < len(text) and text[i] != '"':
            i += 2 if text[i] == "\\" else 1
        self.prev_operand, self.after_dot = True, False
        # An unterminated string ends the scan; the parser reports it with its position.
        return i + 1 if i < len(text) else len(text)

    def word(self, start: int) -> int:
        text, end = self.text, start + 1
        while end < len(text) and text[end] in _WORD_CHARS:
            end += 1
        word = text[start:end]
        nxt = end
        while nxt < len(text) and text[nxt].isspace():
            nxt += 1
        is_call = nxt < len(text) and text[nxt] == "("
        if self.after_dot:
            if is_call and word not in METHODS:
                self.refuse(describe_function(word, method=True), start)
        elif word == "occurs":
            self.occurs(start, nxt)
        elif word in TIME_WORDS and not self.time_words:
            self.refuse(f"the time word {word} outside occurs", start)
        elif word in _REFUSED_WORDS:
            self.refuse(_REFUSED_WORDS[word], start)
        elif (
            is_call
            and word not in _OPERATOR_WORDS
            and word not in ("date", _SEGMENT_FN)
            and word not in NOW_PARTS
        ):
            self.refuse(describe_function(word, method=False), start)
        self.time_words = max(0, self.time_words - 1)
        self.prev_operand = word not in _OPERATOR_WORDS
        self.after_dot = False
        return end

    def occurs(self, start: int, nxt: int) -> None:
        """What follows ``occurs``: a direction, ``between``, ``last``/``this``/``next``, a
        comparison or a day; the time words may stand in its next few words."""
        text = self.text
        end = nxt
        while end < len(text) and text[end] in _WORD_CHARS:
            end += 1
        following = text[nxt:end]
        comparison = nxt < len(text) and text[nxt] in "=<>!"
        if following not in _OCCURS_WORDS and following not in TIME_WORDS and not comparison:
            shown = following or text[nxt : nxt + 2].strip() or "…"
            self.refuse(f"occurs {shown} …", start)
        self.time_words = _TIME_WORD_SPAN + 1

    def number(self, start: int) -> int:
        text, i, n = self.text, start, len(self.text)
        while i < n and text[i] in _DIGITS:
            i += 1
        if i + 1 < n and text[i] == "." and text[i + 1] in _DIGITS:
            i += 1
            while i < n and text[i] in _DIGITS:
                i += 1
        if i < n and text[i] in "eE":
            j = i + 1 + (i + 1 < n and text[i + 1] in "+-")
            if j < n and text[j] in _DIGITS:
                i = j
                while i < n and text[i] in _DIGITS:
                    i += 1
        self.prev_operand, self.after_dot = True, False
        return i

    def symbol(self, i: int) -> int:
        text, ch = self.text, self.text[i]
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if ch in "([":
            self.depth += 1
            if self.depth > self.limits.max_depth:
                raise LimitExceeded(
                    FIELD,
                    f"brackets nest deeper than {self.limits.max_depth} levels (position {i})",
                    i,
                )
        elif ch in ")]":
            self.depth -= 1
        elif ch == "-" and not self.prev_operand:
            if nxt not in _DIGITS:
                self.refuse("arithmetic (unary -)", i)
            return self.number(i + 1)
        elif ch == "=" and nxt == ">":
            self.refuse("a lambda (=>) other than at the start", i)
        self.prev_operand = ch in ")]"
        self.after_dot = ch == "."
        return i + 1


_N = TypeVar("_N", FnApply, FieldLookup, ParameterReference, Literal)
_Child: TypeAlias = "Tree[Token] | Token"


class _TreeReader:
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
        return _literal(day)

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
            if name.value == _SEGMENT_FN:
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
        return self.mark(FnApply(_SEGMENT_FN, [ref]), pos)

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


# ----------------------------------------------------------------------- syntax errors

_TERMINAL_NAMES = {
    "NAME": "a name",
    "DQ_STRING": "a string",
    "NUMBER": "a number",
    "CMP_OP": "a comparison (= != < <= > >=)",
    "PARAM": "$1",
    "$END": "the end of the expression",
}


def _syntax_error(exc: UnexpectedInput, text: str) -> Invalid:
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        if text[pos] == '"':
            return Invalid(FIELD, f"unterminated string starting at position {pos}", pos)
        if text[pos] == "'":
            return Invalid(FIELD, f"PQL strings use double quotes (position {pos})", pos)
    return lark_syntax_error(exc, text, _PARSER, FIELD, _TERMINAL_NAMES)


def lark_syntax_error(
    exc: UnexpectedInput,
    text: str,
    parser: Lark,
    field: str,
    names: dict[str, str],
    what: str = "expression",
) -> Invalid:
    """Plain words for a lark error: what was found, where (0-based offset), what would
    have been accepted there. ``names`` describes the regex terminals."""
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        pos, found = len(text), f"unexpected end of the {what}"
    elif isinstance(exc, UnexpectedToken):
        pos, found = exc.token.start_pos or 0, f"unexpected {exc.token.value!r}"
    else:
        pos = exc.pos_in_stream or 0
        found = f"unexpected character {text[pos]!r}"
    expected = _describe_expected(_expected_terminals(exc), parser, names)
    reason = f"{found} at position {pos}" + (f"; expected {expected}" if expected else "")
    return Invalid(field, reason, pos)


def _expected_terminals(exc: UnexpectedInput) -> set[str]:
    # The LALR state's own set includes lookaheads merged from other contexts; asking the
    # interactive parser what it accepts from here gives the exact set.
    interactive = getattr(exc, "interactive_parser", None)
    if interactive is not None:
        accepted: set[str] = interactive.accepts()
        return accepted
    return set(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())


def _describe_expected(terminals: set[str], parser: Lark, names: dict[str, str]) -> str:
    described = set()
    for name in terminals:
        if name in names:
            described.add(names[name])
            continue
        pattern = parser.get_terminal(name).pattern
        described.add(f"'{pattern.value}'" if pattern.type == "str" else name)
    return ", ".join(sorted(described))


# ----------------------------------------------------------------------------- rendering

Kind: TypeAlias = TypingLiteral["and", "or", "not", "quant", "atom"]


def render_pql(expr: Expr | None) -> str:
    """PQL text for ``expr`` (None = everyone = ``true``); the parser reads it back to an
    equal AST. Raises ``NotExpressible("pql", …)`` where PQL cannot say it exactly."""
    if expr is None:
        return "true"
    return _write(lower(expr, "pql"), 1)[0]


def _write(node: Node, level: int) -> tuple[str, Kind]:
    if not isinstance(node, FnApply):  # pragma: no cover - lower() returns a condition
        raise NotExpressible("pql", "not a condition")
    fn, params = node.fnName, node.params
    if fn in ("and", "or"):
        wrap: set[Kind] = {"or", "and", "quant"} if fn == "and" else {"or", "quant"}
        parts = [_write_child(param, level, wrap) for param in params]
        kind: Kind = "and" if fn == "and" else "or"
        return f" {fn} ".join(parts), kind
    if fn == "not":
        return f"not ({_write(params[0], level)[0]})", "not"
    if fn == _SEGMENT_FN:
        return f"{fn}({_literal(params[0])})", "atom"
    if fn in ("exists", "forall"):
        body = _write(params[1], level + 1)[0]
        head = f"{fn} {_var_name(level + 1)} from {_path(params[0])}"
        return f"{head} where {body}", "quant"
    target = _target(params[0])
    args = [_literal(p) if isinstance(p, Literal) else _target(p) for p in params[1:]]
    if fn == "occurs":
        tail = params[1]
        assert isinstance(tail, Literal) and isinstance(tail.value, str)
        return f"{target} occurs {tail.value}", "atom"
    if fn in ("in", "notIn", "like") or not fn[0].isalpha():
        return f"{target} {fn} {args[0]}", "atom"
    return f"{target}.{fn}({', '.join(args)})", "atom"


def _write_child(node: Node, level: int, wrap: set[Kind]) -> str:
    text, kind = _write(node, level)
    return f"({text})" if kind in wrap else text


def _target(node: Node) -> str:
    """The left side of an atom: a path, or a method's value on one (``a.distinct().count()``)."""
    if isinstance(node, FnApply) and not node.params:
        return f"{node.fnName}()"  # currentMonth()
    if isinstance(node, FnApply) and node.fnName in ("%", "+", "-", "*", "/"):
        left, right = (_literal(p) if isinstance(p, Literal) else _target(p) for p in node.params)
        return f"{left} {node.fnName} {right}"
    if isinstance(node, FnApply):
        args = ", ".join(_literal(param) for param in node.params[1:])
        return f"{_target(node.params[0])}.{node.fnName}({args})"
    return _path(node)


def _var_name(position: int) -> str:
    return f"X{position - 1}"


def _path(node: Node) -> str:
    steps: list[str] = []
    while isinstance(node, FieldLookup):
        steps.append(node.fieldName)
        node = node.object
    assert isinstance(node, ParameterReference)
    steps.reverse()
    head = _var_name(node.position) if node.position != 1 else None
    if head is None and (not _NAME_RE.fullmatch(steps[0]) or steps[0] in _RESERVED_FIRST_STEPS):
        head = "$1"
    text = head or ""
    for step in steps:
        if not step or any("\ud800" <= ch <= "\udfff" for ch in step):
            raise NotExpressible("pql", f"the attribute name {step!r} cannot be written in PQL")
        if not _NAME_RE.fullmatch(step):
            # any key, written as map access (PQL's .get)
            text += f".get({_quote(step)})"
        else:
            text += f".{step}" if text else step
    return text


def _literal(node: Node) -> str:
    assert isinstance(node, Literal)
    value = node.value
    match node.literalType:
        case "String":
            assert isinstance(value, str)
            return _quote(value)
        case "Boolean":
            return "true" if value else "false"
        case "Date":
            assert isinstance(value, str)
            year, month, day = (int(part) for part in value.split("-"))
            return f"date({year}, {month}, {day})"
        case "Array":
            assert isinstance(value, list)
            return "[" + ", ".join(_literal(item) for item in value) + "]"
    return repr(value)  # Integer / Double: repr round-trips floats exactly


_QUOTE_MAP = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b"}
_QUOTE_MAP["\f"] = "\\f"


def _quote(value: str) -> str:
    out = []
    for ch in value:
        if ch in _QUOTE_MAP:
            out.append(_QUOTE_MAP[ch])
        elif ch < " " or "\ud800" <= ch <= "\udfff" or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'
