"""PQL conditions relative to the clock (``occurs last week``, ``= 3 days before today``,
``currentMonth()``): what they parse to, render→parse identity, their periods at a frozen
instant, the one clock of a call, and the refusals of the languages that cannot say them.
Evaluator = SQL on both backends: ``tests/store/test_expr_sql.py`` draws these atoms too."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import clock
from core.errors import NotExpressible
from core.expr.ast import NowPart, Occurs
from core.expr.confidence import render_targeting
from core.expr.evaluate import compile_expr
from core.expr.normalize import normalize
from core.expr.odata import render_odata
from core.expr.pql import parse_pql
from core.expr.pql_render import render_pql
from core.expr.pqljson import parse_pqljson, render_pqljson
from core.expr.unleash import render_constraints
from tests.examples import examples
from tests.unit.expr.agree import evaluator_and_sqlite_agree
from tests.unit.expr.relative_strategies import relative_atoms

S = ("product", "saleDate")
NOW = dt.datetime(2024, 2, 29, 13, 45, 30, tzinfo=dt.UTC)  # a Thursday, a leap day

PARSED = [
    ("product.saleDate occurs last week", Occurs(S, "last", unit="week")),
    ("product.saleDate occurs this month", Occurs(S, "this", unit="month")),
    ("product.saleDate occurs next year", Occurs(S, "next", unit="year")),
    ("product.saleDate occurs = 3 days before today", Occurs(S, "eq", n=3, unit="day")),
    (
        "product.saleDate occurs > 2 hours after now",
        Occurs(S, "gt", at="now", n=2, unit="hour", after=True),
    ),
    (
        "product.saleDate occurs <= 1 week from today",
        Occurs(S, "le", n=1, unit="week", after=True),
    ),
    ("product.saleDate occurs before today", Occurs(S, "before")),
    ("product.saleDate occurs today", Occurs(S, "on")),
    ("product.saleDate occurs after now", Occurs(S, "after", at="now")),
    (
        "product.saleDate occurs between date(2015, 1, 8) and yesterday",
        Occurs(S, "between", at="2015-01-08", until="yesterday"),
    ),
    ("person.birthMonth = currentMonth()", NowPart("month", "eq", ("person", "birthMonth"))),
    ("product.saleYear = currentYear()", NowPart("year", "eq", ("product", "saleYear"))),
    ("person.birthDay = currentDayOfMonth()", NowPart("day", "eq", ("person", "birthDay"))),
    ("currentMonth() < person.m", NowPart("month", "gt", ("person", "m"))),
]


@pytest.mark.parametrize(("text", "expected"), PARSED)
def test_parse_and_render(text: str, expected: Any) -> None:
    expr = parse_pql(text)
    assert expr == expected
    assert parse_pql(render_pql(expr)) == expr
    assert parse_pqljson(render_pqljson(expr)) == expr


@settings(max_examples=examples(300), deadline=None)
@given(st.data())
def test_any_relative_atom_renders_and_reads_back(data: st.DataObject) -> None:
    atom = data.draw(relative_atoms(st.sampled_from([("a",), ("a", "b"), ("now",)])))
    assert parse_pql(render_pql(atom)) == atom
    assert parse_pqljson(render_pqljson(atom)) == atom


# (condition, value, member at NOW = 2024-02-29T13:45:30Z)
CASES: list[tuple[str, Any, bool]] = [
    ("a occurs last week", "2024-02-19T00:00:00Z", True),  # Monday of the week before
    ("a occurs last week", "2024-02-18T23:59:59Z", False),
    ("a occurs last week", "2024-02-26T00:00:00Z", False),  # this week's Monday
    ("a occurs this week", "2024-02-26T00:00:00Z", True),
    ("a occurs this month", "2024-02-01T00:00:00Z", True),
    ("a occurs this month", "2024-03-01T00:00:00Z", False),
    ("a occurs next month", "2024-03-31T23:59:59Z", True),
    ("a occurs last year", "2023-12-31T23:59:59Z", True),
    ("a occurs this decade", "2020-01-01T00:00:00Z", True),
    ("a occurs this century", "2000-01-01T00:00:00Z", True),
    ("a occurs = 3 days before today", "2024-02-26T12:00:00Z", True),
    ("a occurs = 3 days before today", "2024-02-27T00:00:00Z", False),
    ("a occurs > 3 days before today", "2024-02-25T23:59:59Z", True),
    ("a occurs > 3 days before today", "2024-02-26T00:00:00Z", False),
    ("a occurs >= 3 days before today", "2024-02-26T23:59:59Z", True),
    ("a occurs < 3 days before today", "2024-02-28T10:00:00Z", True),
    ("a occurs < 3 days before today", "2024-02-26T10:00:00Z", False),
    ("a occurs < 3 days before today", "2024-03-01T00:00:00Z", False),
    ("a occurs != 3 days before today", "2024-02-26T10:00:00Z", False),
    ("a occurs != 3 days before today", "2024-02-25T10:00:00Z", True),
    ("a occurs = 2 hours before now", "2024-02-29T11:59:59Z", True),  # the clock hour 11:00
    ("a occurs = 2 hours before now", "2024-02-29T12:00:00Z", False),
    ("a occurs = 2 hours before now", "2024-02-29T10:59:59Z", False),
    ("a occurs = 2 hours before now", "2024-02-29T11:00:00Z", True),
    ("a occurs < 2 hours after now", "2024-02-29T14:59:59Z", True),
    ("a occurs < 2 hours after now", "2024-02-29T13:45:29Z", False),
    ("a occurs = 1 month after today", "2024-03-29T05:00:00Z", True),
    ("a occurs = 1 year before today", "2023-02-28T05:00:00Z", True),  # clamped to Feb 28
    ("a occurs before today", "2024-02-28T23:59:59Z", True),
    ("a occurs before today", "2024-02-29T00:00:00Z", False),
    ("a occurs today", "2024-02-29T00:00:00Z", True),
    ("a occurs after today", "2024-03-01T00:00:00Z", True),
    ("a occurs after today", "2024-02-29T23:59:59Z", False),
    ("a occurs after now", "2024-02-29T13:45:31Z", True),
    ("a occurs on now", "2024-02-29T13:45:30Z", True),
    ("a occurs between yesterday and now", "2024-02-28T00:00:00Z", True),
    ("a occurs between yesterday and now", "2024-02-29T13:45:31Z", False),
    ("a occurs between date(2015, 1, 8) and today", "2024-02-29T23:00:00Z", True),
    ("a occurs between date(2015, 1, 8) and today", "2015-01-07T23:00:00Z", False),
    ("a occurs last week", ["2020-01-01T00:00:00Z", "2024-02-20T00:00:00Z"], True),
    ("a occurs last week", "not a date", False),
    ("a occurs last week", None, False),
    ("a = currentMonth()", 2, True),
    ("a = currentMonth()", "2", True),
    ("a = currentYear()", 2024, True),
    ("a > currentDayOfMonth()", 29, False),
    ("a = currentDayOfMonth()", 29.0, True),
]


@pytest.mark.parametrize(("text", "value", "expected"), CASES)
def test_periods_at_a_frozen_instant(
    lite: sqlite3.Connection, text: str, value: Any, expected: bool
) -> None:
    context = {"a": value}
    expr = normalize(parse_pql(text))
    with clock.one_clock(NOW):
        evaluator_and_sqlite_agree(lite, expr, context, expected)


def test_a_compiled_condition_follows_the_clock_of_each_call() -> None:
    run = compile_expr(parse_pql("a occurs today"))
    context = {"a": "2024-02-29T10:00:00Z"}
    with clock.one_clock(NOW):
        assert run(context)
    with clock.one_clock(NOW + dt.timedelta(days=1)):
        assert not run(context)


@pytest.mark.parametrize(
    "render",
    [render_constraints, render_targeting, render_odata],
    ids=["unleash", "confidence", "odata"],
)
@pytest.mark.parametrize("text", ["a occurs last week", "a = currentMonth()"])
def test_languages_without_a_clock_refuse(render: Any, text: str) -> None:
    with pytest.raises(NotExpressible) as info:
        render(parse_pql(text))
    assert "now" in info.value.reason


def test_unleash_names_the_reason() -> None:
    with pytest.raises(NotExpressible) as info:
        render_constraints(parse_pql("a occurs last week"))
    assert "DATE_AFTER" in info.value.reason
