"""Comparing two attributes (``homeAddress.stateProvince = workAddress.stateProvince``): what it
parses to, its one canonical spelling, how the evaluator and SQLite's predicate answer
(PostgreSQL: the property in ``tests/store/test_expr_sql.py`` draws ``CmpAttr`` atoms), and
what the other languages say."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from core.errors import Invalid, NotExpressible
from core.expr.ast import CmpAttr, Expr, Lit, Mod, Quant
from core.expr.evaluate import compile_expr
from core.expr.normalize import normalize
from core.expr.odata import render_odata
from core.expr.pql import parse_pql
from core.expr.pql_render import render_pql
from core.expr.pqljson import parse_pqljson, render_pqljson
from core.expr.unleash import render_constraints
from tests.unit.expr.agree import evaluator_and_sqlite_agree

H, W = ("homeAddress", "stateProvince"), ("workAddress", "stateProvince")

PARSED: list[tuple[str, Expr]] = [
    ("homeAddress.stateProvince = workAddress.stateProvince", CmpAttr("eq", H, W)),
    ("workAddress.stateProvince = homeAddress.stateProvince", CmpAttr("eq", H, W)),
    ("b < a", CmpAttr("gt", ("a",), ("b",))),
    ("a != b", CmpAttr("ne", ("a",), ("b",))),
    ("exists X from l where X.a >= X.b", Quant("any", ("l",), CmpAttr("ge", ("a",), ("b",)))),
]


@pytest.mark.parametrize(("text", "expected"), PARSED)
def test_parse_and_render(text: str, expected: Expr) -> None:
    assert normalize(parse_pql(text)) == expected
    assert parse_pql(render_pql(expected)) == expected
    assert parse_pqljson(render_pqljson(expected)) == expected


def home_work(home: Any, work: Any) -> dict[str, Any]:
    return {"homeAddress": {"stateProvince": home}, "workAddress": {"stateProvince": work}}


SAME = "homeAddress.stateProvince = workAddress.stateProvince"
DIFFERENT = "homeAddress.stateProvince != workAddress.stateProvince"
EVALUATED: list[tuple[str, dict[str, Any], bool]] = [
    (SAME, home_work("CA", "CA"), True),
    (SAME, home_work("CA", "NY"), False),
    (SAME, home_work("CA", None), False),
    (SAME, {"homeAddress": {"stateProvince": "CA"}}, False),
    (SAME, home_work("ca", "CA"), False),
    (SAME, home_work(1, 1.0), True),  # numbers by value
    (SAME, home_work(1, "1"), False),  # different types are never equal
    (SAME, home_work(["NY", "CA"], "CA"), True),  # lists: some value
    (DIFFERENT, home_work("CA", "NY"), True),
    (DIFFERENT, home_work("CA", "CA"), False),
    (DIFFERENT, home_work("CA", None), False),
    (DIFFERENT, home_work(1, "1"), False),  # nor different: not comparable
    ("a < b", {"a": 2, "b": 10}, True),
    ("a < b", {"a": "2", "b": "10"}, False),  # strings in code point order
    ("a < b", {"a": [5, 20], "b": [10]}, True),
    ("a > b", {"a": [5, 20], "b": [30]}, False),
    ("a <= b", {"a": True, "b": True}, False),  # booleans have no order
    ("a = b", {"a": True, "b": True}, True),
    ("a = b", {"a": {"x": 1}, "b": {"x": 1}}, False),  # objects are not compared
    ("exists X from l where X.a = X.b", {"l": [{"a": 1, "b": 2}, {"a": 3, "b": 3}]}, True),
    ("exists X from l where X.a = X.b", {"l": [{"a": 1, "b": 2}]}, False),
]


@pytest.mark.parametrize(("text", "context", "expected"), EVALUATED)
def test_evaluates_and_sqlite_agrees(
    lite: sqlite3.Connection, text: str, context: dict[str, Any], expected: bool
) -> None:
    expr = normalize(parse_pql(text))
    evaluator_and_sqlite_agree(lite, expr, context, expected)


def test_long_lists_are_compared_in_linear_time() -> None:
    many = {"a": list(range(0, 200_000, 2)), "b": list(range(1, 200_000, 2))}
    assert compile_expr(CmpAttr("eq", ("a",), ("b",)))(many) is False
    assert compile_expr(CmpAttr("lt", ("a",), ("b",)))(many) is True


def test_other_languages_refuse() -> None:
    with pytest.raises(NotExpressible, match="literal only"):
        render_odata(CmpAttr("eq", H, W))
    with pytest.raises(NotExpressible, match="CmpAttr"):
        render_constraints(CmpAttr("eq", H, W))


def test_an_element_with_an_outer_attribute_is_refused() -> None:
    with pytest.raises(Invalid, match="quantifier's variable"):
        parse_pql("exists X from l where X.a = b")


# ----------------------------------------------------------------------------- the remainder

REMAINDERS: list[tuple[dict[str, Any], bool]] = [
    ({"person": {"age": 35}}, True),
    ({"person": {"age": 36}}, False),
    ({"person": {"age": "35"}}, True),  # a numeric string is a number, as everywhere
    ({"person": {"age": 35.5}}, False),  # no whole number: no remainder
    ({"person": {"age": -10}}, True),
    ({"person": {"age": 2**60}}, False),  # beyond exact doubles: refused to guess
    ({}, False),
]


@pytest.mark.parametrize(("context", "expected"), REMAINDERS)
def test_remainder_evaluates_and_sqlite_agrees(
    lite: sqlite3.Connection, context: dict[str, Any], expected: bool
) -> None:
    expr = normalize(parse_pql("person.age % 5 = 0"))
    assert expr == Mod(("person", "age"), 5, "eq", Lit("number", 0))
    evaluator_and_sqlite_agree(lite, expr, context, expected)


def test_remainder_has_the_sign_of_the_dividend() -> None:
    assert compile_expr(parse_pql("a % 4 = -3"))({"a": -7}) is True
    assert compile_expr(parse_pql("a % -4 = 3"))({"a": 7}) is True


def test_remainder_renders_and_other_languages_refuse() -> None:
    expr = Mod(("a",), 2, "ne", Lit("number", 0))
    assert render_pql(expr) == "a % 2 != 0"
    assert parse_pqljson(render_pqljson(expr)) == expr
    with pytest.raises(NotExpressible, match="mod"):
        render_odata(expr)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a % 0 = 1", "other than 0"),
        ("a % 1.5 = 1", "other than 0"),
        ("a % b = 1", "other than 0"),
        ('a % 5 = "x"', "compared with a number"),
        ("a % 5 % 2 = 1", "unexpected '%'"),
        ("a % 5 + 1 = 2", "unexpected '+'"),
    ],
)
def test_other_arithmetic_is_refused(text: str, reason: str) -> None:
    with pytest.raises(Invalid) as info:
        parse_pql(text)
    assert reason in info.value.reason
