"""PostgreSQL's jsonpath fast path (``core.expr.sql_jsonpath``) agrees with the evaluator where
it is most likely to be wrong: values on either side of each claim (integers at 2^53, long and
short numeric strings, decimals a double rounds, signs, newlines, lists in lists, booleans as
text) against literals at the same edges, for every operator, sets and string tests; SQLite
runs the same cases (its compiler has no fast path, so it checks the cases themselves).

``test_expr_sql`` covers random conditions over random profiles; this file aims at the edges.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.expr.ast import Cmp, Exists, Expr, In, Lit, Not, Or, StrOp
from core.expr.evaluate import compile_expr
from core.expr.sql import apply_postgres_functions, register_sqlite_functions, to_sql
from tests.examples import examples
from tests.pg import create_database, drop_database, require_pg
from tests.store.test_expr_sql import _Pg

SCALARS: list[Any] = [
    30,
    30.0,
    -30,
    0,
    -0.0,
    29.999999999999996,
    30.000000000000004,
    0.1,
    0.30000000000000004,
    2**53,
    2**53 + 1,
    -(2**53) - 1,
    2**63,
    10**20,
    12345678901234567890,
    1e300,
    5e-324,
    1e16,
    "30",
    "+30",
    "-30",
    "030",
    "-0",
    "30.0",
    "3e1",
    ".5",
    "5.",
    "30\n",
    " 30",
    "3O",
    "123456789012345",
    "1234567890123456",
    "9007199254740993",
    "12345678901234567890",
    "0.1",
    "1e400",
    "Madrid",
    "madrid",
    "Mad",
    "drid",
    "a.b",
    "a\\b",
    "x$",
    "$",
    "",
    "ß",
    "é",
    "true",
    "TRUE",
    "True",
    "false",
    "FALSE",
    True,
    False,
    None,
]
VALUES: list[Any] = [
    *SCALARS,
    [30, "x"],
    ["30"],
    [[30]],
    [["Madrid"]],
    [],
    [None],
    [True, "false"],
    {"v": 30},
    [{"v": "30"}],
]
LITERALS: list[Lit] = [
    *(
        Lit("number", n)
        for n in [30, -30, 0, 0.1, 2**53, 9007199254740993, 1e300, 5e-324, 29.999999999999996, 1e16]
    ),
    *(
        Lit("string", s)
        for s in [
            "30",
            "-30",
            "0.1",
            "Madrid",
            "",
            "1e3",
            "9007199254740992",
            "12345678901234567000",
            "true",
            "a.b",
            "ß",
        ]
    ),
    Lit("bool", True),
    Lit("bool", False),
]
STRINGS = ["Mad", "drid", "a.b", ".", "\\", "$", "", "ß", "30", "b\n"]
PATHS = [("a",), ("o", "a"), ("l", "a")]


def _profile(value: Any, where: tuple[str, ...]) -> dict[str, Any]:
    if where == ("a",):
        return {"a": value}
    if where == ("o", "a"):
        return {"o": {"a": value}}
    return {"l": [{"a": value}, {"b": 1}]}


ROWS = [_profile(v, p) for v in VALUES for p in PATHS] + [{}, {"a": None}, {"o": [1]}]


def atoms() -> st.SearchStrategy[Expr]:
    path = st.sampled_from(PATHS)
    return st.one_of(
        st.builds(
            Cmp,
            st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"]),
            path,
            st.sampled_from(LITERALS),
        ),
        st.builds(In, path, st.lists(st.sampled_from(LITERALS), max_size=3).map(tuple)),
        st.builds(
            StrOp,
            st.sampled_from(["starts_with", "ends_with", "contains"]),
            path,
            st.lists(st.sampled_from(STRINGS), min_size=1, max_size=2).map(tuple),
        ),
        st.builds(Exists, path),
    )


def conditions() -> st.SearchStrategy[Expr]:
    return st.one_of(
        atoms(),
        atoms().map(Not),
        st.lists(atoms(), min_size=2, max_size=2).map(lambda a: Or(tuple(a))),
    )


SETTINGS = settings(
    max_examples=examples(400),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _want(expr: Expr) -> set[int]:
    fn = compile_expr(expr)
    return {i for i, row in enumerate(ROWS) if fn(row)}


@pytest.fixture(scope="module")
def pg() -> Iterator[_Pg]:
    require_pg()
    url = create_database("segmux_fast_path")
    db = _Pg(url)
    try:
        db.run(apply_postgres_functions(db.conn))
        yield db
    finally:
        db.close()
        drop_database(url)


@pytest.mark.postgres
@SETTINGS
@given(expr=conditions())
def test_postgres_fast_path_agrees_at_the_edges(pg: _Pg, expr: Expr) -> None:
    sql, params = to_sql(expr, "postgres", column="p.attributes", param_start=2)
    query = (
        "SELECT o FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS p(attributes, o) "
        f"WHERE {sql}"
    )
    found = pg.run(pg.conn.fetch(query, json.dumps(ROWS), *params))
    got, want = {int(r["o"]) - 1 for r in found}, _want(expr)
    assert got == want, f"{expr}\n{params}\n{[ROWS[i] for i in sorted(got ^ want)][:6]}"


@SETTINGS
@given(expr=conditions())
def test_sqlite_agrees_at_the_same_edges(expr: Expr) -> None:
    sql, params = to_sql(expr, "sqlite")
    conn = sqlite3.connect(":memory:")
    register_sqlite_functions(conn)
    conn.execute("CREATE TABLE profiles (id INTEGER, attributes TEXT)")
    conn.executemany(
        "INSERT INTO profiles VALUES (?, ?)", [(i, json.dumps(p)) for i, p in enumerate(ROWS)]
    )
    got = {r[0] for r in conn.execute(f"SELECT id FROM profiles WHERE {sql}", params)}
    conn.close()
    want = _want(expr)
    assert got == want, f"{expr}\n{[ROWS[i] for i in sorted(got ^ want)][:6]}"


def test_the_common_atoms_take_the_fast_path() -> None:
    """No set-returning subquery for a string equality, a number comparison on integers or
    short numeric strings, a string test or an existence test (the guard keeps it for the
    rest): what makes a members page over 100,000 individuals cheap."""
    for expr in [
        Cmp("eq", ("d", "city", "value"), Lit("string", "Madrid")),
        StrOp("contains", ("d", "job"), ("Engineer",)),
        Exists(("d", "age")),
    ]:
        sql, _ = to_sql(expr, "postgres")
        assert "jsonb_path_query" not in sql, sql
        assert "@?" in sql or "jsonb_path_exists" in sql, sql
    sql, params = to_sql(Cmp("ge", ("d", "age", "value"), Lit("number", 30)), "postgres")
    assert sql.startswith("(COALESCE(jsonb_path_exists(attributes, $1::jsonpath, $2::jsonb)")
    # the literal: a parameter (the jsonpath's variables, one jsonb object)
    assert "@.double() >= $v0" in str(params[0]) and json.loads(str(params[1])) == {"v0": 30}
