"""``SegmentSet`` (shared atoms, generated code) gives exactly ``compile_expr``'s answers.

Random sets of random conditions (drawn from few paths and literals, so atoms repeat across
segments and the sharing is exercised) over random profiles and the edge values of every kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.expr import ast
from core.expr.ast import And, Cmp, Expr, In, Lit, Not, Or, Quant, StrOp
from core.expr.evaluate import compile_expr
from core.expr.segment_set import SegmentSet
from tests.examples import examples
from tests.store.test_expr_sql import EDGE_VALUES
from tests.unit.expr import strategies as shared
from tests.unit.expr.ast_strategies import exprs, random_profiles

CORPUS = (
    random_profiles(150)
    + [{"a": v} for v in EDGE_VALUES]
    + [{"a": [v, None]} for v in EDGE_VALUES[::3]]
)
SETTINGS = settings(
    max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _agrees(conditions: Sequence[Expr | None], contexts: list[Any]) -> None:
    pairs = [(f"s{i}", None if e is None else ast.encode(e)) for i, e in enumerate(conditions)]
    one_by_one = [compile_expr(e) for e in conditions]
    built = SegmentSet(pairs)
    rebuilt = SegmentSet(reversed(pairs), previous=built)
    for context in contexts:
        want = {sid: fn(context) for (sid, _), fn in zip(pairs, one_by_one, strict=True)}
        got = built.evaluate(context)
        assert got == want, (conditions, context)
        assert list(got) == [sid for sid, _ in pairs]
        assert all(type(v) is bool for v in got.values())
        assert rebuilt.evaluate(context) == want


@SETTINGS
@given(st.lists(st.none() | exprs(), min_size=1, max_size=8))
def test_agrees_with_compile_expr(conditions: list[Expr | None]) -> None:
    _agrees(conditions, CORPUS)


@SETTINGS
@given(st.lists(shared.exprs(), min_size=1, max_size=6))
def test_agrees_on_the_shared_ast_strategy(conditions: list[Expr]) -> None:
    _agrees(conditions, CORPUS[:120])


def test_identical_atoms_are_computed_once() -> None:
    country = Cmp("eq", ("country",), Lit("string", "SE"))
    plans = [In(("plan",), (Lit("string", "pro"), Lit("string", f"p{i}"))) for i in range(3)]
    conditions: list[Expr] = [*(And((country, p)) for p in plans), Not(country)]
    built = SegmentSet((f"s{i}", ast.encode(e)) for i, e in enumerate(conditions))
    assert built.atom_count == 4
    assert built.evaluate({"country": "SE", "plan": "p1"}) == {
        "s0": False,
        "s1": True,
        "s2": False,
        "s3": False,
    }


def test_kinds_that_look_equal_stay_apart() -> None:
    """``1`` and ``true`` are equal (and hash alike) in Python, never as literals."""
    number = Cmp("eq", ("a",), Lit("number", 1))
    boolean = Cmp("eq", ("a",), Lit("bool", True))
    odd = Cmp("eq", ("a",), Lit("number", True))  # not a valid number literal: never true
    conditions: list[Expr] = [number, boolean, odd]
    _agrees(conditions, [{"a": 1}, {"a": True}, {"a": "1"}, {"a": "true"}, {"a": [1, True]}])


def test_deep_and_wide_structures() -> None:
    deep: Expr = Cmp("eq", ("a",), Lit("number", 1))
    for i in range(150):  # deeper than generated code may nest
        deep = Not(deep) if i % 2 else Or((deep, Cmp("eq", ("b",), Lit("number", i))))
    wide = And(tuple(StrOp("contains", ("s",), (str(i),)) for i in range(500)))
    quant = Quant("all", ("xs",), Cmp("gt", (), Lit("number", 2)))
    _agrees(
        [deep, wide, quant, And(()), Or(())],
        [
            {"a": 1, "b": 7, "s": "".join(map(str, range(500))), "xs": [3, 4]},
            {"a": 2, "b": [3, 149], "s": "0", "xs": [1]},
            {},
        ],
    )
