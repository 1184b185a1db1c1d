"""The one evaluator: an AST compiled once into nested closures, then called per context.

Semantics (``core.expr.ast`` is the contract; the per-kind comparison keys are in
``core.expr.kinds``):

* **Paths.** A path is a list of object keys. A step applied to a list applies to each element
  that is an object (one level); a path ending on a list yields its elements (one level). An atom
  is true when *any* yielded value matches. Missing keys and JSON null yield nothing, so every
  atom is false there and ``Not`` of it is true (Unleash ``NOT_IN``/``inverted``).
* The **empty path** ``()`` (inside ``Quant``) is the element itself, not its elements, so an
  atom on a nested list element is false (Confidence ``any_rule_nested_list``).
* ``Exists(p)``: some node at ``p`` is present and not null (an empty list is present).
* ``DatePart(part, op, p, n)``: an atom over the values at ``p``: the year, month (1-12) or day
  of the UTC calendar day of each value that is an instant (``kinds.date_part``).
* ``Count(op, p, n, distinct)``: the values an atom at ``p`` would test, nulls left out, counted
  (``distinct``: JSON-equal values once, as ``jsonb`` equality); no count, so false, where
  nothing non-null is at ``p`` (:func:`count_values`).
* ``Quant(q, p, c)``: the elements of the list(s) at ``p`` (a scalar counts as a one-element list,
  null or missing as the empty list); ``all`` over no elements is true, ``any`` false.
* ``StrOp``, ``Like`` and ``Regex`` test JSON strings only ("a number never starts with 1",
  Confidence's resolver). ``ci`` compares ``casefold`` of both sides (``compile_expr``'s
  ``fold`` lets an engine that folds otherwise say so); on ``Regex`` it is the ``i`` flag.
* ``Regex`` patterns are RE2 syntax, run by RE2 itself (``core.expr.matchers``), searched
  anywhere; a pattern outside the subset (``core.expr.re2``) never matches (Unleash: "invalid
  pattern → false"). ``Like`` is compiled to RE2 as well.
* ``Arith``: the numbers at its sides (a path's one value through objects,
  ``kinds.strict_number``) combined as PostgreSQL's ``float8`` would (``kinds.arith``).
* ``Occurs`` and ``NowPart`` (relative to the clock) are what ``core.expr.relative.pin_atom``
  makes of them at the request's one instant (``core.clock.now``).
* ``SegmentRef`` asks ``resolve_segment(ref, context)``; without a resolver it is false (an
  unknown segment never matches: Confidence and Unleash both).
* The evaluator never invents values: Unleash's "``currentTime`` missing → now" is the caller's
  job (``core.expr.unleash.unleash_context`` adds it to an SDK-style context).

Hostile input: patterns and contexts come from tenants and their clients, so matching is
linear in the text (RE2, never a backtracking engine), and each pattern test is charged to the
running request's :class:`core.budget.Budget` (when there is one), which ends a request that
has spent its CPU allowance.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeAlias

from core import clock
from core.budget import CURRENT_BUDGET
from core.expr import re2
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
from core.expr.kinds import (
    KEY_FUNCTIONS,
    arith,
    date_part,
    lit_key,
    number_key,
    number_text,
    remainder,
    scalar_key,
    strict_number,
    string_key,
)
from core.expr.matchers import Matcher, PatternRefused, like_matcher, regex_matcher
from core.expr.normalize import normalize
from core.expr.relative import pin_atom

Context = Mapping[str, Any]
Compiled = Callable[[Context], bool]
Pred: TypeAlias = Callable[[Any, Context], bool]
"""A compiled node: (the node its paths start from, the whole context) → bool."""
Test: TypeAlias = Callable[[Any], bool]
"""A test of one scalar value."""
ResolveSegment = Callable[[str, Context], bool]
Fold = Callable[[str], str]
"""How a ``ci`` comparison folds the case of both sides: ``str.casefold`` (the AST's contract)
unless a caller that follows another engine says otherwise (Unleash's SDKs lower-case)."""

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


def compile_expr(
    expr: Expr | None,
    resolve_segment: ResolveSegment | None = None,
    *,
    fold: Fold = str.casefold,
) -> Compiled:
    """Compile ``expr`` once; the result evaluates one context (a JSON object) per call.
    ``fold``: how ``ci`` string equality, ``In`` and ``StrOp`` fold case (patterns, ``Like``
    and ``Regex``, keep their own case-insensitive matching)."""
    if expr is None:
        return _everyone
    pred = _Compiler(resolve_segment, fold).node(expr)

    def run(context: Context) -> bool:
        return pred(context, context)

    return run


def evaluate(
    expr: Expr | None, context: Context, resolve_segment: ResolveSegment | None = None
) -> bool:
    """One-off evaluation (compile and call); callers with many contexts keep ``compile_expr``."""
    return compile_expr(expr, resolve_segment)(context)


def _everyone(context: Context) -> bool:
    return True


# ----------------------------------------------------------------------------- paths


def nodes(root: Any, path: Path) -> list[Any]:
    """The values at ``path`` (list elements stepped into one level at each step)."""
    current = [root]
    for key in path:
        found: list[Any] = []
        for node in current:
            if isinstance(node, Mapping):
                if key in node:
                    found.append(node[key])
            elif isinstance(node, list):
                found.extend(e[key] for e in node if isinstance(e, Mapping) and key in e)
        current = found
    return current


def leaves(root: Any, path: Path) -> list[Any]:
    """The values an atom at ``path`` tests: nodes, lists opened one level, nulls dropped."""
    out: list[Any] = []
    for node in nodes(root, path):
        if isinstance(node, list):
            out.extend(node)
        elif node is not None:
            out.append(node)
    return out


def _atom(path: Path, test: Test) -> Pred:
    """Any value at ``path`` passes ``test`` (the empty path: the node itself)."""
    if not path:
        return lambda node, ctx: test(node)
    if len(path) == 1:
        key = path[0]

        def one_step(node: Any, ctx: Context) -> bool:
            if type(node) is dict:  # the hot path: a plain context object
                value = node.get(key)
                if value is None:
                    return False
                if type(value) is list:
                    for v in value:  # noqa: SIM110 - a loop is cheaper than any(genexpr)
                        if test(v):
                            return True
                    return False
                return test(value)
            return any(test(v) for v in leaves(node, path))

        return one_step

    def many_steps(node: Any, ctx: Context) -> bool:
        return any(test(v) for v in leaves(node, path))

    return many_steps


# ----------------------------------------------------------------------------- scalar tests


def _never(value: Any) -> bool:
    return False


def _string_eq(expected: str, ci: bool, fold: Fold = str.casefold) -> Test:
    if ci:

        def eq_ci(value: Any) -> bool:
            t = type(value)
            if t is str:
                return fold(value) == expected
            if t is int or t is float:
                f = number_key(value)
                return f is not None and fold(number_text(f)) == expected
            return False

        return eq_ci

    def eq(value: Any) -> bool:
        t = type(value)
        if t is str:
            return value == expected  # type: ignore[no-any-return]
        if t is int or t is float:
            f = number_key(value)
            return f is not None and number_text(f) == expected
        return False

    return eq


def _key_function(kind: str, ci: bool, fold: Fold = str.casefold) -> Callable[[Any], Any] | None:
    key = KEY_FUNCTIONS.get(kind)
    if key is None or not (ci and kind == "string"):
        return key

    def folded(value: Any) -> Any:
        k = string_key(value)
        return None if k is None else fold(k)

    return folded


def _lit_key(lit: Lit, ci: bool, fold: Fold) -> Any:
    """``lit_key``, with a ``ci`` string folded by ``fold``."""
    if ci and lit.kind == "string":
        return fold(lit.value) if type(lit.value) is str else None
    return lit_key(lit)


def key_function(kind: str, ci: bool) -> Callable[[Any], Any] | None:
    """The key of a context value under ``kind`` (casefolded for a ``ci`` string atom)."""
    return _key_function(kind, ci and kind == "string")


OPS = _OPS


def _cmp_test(cmp: Cmp, fold: Fold = str.casefold) -> Test:
    kind = cmp.value.kind
    ci = cmp.ci and kind == "string"
    expected = _lit_key(cmp.value, ci, fold)
    key = _key_function(kind, ci, fold)
    if expected is None or key is None:
        return _never
    if kind == "bool" and cmp.op not in ("eq", "ne"):
        return _never  # booleans have equality only (as Confidence's resolver)
    if kind == "string" and cmp.op == "eq":
        return _string_eq(expected, ci, fold)
    op = _OPS[cmp.op]

    def test(value: Any) -> bool:
        k = key(value)
        return k is not None and op(k, expected)

    return test


def _in_test(node: In, fold: Fold = str.casefold) -> Test:
    groups: dict[str, set[Any]] = {}
    checks: list[tuple[Callable[[Any], Any], frozenset[Any]]] = []
    for lit in node.values:
        k = _lit_key(lit, node.ci and lit.kind == "string", fold)
        if k is not None and lit.kind in KEY_FUNCTIONS:
            groups.setdefault(lit.kind, set()).add(k)
    for kind, found in groups.items():
        key_of = _key_function(kind, node.ci, fold)
        assert key_of is not None
        checks.append((key_of, frozenset(found)))
    if not checks:
        return _never
    if len(checks) == 1:
        key, expected = checks[0]
        return lambda value: key(value) in expected

    def test(value: Any) -> bool:
        return any(key(value) in expected for key, expected in checks)

    return test


def _strop_test(node: StrOp, fold: Fold = str.casefold) -> Test:
    ci = node.ci
    values = tuple(fold(v) for v in node.values) if ci else node.values
    if not values:
        return _never
    if node.op == "contains":

        def contains(value: Any) -> bool:
            if type(value) is not str:
                return False
            budget = CURRENT_BUDGET.get()  # a search of the whole text, as a pattern's
            if budget is not None:
                budget.charge()
            s = fold(value) if ci else value
            return any(v in s for v in values)

        return contains
    method = str.startswith if node.op == "starts_with" else str.endswith

    def affix(value: Any) -> bool:
        if type(value) is not str:
            return False
        return method(fold(value) if ci else value, values)

    return affix


def _datepart_test(node: DatePart) -> Test:
    expected = lit_key(node.value) if node.value.kind == "number" else None
    if expected is None:
        return _never
    op, part = _OPS[node.op], node.part

    def test(value: Any) -> bool:
        found = date_part(value, part)
        return found is not None and op(float(found), expected)

    return test


def _mod_test(node: Mod) -> Test:
    expected = lit_key(node.value) if node.value.kind == "number" else None
    if expected is None or node.divisor == 0:
        return _never
    op, divisor = _OPS[node.op], node.divisor

    def test(value: Any) -> bool:
        found = remainder(value, divisor)
        return found is not None and op(float(found), expected)

    return test


def _arith(node: Arith) -> Pred:
    expected = lit_key(node.value) if node.value.kind == "number" else None
    if expected is None:
        return lambda root, ctx: False
    op, fn, left, right = _OPS[node.op], node.fn, node.left, node.right

    def operand(side: Path | int | float, root: Any) -> float | None:
        return strict_number(root, side) if isinstance(side, tuple) else float(side)

    def test(root: Any, ctx: Context) -> bool:
        a = operand(left, root)
        if a is None:
            return False
        b = operand(right, root)
        if b is None:
            return False
        result = arith(a, b, fn)
        return result is not None and op(result, expected)

    return test


def _like_test(node: Like) -> Test:
    try:
        matches = like_matcher(node.pattern, node.ci)
    except PatternRefused:
        return _never
    return _text_test(matches)


def _regex_test(node: Regex) -> Test:
    try:
        matches = regex_matcher(node.pattern, node.ci)
    except (re2.RegexError, PatternRefused):
        return _never
    return _text_test(matches)


def _text_test(matches: Matcher) -> Test:
    """A pattern test of strings only, charged to the running request's budget: RE2 is linear
    in the text, but a context may hold much text and a tenant many patterns."""

    def test(value: Any) -> bool:
        if type(value) is not str:
            return False
        budget = CURRENT_BUDGET.get()
        if budget is not None:
            budget.charge()
        return matches(value)

    return test


# ----------------------------------------------------------------------------- compiler


class _Compiler:
    def __init__(self, resolve_segment: ResolveSegment | None, fold: Fold = str.casefold) -> None:
        self.resolve_segment = resolve_segment
        self.fold = fold

    def node(self, expr: Expr) -> Pred:
        if isinstance(expr, And):
            return _all_of([self.node(a) for a in expr.args])
        if isinstance(expr, Or):
            return _any_of([self.node(a) for a in expr.args])
        if isinstance(expr, Not):
            inner = self.node(expr.arg)
            return lambda node, ctx: not inner(node, ctx)
        if isinstance(expr, Cmp):
            return _atom(expr.path, _cmp_test(expr, self.fold))
        if isinstance(expr, In):
            return _atom(expr.path, _in_test(expr, self.fold))
        if isinstance(expr, StrOp):
            return _atom(expr.path, _strop_test(expr, self.fold))
        if isinstance(expr, Like):
            return _atom(expr.path, _like_test(expr))
        if isinstance(expr, Regex):
            return _atom(expr.path, _regex_test(expr))
        if isinstance(expr, Exists):
            return _exists(expr.path)
        if isinstance(expr, Count):
            return _count(expr)
        if isinstance(expr, DatePart):
            return _atom(expr.path, _datepart_test(expr))
        if isinstance(expr, CmpAttr):
            return _cmp_attr(expr)
        if isinstance(expr, Mod):
            return _atom(expr.path, _mod_test(expr))
        if isinstance(expr, Arith):
            return _arith(expr)
        if isinstance(expr, Occurs | NowPart):
            return self.relative(expr)
        if isinstance(expr, Quant):
            return _quant(expr.q, expr.path, self.node(expr.cond))
        if isinstance(expr, SegmentRef):
            return self.segment(expr.ref)
        raise TypeError(f"not a condition node: {expr!r}")

    def relative(self, expr: Occurs | NowPart) -> Pred:
        """The fixed condition ``expr`` means at the request's instant (``core.clock``),
        compiled again only when the instant changes (once per request at most)."""
        pinned: list[tuple[int, Pred]] = []

        def relative(node: Any, ctx: Context) -> bool:
            now = clock.now_us()
            if not pinned or pinned[0][0] != now:
                fixed = normalize(pin_atom(expr, now))
                pred = self.node(fixed) if fixed is not None else _everyone_pred
                pinned[:] = [(now, pred)]
            return pinned[0][1](node, ctx)

        return relative

    def segment(self, ref: str) -> Pred:
        resolve = self.resolve_segment
        if resolve is None:
            return lambda node, ctx: False
        return lambda node, ctx: resolve(ref, ctx)


def _everyone_pred(node: Any, ctx: Context) -> bool:
    return True


def _all_of(preds: list[Pred]) -> Pred:
    if len(preds) == 2:
        a, b = preds
        return lambda node, ctx: a(node, ctx) and b(node, ctx)
    frozen = tuple(preds)

    def all_of(node: Any, ctx: Context) -> bool:
        for p in frozen:  # noqa: SIM110 - a loop is cheaper than all() over a generator
            if not p(node, ctx):
                return False
        return True

    return all_of


def _any_of(preds: list[Pred]) -> Pred:
    if len(preds) == 2:
        a, b = preds
        return lambda node, ctx: a(node, ctx) or b(node, ctx)
    frozen = tuple(preds)

    def any_of(node: Any, ctx: Context) -> bool:
        for p in frozen:  # noqa: SIM110 - see all_of
            if p(node, ctx):
                return True
        return False

    return any_of


def atom_test(expr: Expr) -> tuple[Path, Test] | None:
    """An atom over a non-empty path as (path, scalar test): true when any value at the path
    passes (``_atom``'s meaning), so callers may look the path up once for many atoms. None for
    every other node."""
    if isinstance(expr, (Cmp, In, StrOp, Like, Regex)) and expr.path:
        if isinstance(expr, Cmp):
            return expr.path, _cmp_test(expr)
        if isinstance(expr, In):
            return expr.path, _in_test(expr)
        if isinstance(expr, StrOp):
            return expr.path, _strop_test(expr)
        if isinstance(expr, Like):
            return expr.path, _like_test(expr)
        return expr.path, _regex_test(expr)
    return None


def compile_pred(expr: Expr, resolve_segment: ResolveSegment | None = None) -> Pred:
    """``expr`` compiled to a predicate of (the node its paths start from, the whole context)."""
    return _Compiler(resolve_segment).node(expr)


def _exists(path: Path) -> Pred:
    if not path:
        return lambda node, ctx: node is not None
    return lambda node, ctx: any(n is not None for n in nodes(node, path))


def count_values(root: Any, path: Path, distinct: bool) -> int | None:
    """How many values are at ``path`` (``Count``'s meaning): None when nothing non-null is
    there; null elements are not counted; ``distinct`` counts JSON-equal values once. The
    SQLite predicates call this very function."""
    found = [n for n in nodes(root, path) if n is not None]
    if not found:
        return None
    values = [v for n in found for v in (n if isinstance(n, list) else (n,)) if v is not None]
    if distinct:
        return len({json_key(v) for v in values})
    return len(values)


def json_key(value: Any) -> Any:
    """A hashable key under which two JSON values are equal exactly when PostgreSQL's ``jsonb``
    calls them equal: numbers by value (``1`` = ``1.0``, exact decimals), objects whatever the
    order of their keys, booleans never equal to numbers."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int):
        return ("n", value)
    if isinstance(value, float):
        return ("n", Decimal(repr(value)))
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, list):
        return ("l", tuple(json_key(v) for v in value))
    if isinstance(value, Mapping):
        return ("o", frozenset((k, json_key(v)) for k, v in value.items()))
    return ("z",)


def _count(e: Count) -> Pred:
    expected = lit_key(e.value) if e.value.kind == "number" else None
    if expected is None:
        return lambda node, ctx: False
    op = _OPS[e.op]
    path, distinct = e.path, e.distinct

    def pred(node: Any, ctx: Context) -> bool:
        count = count_values(node, path, distinct)
        return count is not None and op(float(count), expected)

    return pred


def _typed_keys(node: Any, path: Path) -> dict[str, set[Any]]:
    """The scalar keys of the values at ``path`` (the node itself for ``()``), by JSON type."""
    found: dict[str, set[Any]] = {}
    for value in leaves(node, path) if path else [node]:
        key = scalar_key(value)
        if key is not None:
            found.setdefault(key[0], set()).add(key[1])
    return found


def attrs_relate(op: str, node: Any, left: Path, right: Path) -> bool:
    """``CmpAttr``: is some value at ``left`` in relation ``op`` with some value at ``right``?
    Decided per type from sets and bounds, not pair by pair, so two long lists cost linear
    time (the SQL does the same). The SQLite predicates call this very function."""
    ones, others = _typed_keys(node, left), _typed_keys(node, right)
    for kind, a in ones.items():
        b = others.get(kind)
        if not b:
            continue
        if op == "eq" and not a.isdisjoint(b):
            return True
        if op == "ne" and len(a | b) > 1:
            return True
        if kind == "boolean" or op in ("eq", "ne"):
            continue
        if op in ("lt", "le") and _OPS[op](min(a), max(b)):
            return True
        if op in ("gt", "ge") and _OPS[op](max(a), min(b)):
            return True
    return False


def _cmp_attr(e: CmpAttr) -> Pred:
    op, left, right = e.op, e.left, e.right
    return lambda node, ctx: attrs_relate(op, node, left, right)


def _quant(q: str, path: Path, cond: Pred) -> Pred:
    if q == "any":
        return lambda node, ctx: any(cond(e, ctx) for e in leaves(node, path))
    return lambda node, ctx: all(cond(e, ctx) for e in leaves(node, path))


__all__ = [
    "OPS",
    "Compiled",
    "Pred",
    "Test",
    "atom_test",
    "compile_expr",
    "compile_pred",
    "count_values",
    "evaluate",
    "key_function",
    "leaves",
    "nodes",
]
