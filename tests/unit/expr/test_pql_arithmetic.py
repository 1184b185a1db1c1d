"""PQL arithmetic in comparisons (``+ - * /``, Adobe's "Arithmetic functions" page): what it
parses to, render→parse identity, and the evaluator and SQLite agreeing on the edges — numeric
strings, lists (no single number), division by zero, overflow and underflow (no result, so
false, never a guess). PostgreSQL: the properties in ``tests/store/test_expr_sql.py`` draw
``Arith`` atoms with these edges."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from core.errors import Invalid, NotExpressible
from core.expr.ast import Arith, Lit
from core.expr.odata import render_odata
from core.expr.pql import parse_pql
from core.expr.pql_render import render_pql
from core.expr.pqljson import parse_pqljson, render_pqljson
from core.expr.unleash import render_constraints
from tests.unit.expr.agree import evaluator_and_sqlite_agree


def n(value: float) -> Lit:
    return Lit("number", value)


P1, P2 = ("product1", "price"), ("product2", "price")
PARSED = [
    ("product1.price + product2.price > 100", Arith("add", P1, P2, "gt", n(100))),
    (
        "product.inventory * product.price >= 1000",
        Arith("mul", ("product", "inventory"), ("product", "price"), "ge", n(1000)),
    ),
    ("product1.price - product2.price < 5", Arith("sub", P1, P2, "lt", n(5))),
    (
        "totalProduct.price / totalProduct.sold <= 2.5",
        Arith("div", ("totalProduct", "price"), ("totalProduct", "sold"), "le", n(2.5)),
    ),
    ("person.age + 5 = 30", Arith("add", ("person", "age"), 5, "eq", n(30))),
    ("2 * a != 4", Arith("mul", 2, ("a",), "ne", n(4))),
    ("a - -1.5 > 0", Arith("sub", ("a",), -1.5, "gt", n(0))),
]


@pytest.mark.parametrize(("text", "expected"), PARSED)
def test_parse_and_render(text: str, expected: Arith) -> None:
    expr = parse_pql(text)
    assert expr == expected
    assert parse_pql(render_pql(expr)) == expr
    assert parse_pqljson(render_pqljson(expr)) == expr


CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("a + b > 100", {"a": 60, "b": 50}, True),
    ("a + b > 100", {"a": 60, "b": "50"}, True),  # a numeric string is a number, as for `>`
    ("a + b > 100", {"a": 60, "b": "fifty"}, False),
    ("a + b > 100", {"a": 60}, False),
    ("a + b > 100", {"a": 60, "b": [50]}, False),  # a list is no single number
    ("a + b > 100", {"a": 60, "b": True}, False),
    ("a + b = 0.30000000000000004", {"a": 0.1, "b": 0.2}, True),  # IEEE doubles everywhere
    ("a + b = 0.3", {"a": 0.1, "b": 0.2}, False),
    ("a / b > 1", {"a": 5, "b": 0}, False),  # division by zero: no result
    ("a / b != 1", {"a": 5, "b": 0}, False),
    ("a / 0 < 1", {"a": 5}, False),
    ("a * b > 1", {"a": 1e308, "b": 10}, False),  # overflow: no result
    ("a * b < 1", {"a": 1e308, "b": 10}, False),
    ("a * b = 0", {"a": 1e-300, "b": 1e-300}, False),  # underflow to 0: no result
    ("a * b = 0", {"a": 0, "b": 1e-300}, True),
    ("a / b = 0.5", {"a": 1, "b": 2}, True),
    ("a - b < 0", {"a": {"x": 1}, "b": 2}, False),
    ("o.a - o.b = 1", {"o": {"a": 3, "b": 2}}, True),
    ("o.a - o.b = 1", {"o": [{"a": 3, "b": 2}]}, False),  # no list is opened
    ("person.age % 5 = 0", {"person": {"age": 35}}, True),
]


@pytest.mark.parametrize(("text", "context", "expected"), CASES)
def test_evaluator_and_sqlite_agree(
    lite: sqlite3.Connection, text: str, context: dict[str, Any], expected: bool
) -> None:
    expr = parse_pql(text)
    evaluator_and_sqlite_agree(lite, expr, context, expected)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a + b + c = 1", "unexpected '+'"),
        ("a > b + 1", "unexpected '+'"),
        ("-a > 1", "arithmetic (unary -)"),
        ('a + "x" > 1', "arithmetic takes numbers"),
        ("1 + 2 > 1", "arithmetic needs an attribute on one side"),
    ],
)
def test_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(Invalid) as info:
        parse_pql(text)
    assert reason in info.value.reason


@pytest.mark.parametrize("render", [render_constraints, render_odata])
def test_other_languages_refuse_arithmetic(render: Any) -> None:
    with pytest.raises(NotExpressible):
        render(parse_pql("a + b > 1"))
