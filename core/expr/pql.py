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
* ``inSegment("<id>")``: membership of another segment of the tenant (``ast.SegmentRef``);
* ``true`` alone is everyone (None).

Precedence, loosest first: ``or``, ``and``, ``not``/``!``, comparison / in / notIn / like.
The AST mapping is documented in ``core.expr.pqljson``.

Refused with ``Invalid("expression", "<construct> is not supported in segment conditions
(position N)", position=N)``, N the 0-based character offset of the construct: ``select``,
``xEvent``, ``chain``/``CHAIN``, ``let``, ``if``, a time word (``now``,
``today``, ``yesterday``, ``tomorrow``) outside ``occurs``, ``null``, aggregations other than
``count`` (``.sum()`` ``.average()`` ``.min()`` ``.max()`` ``.topN()`` ``.bottomN()`` ``.head()``,
``… over``), the other array functions (``groupBy``, ``filter``, ``map``), map / date functions,
arithmetic other than as above (``a + b + c``, ``a > b + 1``, unary ``-a``), an array
function of another attribute, and any other function. Two attributes compared (``a = b``)
read as ``CmpAttr``. Syntax errors say where and what was expected.

The text goes through three modules: this one (the lambda head, a linear prescan that refuses
what is outside the subset and bounds the nesting, the LALR parse of ``grammars/pql.lark``),
``core.expr.pql_tree`` (the parse tree → pql/json nodes, which ``NodeReader`` turns into the
AST) and ``core.expr.pql_render`` (the AST → text). The words they share are
``core.expr.pql_vocab``'s; syntax errors are put in plain words by ``core.expr.lark_errors``
(which OData's parser shares).
"""

from __future__ import annotations

import re
from pathlib import Path as FilePath
from typing import NoReturn

from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedInput

from core.errors import Invalid, LimitExceeded
from core.expr.ast import Expr
from core.expr.lark_errors import lark_syntax_error
from core.expr.limits import DEFAULT_LIMITS, Limits
from core.expr.pql_tree import TreeReader
from core.expr.pql_vocab import OPERATOR_WORDS, REFUSED_WORDS, SEGMENT_FN
from core.expr.pqljson import EVERYONE, FIELD, METHODS, NodeReader, describe_function, refused
from core.expr.pqljson_vocab import NOW_PARTS
from core.expr.relative import TIME_WORDS

__all__ = ["parse_pql"]

_GRAMMAR = FilePath(__file__).with_name("grammars") / "pql.lark"
_PARSER = Lark.open(
    str(_GRAMMAR), parser="lalr", propagate_positions=True, maybe_placeholders=False
)
"""Built once at import: LALR tables are the expensive part, parsing is linear."""

_TIME_WORD_SPAN = 8
"""How many words after ``occurs`` may be time words (``between yesterday and today``)."""
_OCCURS_WORDS = frozenset({"between", "on", "before", "after", "date", "last", "this", "next"})
"""What may follow ``occurs`` as a word (a comparison may follow too: ``= 3 days before``)."""

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
    reader = TreeReader(limits, lambda_var)
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
        elif word in REFUSED_WORDS:
            self.refuse(REFUSED_WORDS[word], start)
        elif (
            is_call
            and word not in OPERATOR_WORDS
            and word not in ("date", SEGMENT_FN)
            and word not in NOW_PARTS
        ):
            self.refuse(describe_function(word, method=False), start)
        self.time_words = max(0, self.time_words - 1)
        self.prev_operand = word not in OPERATOR_WORDS
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
