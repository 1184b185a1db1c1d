"""PQL's date functions that need no clock: ``getYear()``, ``getMonth()``, ``getDayOfMonth()``
compared with numbers, and ``occurs`` with a fixed day (``on``, ``before``, ``after``,
``between … and …``). What they parse to, how the evaluator and SQLite's predicate answer
(PostgreSQL: the property in ``tests/store/test_expr_sql.py`` draws ``DatePart`` atoms), and the
refusal of every form relative to the clock."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from core.errors import Invalid, NotExpressible
from core.expr.ast import And, Cmp, DatePart, Expr, Lit, Or
from core.expr.normalize import normalize
from core.expr.odata import render_odata
from core.expr.pql import parse_pql
from core.expr.pql_render import render_pql
from core.expr.pqljson import parse_pqljson, render_pqljson
from tests.unit.expr.agree import evaluator_and_sqlite_agree

B = ("person", "birthdate")
S = ("product", "saleDate")


def n(value: int) -> Lit:
    return Lit("number", value)


def day(text: str) -> Lit:
    return Lit("date", text)


PARSED: list[tuple[str, Expr]] = [
    ("person.birthdate.getMonth() = 6", DatePart("month", "eq", B, n(6))),
    ("person.birthdate.getYear() >= 1990", DatePart("year", "ge", B, n(1990))),
    ("15 >= person.birthdate.getDayOfMonth()", DatePart("day", "le", B, n(15))),
    (
        "person.birthdate.getYear() in [1991, 1992]",
        Or((DatePart("year", "eq", B, n(1991)), DatePart("year", "eq", B, n(1992)))),
    ),
    (
        "product.saleDate occurs between date(2015, 1, 8) and date(2017, 7, 1)",
        And((Cmp("ge", S, day("2015-01-08")), Cmp("le", S, day("2017-07-01")))),
    ),
    ("product.saleDate occurs on date(2019, 12, 31)", Cmp("eq", S, day("2019-12-31"))),
    ("product.saleDate occurs date(2019, 12, 31)", Cmp("eq", S, day("2019-12-31"))),
    ("product.saleDate occurs before date(2019, 12, 31)", Cmp("lt", S, day("2019-12-31"))),
    ("product.saleDate occurs after date(2019, 12, 31)", Cmp("gt", S, day("2019-12-31"))),
]


@pytest.mark.parametrize(("text", "expected"), PARSED)
def test_parse(text: str, expected: Expr) -> None:
    assert normalize(parse_pql(text)) == expected


@pytest.mark.parametrize(("text", "expected"), PARSED)
def test_render_reads_back_in_both_pql_forms(text: str, expected: Expr) -> None:
    assert parse_pql(render_pql(expected)) == expected
    assert parse_pqljson(render_pqljson(expected)) == expected


def test_date_part_renders_as_written() -> None:
    assert render_pql(DatePart("day", "le", B, n(15))) == "person.birthdate.getDayOfMonth() <= 15"


def test_odata_refuses_date_parts() -> None:
    with pytest.raises(NotExpressible, match=r"month\(\)"):
        render_odata(DatePart("month", "eq", B, n(6)))


EVALUATED: list[tuple[str, dict[str, Any], bool]] = [
    ("person.birthdate.getMonth() = 6", {"person": {"birthdate": "1990-06-14"}}, True),
    ("person.birthdate.getMonth() = 6", {"person": {"birthdate": "1990-07-14"}}, False),
    ("person.birthdate.getMonth() = 6", {"person": {"birthdate": "June"}}, False),
    ("person.birthdate.getMonth() = 6", {}, False),
    # the UTC calendar day: 23:30 at -02:00 is the next day in UTC
    (
        "person.birthdate.getDayOfMonth() = 16",
        {"person": {"birthdate": "2020-03-15T23:30:00-02:00"}},
        True,
    ),
    ("person.birthdate.getYear() = 2022", {"person": {"birthdate": 1668698178}}, True),
    ("person.birthdate.getYear() in [1991, 1992]", {"person": {"birthdate": "1992-02-29"}}, True),
    ("person.birthdate.getYear() in [1991, 1992]", {"person": {"birthdate": "1993-01-01"}}, False),
    ("person.birthdate.getMonth() != 6", {}, False),
    ("not (person.birthdate.getMonth() = 6)", {}, True),
    (
        "product.saleDate occurs between date(2015, 1, 8) and date(2017, 7, 1)",
        {"product": {"saleDate": "2017-07-01T23:59:59Z"}},
        True,
    ),
    (
        "product.saleDate occurs between date(2015, 1, 8) and date(2017, 7, 1)",
        {"product": {"saleDate": "2017-07-02T00:00:00Z"}},
        False,
    ),
    (
        "product.saleDate occurs before date(2015, 1, 8)",
        {"product": {"saleDate": "2015-01-07T23:00:00Z"}},
        True,
    ),
    ("product.saleDate occurs on date(2015, 1, 8)", {"product": {"saleDate": "2015-01-08"}}, True),
]


@pytest.mark.parametrize(("text", "context", "expected"), EVALUATED)
def test_evaluates_as_documented_and_sqlite_agrees(
    lite: sqlite3.Connection, text: str, context: dict[str, Any], expected: bool
) -> None:
    expr = normalize(parse_pql(text))
    evaluator_and_sqlite_agree(lite, expr, context, expected)


REFUSED: list[tuple[str, str]] = [
    ("a occurs 3 days before today", "occurs 3 …"),
    ("a occurs last fortnight", "occurs last takes one unit"),
    ("a occurs = 3 days before yesterday", "occurs takes:"),
    ("a occurs between today and b", "occurs compares with a fixed day"),
    ("a >= today", "the time word today outside occurs"),
    ('a occurs on "2020-01-01"', "occurs compares with a fixed day"),
    ("a occurs between date(2015, 1, 8) and b", "occurs compares with a fixed day"),
    ("a = currentMonth(1)", "currentMonth() takes no arguments"),
    ('a.getMonth() = "6"', "getMonth() is compared with a number"),
    ('a.getYear() in ["1991"]', "getYear() is in a list of numbers"),
    ("a.getMonth()", "getMonth() is a value, not a condition"),
]


@pytest.mark.parametrize(("text", "reason"), REFUSED)
def test_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(Invalid) as info:
        parse_pql(text)
    assert reason in info.value.reason
