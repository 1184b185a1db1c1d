"""PostgreSQL's fast path for the common atoms: one ``@?`` SQL/JSON path filter, no subquery.

The general predicate of an atom (``sql_postgres``) walks the path with ``jsonb_path_query``
and tests each value with a ``segmux_*`` key function: exact for every kind and every JSON
value, but a set-returning subquery per row (several microseconds). For the atoms segments
mostly hold — string and number comparisons, sets, string tests, booleans and ``Exists`` on a
path from the profile's root — a jsonpath filter over the same lax path gives the same answer
for most values at a fraction of the cost. This module builds those filters.

Each atom gets a :class:`PathFilter`: ``exact`` is a path true exactly where some value at the
path passes the atom *among the values it claims* (the literals are its ``variables``, passed
as parameters, never written into the path); ``guard`` (or None) is a path true wherever
a value it does not claim is present (a superset). The compiler emits
``exact OR (guard AND general)``, which equals the general predicate: where ``exact`` holds the
atom holds, and where the atom holds through an unclaimed value, ``guard`` holds and the
general predicate decides. Profiles without such values (the usual case: numbers kept as
integers or short numeric strings) never run the general predicate.

Why the claimed values are exact (``core.expr.kinds`` is the reference):

* The path is the one ``jsonb_path_query`` walks (``sql_postgres.jsonpath``, lax). A filter on
  a list value looks at its elements, one level, as the general predicate opens a final list;
  every test first checks ``@.type()``, which does not look into lists, so a list inside a
  list never passes (lax comparisons would otherwise look into it).
* Strings: jsonpath ``==`` compares bytes and ``<``/``>`` compare code points (UTF-8 byte
  order), as the kinds' string keys do. A JSON number's string key is its shortest decimal
  text, which jsonpath cannot produce: numbers are left to the guard whenever the literal could
  be such a text (or the operator is an ordering, or ``ne``).
* Numbers: the number key is a double. Claimed: JSON numbers that are integers of magnitude at
  most 2^53 (a double holds them exactly), and strings of 1-15 digits with an optional sign
  (``.double()`` reads them exactly: a double, then a 15-digit numeric, holds them). They are
  compared with the literal's double written out in full (a ``Decimal``), so the comparison
  is exact. Every other number and every other string that may be numeric is guarded.
* Booleans: ``true``/``false`` and the four strings the kinds read as booleans; exact.
* String tests (case-sensitive): ``starts with`` is a byte prefix; ``contains`` is a literal
  (``flag "q"``) regex search; ``ends with`` a regex of the escaped text anchored at ``$``
  (the end of the text: jsonpath regexes are not newline-sensitive). Strings only, as the
  general test; exact. ``like_regex`` takes no variable, so these two patterns are written
  into the path as jsonpath string literals (JSON string syntax, which jsonpath reads alike),
  as the path's keys are.
* ``Exists``: some value at the path is not null (``.type()`` of the value itself).

Anything else (case-insensitive tests, datetimes, dates, versions, ``Like``, ``Regex``, atoms
under a ``Quant``) has no filter: ``path_filter`` returns None and the general predicate alone
is used.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal

from core.expr.ast import Cmp, Exists, Expr, In, Lit, StrOp
from core.expr.sql_base import bool_order, literal_key


@dataclass(frozen=True)
class PathFilter:
    exact: str
    """A jsonpath: some value at the path passes the atom, among the values it claims."""
    variables: dict[str, str | Decimal]
    """The values of ``exact``'s ``$vN`` variables (text or numeric)."""
    guard: str | None
    """A jsonpath true wherever the path holds a value ``exact`` does not claim (None: never)."""


class _Vars:
    """The literals of one filter, each a ``$vN`` variable."""

    def __init__(self) -> None:
        self.values: dict[str, str | Decimal] = {}

    def add(self, value: str | Decimal) -> str:
        name = f"v{len(self.values)}"
        self.values[name] = value
        return "$" + name


_OPS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_SAFE_INT = 2**53
_INT_ITEM = f'(@.type() == "number" && @ == @.floor() && @ >= -{_SAFE_INT} && @ <= {_SAFE_INT})'
"""A JSON number that is an integer a double holds exactly."""
_SHORT_INT = '"^[+-]?[0-9]{1,15}$"'
_INT_TEXT = f'(@.type() == "string" && @ like_regex {_SHORT_INT})'
"""A string of at most 15 digits (and a sign): ``.double()`` reads it exactly."""
_NUMBER_GUARD = (
    f'((@.type() == "string" && !(@ like_regex {_SHORT_INT}) && @ like_regex "^[+-]?[.0-9]") '
    f'|| (@.type() == "number" && !{_INT_ITEM}))'
)
"""Every value the number kind might read that ``_INT_ITEM``/``_INT_TEXT`` do not claim (a
superset: any string starting like a number, beyond 15 digits). Short integer strings, the
usual values, are ruled out by the first regex (``&&`` stops there)."""
_NUMBER_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
"""A superset of the texts a JSON number's string key can be (``kinds.number_text``)."""
_BOOL_TEXT = {True: ("true", "TRUE"), False: ("false", "FALSE")}


def _holdable(value: str) -> bool:
    """Text PostgreSQL can hold (else the general predicate refuses it, with the reason)."""
    return "\x00" not in value and not any("\ud800" <= c <= "\udfff" for c in value)


def _text(value: str) -> str | None:
    """A jsonpath string literal (a JSON string), or None when PostgreSQL cannot hold it."""
    return json.dumps(value, ensure_ascii=False) if _holdable(value) else None


def _regex_escape(value: str) -> str:
    """A regex matching ``value`` literally: ASCII punctuation escaped (a backslash before a
    non-alphanumeric character is that character in PostgreSQL's regexes)."""
    return "".join("\\" + c if c.isascii() and not c.isalnum() else c for c in value)


def _any(tests: list[str]) -> str:
    return tests[0] if len(tests) == 1 else "(" + " || ".join(tests) + ")"


def _string_test(op: str, values: list[str], variables: _Vars) -> tuple[str, bool] | None:
    """The test on string values, and whether numbers need the guard."""
    if not all(_holdable(v) for v in values):
        return None
    tests = [f"@ {_OPS[op]} {variables.add(v)}" for v in values]
    numbers_may_pass = op != "eq" or any(_NUMBER_TEXT.fullmatch(v) for v in values)
    return f'(@.type() == "string" && {_any(tests)})', numbers_may_pass


def _number_test(op: str, values: list[float], variables: _Vars) -> str:
    names = [variables.add(Decimal(v)) for v in values]  # the double's exact value
    ints = _any([f"@ {_OPS[op]} {name}" for name in names])
    texts = _any([f"@.double() {_OPS[op]} {name}" for name in names])
    return f"(({_INT_TEXT} && {texts}) || ({_INT_ITEM} && {ints}))"


def _bool_test(op: str, value: bool) -> str:
    wanted = value if op == "eq" else not value
    strings = " || ".join(f"@ == {json.dumps(s)}" for s in _BOOL_TEXT[wanted])
    return (
        f'((@.type() == "boolean" && @ == {json.dumps(wanted)}) || '
        f'(@.type() == "string" && ({strings})))'
    )


def _kind_tests(
    op: str, lits: tuple[Lit, ...], ci: bool, variables: _Vars
) -> tuple[list[str], list[str]] | None:
    """Tests and guards for ``value op lit`` over ``lits`` (In: ``eq`` over several)."""
    by_kind: dict[str, list[object]] = {}
    for lit in lits:
        key = literal_key(lit, ci)
        if key is None:
            continue  # never matches: contributes nothing
        by_kind.setdefault(lit.kind, []).append(key)
    tests: list[str] = []
    guards: list[str] = []
    for kind, keys in by_kind.items():
        if kind == "string" and not ci:
            found = _string_test(op, [k for k in keys if isinstance(k, str)], variables)
            if found is None:
                return None
            tests.append(found[0])
            if found[1]:
                guards.append('@.type() == "number"')
        elif kind == "number":
            tests.append(_number_test(op, [k for k in keys if isinstance(k, float)], variables))
            guards.append(_NUMBER_GUARD)
        elif kind == "bool" and op in ("eq", "ne"):
            tests.extend(_bool_test(op, k) for k in keys if isinstance(k, bool))
        else:
            return None
    return tests, guards


def _strop_test(e: StrOp, variables: _Vars) -> str | None:
    tests: list[str] = []
    for value in e.values:
        if e.op == "starts_with":
            test = f"@ starts with {variables.add(value)}" if _holdable(value) else None
        elif e.op == "contains":
            text = _text(value)
            test = None if text is None else f'@ like_regex {text} flag "q"'
        else:
            text = _text(_regex_escape(value) + "$")
            test = None if text is None else f"@ like_regex {text}"
        if test is None:
            return None
        tests.append(test)
    return f'(@.type() == "string" && {_any(tests)})'


def path_filter(expr: Expr, path_text: str) -> PathFilter | None:
    """The filter of an atom whose path (from the profile's root) is ``path_text`` (from
    ``sql_postgres.jsonpath``); None when the atom has none (see the module docstring)."""
    if isinstance(expr, Exists):
        return PathFilter(f'{path_text}.type() ? (@ != "null")', {}, None)
    variables = _Vars()
    found: tuple[list[str], list[str]] | None
    if isinstance(expr, Cmp):
        if bool_order(expr.value.kind, expr.op):
            return None
        found = _kind_tests(expr.op, (expr.value,), expr.ci, variables)
    elif isinstance(expr, In):
        found = _kind_tests("eq", expr.values, expr.ci, variables)
    elif isinstance(expr, StrOp) and not expr.ci and expr.values:
        test = _strop_test(expr, variables)
        found = None if test is None else ([test], [])
    else:
        return None
    if found is None or not found[0]:
        return None  # no literal can match: the general predicate says FALSE
    tests, guards = found
    guard = f"{path_text} ? ({_any(guards)})" if guards else None
    return PathFilter(f"{path_text} ? ({_any(tests)})", variables.values, guard)
