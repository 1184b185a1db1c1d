"""The one size rule over the canonical AST (``core.expr.limits.check_condition``)."""

from __future__ import annotations

import pytest

from core.errors import Invalid, LimitExceeded
from core.expr.ast import And, Cmp, Expr, In, Lit, Not, Or, Quant, StrOp
from core.expr.limits import Limits, check_condition


def eq(i: int, value: str = "x") -> Cmp:
    return Cmp("eq", (f"a{i}",), Lit("string", value))


def test_within_the_limits_passes() -> None:
    check_condition(None)
    check_condition(Or(tuple(eq(i) for i in range(500))))
    check_condition(In(("a",), tuple(Lit("number", i) for i in range(10_000))))


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        (Or(tuple(eq(i) for i in range(501))), "more than 500 tests"),
        (
            And(
                (
                    In(("a",), tuple(Lit("number", i) for i in range(6_000))),
                    In(("b",), tuple(Lit("number", i) for i in range(6_000))),
                )
            ),
            "10000 values in all",
        ),
        (StrOp("contains", ("a",), tuple(str(i) for i in range(10_001))), "a set has more than"),
        (eq(0, "x" * (64 * 1024 + 1)), "longer than 65536 characters"),
    ],
)
def test_over_a_limit_is_refused_with_the_reason(expr: Expr, reason: str) -> None:
    with pytest.raises(LimitExceeded, match=reason):
        check_condition(expr)


def test_depth_is_refused_without_recursing() -> None:
    deep: Expr = eq(0)
    for _ in range(5_000):
        deep = Not(deep)
    with pytest.raises(LimitExceeded, match="nests deeper than 64"):
        check_condition(deep)
    with pytest.raises(LimitExceeded, match="nests deeper than 3"):
        check_condition(Not(Not(Not(eq(0)))), limits=Limits(max_depth=3))


@pytest.mark.parametrize(
    "expr",
    [
        eq(0, "a\x00b"),
        Cmp("eq", ("a\x00",), Lit("string", "x")),
        Quant("any", ("list",), Cmp("eq", ("k",), Lit("string", "\x00"))),
        StrOp("starts_with", ("a",), ("ok", "\x00")),
    ],
)
def test_nul_anywhere_is_refused(expr: Expr) -> None:
    with pytest.raises(Invalid, match="NUL"):
        check_condition(expr)


def test_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(Invalid, match="lone surrogate"):
        check_condition(eq(0, "\ud800"))
    check_condition(eq(0, "\U0001f600"))  # a whole character outside the BMP is fine
