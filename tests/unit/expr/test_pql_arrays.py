"""PQL's array functions: ``includes``, ``intersects``, ``supersetOf``, ``subsetOf``,
``intersection(…) = […]``, ``count()`` and ``distinct().count()`` — what they parse to, how they
evaluate (the evaluator and SQLite's predicate, which must agree), how they render and what is
refused. PostgreSQL's agreement is the property in ``tests/store/test_expr_sql.py``, whose
strategies draw ``Count`` atoms."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest

from core.errors import Invalid, NotExpressible
from core.expr.ast import And, Cmp, Count, Exists, Expr, In, Lit, Not, Quant
from core.expr.evaluate import count_values
from core.expr.normalize import normalize
from core.expr.odata import render_odata
from core.expr.pql import parse_pql
from core.expr.pql_render import render_pql
from core.expr.pqljson import parse_pqljson, render_pqljson
from tests.unit.expr.agree import evaluator_and_sqlite_agree

C = ("person", "favoriteColors")


def s(value: str) -> Lit:
    return Lit("string", value)


def n(value: int | float) -> Lit:
    return Lit("number", value)


PARSED: list[tuple[str, Expr]] = [
    ('person.favoriteColors.includes("red")', Cmp("eq", C, s("red"))),
    ('person.favoriteColors.intersects(["red", "blue"])', In(C, (s("blue"), s("red")))),
    (
        'person.favoriteColors.supersetOf(["red", "blue"])',
        And((Cmp("eq", C, s("blue")), Cmp("eq", C, s("red")))),
    ),
    ("person.favoriteColors.supersetOf([])", Exists(C)),
    (
        'person.favoriteColors.subsetOf(["red", "blue"])',
        And((Exists(C), Quant("all", C, In((), (s("blue"), s("red")))))),
    ),
    (
        'person.favoriteColors.intersection(["red", "blue", "green"]) = ["red", "blue"]',
        And(
            (
                Cmp("eq", C, s("blue")),
                Cmp("eq", C, s("red")),
                Exists(C),
                Not(Cmp("eq", C, s("green"))),
            )
        ),
    ),
    ("orders.count() > 3", Count("gt", ("orders",), n(3))),
    ("3 < orders.count()", Count("gt", ("orders",), n(3))),
    ("orders.count() = 2.0", Count("eq", ("orders",), n(2))),
    ("person.favoriteColors.distinct().count() > 1", Count("gt", C, n(1), distinct=True)),
    (
        "exists X from orders where X.items.count() >= 2",
        Quant("any", ("orders",), Count("ge", ("items",), n(2))),
    ),
]


@pytest.mark.parametrize(("text", "expected"), PARSED)
def test_parse(text: str, expected: Expr) -> None:
    assert normalize(parse_pql(text)) == expected


@pytest.mark.parametrize(("text", "expected"), PARSED)
def test_render_reads_back_in_both_pql_forms(text: str, expected: Expr) -> None:
    assert parse_pql(render_pql(expected)) == expected
    assert parse_pqljson(render_pqljson(expected)) == expected


def test_count_renders_as_written() -> None:
    assert render_pql(Count("gt", C, n(1), distinct=True)) == (
        "person.favoriteColors.distinct().count() > 1"
    )
    assert json.loads(render_pqljson(Count("le", ("orders",), n(2)))) == {
        "nodeType": "fnApply",
        "fnName": "<=",
        "params": [
            {
                "nodeType": "fnApply",
                "fnName": "count",
                "params": [
                    {
                        "nodeType": "fieldLookup",
                        "fieldName": "orders",
                        "object": {"nodeType": "parameterReference", "position": 1},
                    }
                ],
            },
            {"nodeType": "literal", "literalType": "Integer", "value": 2},
        ],
    }


def test_odata_refuses_count() -> None:
    with pytest.raises(NotExpressible, match=r"\$count"):
        render_odata(Count("gt", ("tags",), n(1)))


def person(colors: Any) -> dict[str, Any]:
    return {"person": {"favoriteColors": colors}}


EVALUATED: list[tuple[str, dict[str, Any], bool]] = [
    ('person.favoriteColors.includes("red")', person(["blue", "red"]), True),
    ('person.favoriteColors.includes("red")', person(["blue"]), False),
    ('person.favoriteColors.includes("red")', person("red"), True),  # a scalar: one value
    ('person.favoriteColors.includes("red")', {}, False),
    ('person.favoriteColors.intersects(["red", "green"])', person(["green"]), True),
    ('person.favoriteColors.intersects(["red", "green"])', person(["blue"]), False),
    ('person.favoriteColors.intersects(["red", "green"])', person([]), False),
    ('person.favoriteColors.supersetOf(["red", "blue"])', person(["blue", "x", "red"]), True),
    ('person.favoriteColors.supersetOf(["red", "blue"])', person(["blue"]), False),
    ("person.favoriteColors.supersetOf([])", person([]), True),
    ("person.favoriteColors.supersetOf([])", {}, False),
    ('person.favoriteColors.subsetOf(["red", "blue"])', person(["blue", "red"]), True),
    ('person.favoriteColors.subsetOf(["red", "blue"])', person(["blue", "green"]), False),
    ('person.favoriteColors.subsetOf(["red", "blue"])', person([]), True),
    ('person.favoriteColors.subsetOf(["red", "blue"])', {}, False),
    ('person.favoriteColors.subsetOf(["red", "blue"])', person(None), False),
    ('person.favoriteColors.intersection(["red", "blue"]) = ["red"]', person(["x", "red"]), True),
    (
        'person.favoriteColors.intersection(["red", "blue"]) = ["red"]',
        person(["red", "blue"]),
        False,
    ),
    ('person.favoriteColors.intersection(["red", "blue"]) = []', person(["x"]), True),
    ('person.favoriteColors.intersection(["red", "blue"]) = []', {}, False),
    ('person.favoriteColors.intersection(["red", "blue"]) != ["red"]', person(["blue"]), True),
    ('person.favoriteColors.intersection(["red", "blue"]) != ["red"]', {}, False),
    ("orders.count() = 3", {"orders": [{"id": 1}, {"id": 1}, {"id": 2}]}, True),
    ("orders.count() = 0", {"orders": []}, True),
    ("orders.count() = 0", {}, False),  # no list: no count (PQL: comparisons with null are false)
    ("orders.count() = 0", {"orders": None}, False),
    ("orders.count() = 1", {"orders": {"id": 1}}, True),  # a scalar counts as one
    ("orders.count() = 2", {"orders": [1, None, 2]}, True),  # null elements are no values
    ("orders.distinct().count() = 2", {"orders": [{"id": 1}, {"id": 1}, {"id": 2}]}, True),
    ("person.favoriteColors.distinct().count() > 1", person(["red", "red"]), False),
    ("person.favoriteColors.distinct().count() > 1", person(["red", "Red"]), True),
    ("tags.distinct().count() = 1", {"tags": [1, 1.0]}, True),  # numbers by value
    ("tags.distinct().count() = 2", {"tags": [1, "1"]}, True),  # a string is not a number
    ("tags.distinct().count() = 2", {"tags": [1, True]}, True),  # nor is a boolean
    ("tags.distinct().count() = 1", {"tags": [{"a": 1, "b": 2}, {"b": 2.0, "a": 1}]}, True),
    ("not (orders.count() > 1)", {}, True),
    ("exists X from orders where X.items.count() >= 2", {"orders": [{"items": [1]}]}, False),
    ("exists X from orders where X.items.count() >= 2", {"orders": [{"items": [1, 2]}]}, True),
    ("orders.items.count() = 3", {"orders": [{"items": [1]}, {"items": [2, 3]}]}, True),
]


@pytest.mark.parametrize(("text", "context", "expected"), EVALUATED)
def test_evaluates_as_documented_and_sqlite_agrees(
    lite: sqlite3.Connection, text: str, context: dict[str, Any], expected: bool
) -> None:
    expr = normalize(parse_pql(text))
    evaluator_and_sqlite_agree(lite, expr, context, expected)


def test_count_values_is_none_without_a_value() -> None:
    assert count_values({"a": None}, ("a",), False) is None
    assert count_values({"a": []}, ("a",), True) == 0
    assert count_values({"l": [{"a": [1, 1]}, {"a": 1}]}, ("l", "a"), True) == 1


REFUSED: list[tuple[str, str]] = [
    ("orders.count()", "count() is a value, not a condition"),
    ("a.distinct() = 1", "distinct() is a list"),
    ('a.count() = "3"', "count() is compared with a number"),
    ("a.count() = b", "comparing count() with an attribute"),
    ("a = b.count()", "comparing an attribute with count()"),
    ('a.intersection(["x"]) = ["y"]', "never true: 'y' is not in the intersected list"),
    ('a.intersection(["x"]) < ["x"]', "compared with = or != only"),
    ('a.intersection(["x"]) = [1]', "hold different types"),
    ("a.subsetOf(b.c)", "comparing two attributes"),
    ('a.includes(["x", "y"])', "includes() takes one value"),
    ('a.intersects(["x", 1])', "one type"),
    ("a.sum(b) > 1", "aggregation .sum()"),
    ("a.distinct().sum() > 1", "aggregation .sum()"),
]


@pytest.mark.parametrize(("text", "reason"), REFUSED)
def test_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(Invalid) as info:
        parse_pql(text)
    assert reason in info.value.reason


# ----------------------------------------------------------------------------- map access

MAPS: list[tuple[str, Expr]] = [
    (
        'identityMap.get("example@example.com").isNotNull()',
        Exists(("identityMap", "example@example.com")),
    ),
    (
        'identityMap.get("Email").id = "a@b.c"',
        Cmp("eq", ("identityMap", "Email", "id"), s("a@b.c")),
    ),
    (
        'identityMap.get("Email").ids.count() > 1',
        Count("gt", ("identityMap", "Email", "ids"), n(1)),
    ),
    ('$1.get("a b") = 1', Cmp("eq", ("a b",), n(1))),
    ('exists X from l where X.get("a-b") = 1', Quant("any", ("l",), Cmp("eq", ("a-b",), n(1)))),
]


@pytest.mark.parametrize(("text", "expected"), MAPS)
def test_map_access_is_a_path_step(text: str, expected: Expr) -> None:
    assert normalize(parse_pql(text)) == expected
    assert parse_pql(render_pql(expected)) == expected
    assert parse_pqljson(render_pqljson(expected)) == expected


def test_pqljson_reads_map_access_too() -> None:
    get = {
        "nodeType": "fnApply",
        "fnName": "get",
        "params": [
            {
                "nodeType": "fieldLookup",
                "fieldName": "identityMap",
                "object": {"nodeType": "parameterReference", "position": 1},
            },
            {"nodeType": "literal", "literalType": "String", "value": "k@x"},
        ],
    }
    node = {"nodeType": "fnApply", "fnName": "isNotNull", "params": [get]}
    assert parse_pqljson(node) == Exists(("identityMap", "k@x"))


def test_names_pql_cannot_write_as_a_step_are_written_with_get() -> None:
    assert render_pql(Cmp("eq", ("o", "x-y", "z"), n(1))) == 'o.get("x-y").z = 1'
    assert render_pql(Cmp("eq", ("not", "a"), n(1))) == "$1.not.a = 1"
    with pytest.raises(NotExpressible):
        render_pql(Cmp("eq", ("o", ""), n(1)))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('identityMap.get("k")', "an attribute alone is not a condition"),
        ("a.get(1) = 2", "get() takes one key"),
        ('a.get("") = 2', "get() takes one key"),
        ("identityMap.keys() = 1", "map function .keys()"),
    ],
)
def test_map_access_refusals(text: str, reason: str) -> None:
    with pytest.raises(Invalid) as info:
        parse_pql(text)
    assert reason in info.value.reason
