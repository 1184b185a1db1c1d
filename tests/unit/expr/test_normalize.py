"""normalize: canonical form rules, idempotence, and meaning preserved on random profiles."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from core.expr.ast import (
    And,
    Cmp,
    Exists,
    Expr,
    In,
    Like,
    Lit,
    Not,
    Or,
    Quant,
    Regex,
    StrOp,
    encode,
)
from core.expr.evaluate import compile_expr
from core.expr.normalize import normalize
from tests.examples import examples
from tests.unit.expr.ast_strategies import exprs, random_profiles

S = lambda v: Lit("string", v)  # noqa: E731
N = lambda v: Lit("number", v)  # noqa: E731
a = Cmp("eq", ("a",), S("1"))
b = Cmp("gt", ("b",), N(2))
c = Exists(("c",))

CASES: list[tuple[Expr | None, Expr | None]] = [
    (None, None),
    (And((a, And((b, c)))), And(tuple(sorted((a, b, c), key=encode)))),
    (Or((a, a)), a),
    (And((a,)), a),
    (Not(Not(a)), a),
    (And((b, a)), And((a, b)) if encode(a) < encode(b) else And((b, a))),
    # NNF: De Morgan, quantifier duality
    (Not(And((a, b))), normalize(Or((Not(a), Not(b))))),
    (
        Not(Quant("any", ("l",), Cmp("eq", ("x",), S("y")))),
        Quant("all", ("l",), Not(Cmp("eq", ("x",), S("y")))),
    ),
    # literals and values
    (Cmp("eq", ("n",), N(3.0)), Cmp("eq", ("n",), N(3))),
    (
        Cmp("lt", ("t",), Lit("datetime", "2024-01-01T01:00:00+01:00")),
        Cmp("lt", ("t",), Lit("datetime", "2024-01-01T00:00:00Z")),
    ),
    (In(("a",), (S("b"), S("a"), S("b"))), In(("a",), (S("a"), S("b")))),
    (In(("a",), (S("x"),)), Cmp("eq", ("a",), S("x"))),
    (In(("a",), (N(1), N(1.0), N(2))), In(("a",), (N(1), N(2)))),
    (StrOp("contains", ("a",), ("z", "a", "z")), StrOp("contains", ("a",), ("a", "z"))),
    (Cmp("gt", ("n",), N(1), ci=True), Cmp("gt", ("n",), N(1))),
    (Cmp("ne", ("f",), Lit("bool", True)), Cmp("eq", ("f",), Lit("bool", False))),
    (In(("a",), (S("1"), N(1))), Or((Cmp("eq", ("a",), N(1)), Cmp("eq", ("a",), S("1"))))),
    # merges that languages need
    (
        Or((Cmp("eq", ("a",), S("x")), In(("a",), (S("y"), S("z"))))),
        In(("a",), (S("x"), S("y"), S("z"))),
    ),
    (
        Or((Cmp("eq", ("a",), S("x")), Cmp("eq", ("a",), S("y"), ci=True))),
        normalize(Or((Cmp("eq", ("a",), S("y"), ci=True), Cmp("eq", ("a",), S("x"))))),
    ),
    (
        And((Not(Cmp("eq", ("a",), S("x"))), Not(Cmp("eq", ("a",), S("y"))))),
        Not(In(("a",), (S("x"), S("y")))),
    ),
    (
        Or((StrOp("starts_with", ("a",), ("p",)), StrOp("starts_with", ("a",), ("q",)))),
        StrOp("starts_with", ("a",), ("p", "q")),
    ),
    (Or((Cmp("lt", ("a",), N(3)), Cmp("gt", ("a",), N(3)))), Cmp("ne", ("a",), N(3))),
    # Like patterns that are prefix / suffix / substring tests
    (Like(("a",), "abc%"), StrOp("starts_with", ("a",), ("abc",))),
    (Like(("a",), "%%abc"), StrOp("ends_with", ("a",), ("abc",))),
    (Like(("a",), "%abc%", ci=True), StrOp("contains", ("a",), ("abc",), ci=True)),
    (Like(("a",), "a_c%"), Like(("a",), "a_c%")),
    (Like(("a",), "abc"), Like(("a",), "abc")),
    # a quantifier over an atom on the element is the atom
    (Quant("any", ("l",), Regex((), "x")), Regex(("l",), "x")),
    (Quant("all", ("l",), Not(Cmp("eq", (), S("x")))), Not(Cmp("eq", ("l",), S("x")))),
    (Quant("any", ("l",), Exists(())), Quant("any", ("l",), Exists(()))),
]


@pytest.mark.parametrize(("expr", "expected"), CASES)
def test_rules(expr: Expr | None, expected: Expr | None) -> None:
    assert normalize(expr) == expected


def test_equal_conditions_serialise_equally() -> None:
    one = Or((And((a, b)), Cmp("eq", ("z",), S("q")), In(("z",), (S("r"),))))
    two = Or((In(("z",), (S("r"), S("q"))), And((b, Not(Not(a))))))
    assert encode(normalize(one)) == encode(normalize(two))  # type: ignore[arg-type]


CORPUS = random_profiles(200, seed=3)


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=exprs(max_leaves=8))
def test_idempotent_and_meaning_preserving(expr: Expr) -> None:
    norm = normalize(expr)
    assert normalize(norm) == norm
    before, after = compile_expr(expr), compile_expr(norm)
    for profile in CORPUS:
        assert before(profile) == after(profile), profile
