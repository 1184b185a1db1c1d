"""The SQL compiler agrees with the evaluator, on SQLite and PostgreSQL, for random conditions
over random profiles (missing, null, strings, numeric strings, numbers, lists, nested objects).

Each case counts the profiles the evaluator puts in the segment and the ones the database
returns; any difference fails with the condition, the SQL and the disagreeing profiles.
``NotExpressible("sql")`` is allowed only for the documented fallbacks.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import NotExpressible
from core.expr.ast import And, Cmp, Exists, Expr, In, Lit, Not, Or, Quant, Regex, SegmentRef, StrOp
from core.expr.evaluate import compile_expr
from core.expr.sql import apply_postgres_functions, register_sqlite_functions, to_sql
from core.expr.sql_refs import Condition, NoMatch, Referenced, SqlRefs, StoredMembers
from tests.examples import examples
from tests.pg import create_database, drop_database, require_pg
from tests.unit.expr import strategies as shared
from tests.unit.expr.ast_strategies import PATHS, exprs, profiles, random_profiles

CORPUS = random_profiles(400)
ALLOWED_FALLBACKS = ("case-insensitive matching", "word boundaries", "segment membership")
SETTINGS = settings(
    max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _expected(expr: Expr, rows: list[dict[str, Any]]) -> set[int]:
    fn = compile_expr(expr)
    return {i for i, row in enumerate(rows) if fn(row)}


def _sql_or_skip(
    expr: Expr, dialect: str, refs: SqlRefs | None = None
) -> tuple[str, list[object]] | None:
    allowed = ALLOWED_FALLBACKS if refs is None else (*ALLOWED_FALLBACKS, "more than")
    column = "attributes" if refs is None else "p.attributes"
    try:
        return to_sql(expr, dialect, column=column, refs=refs)  # type: ignore[arg-type]
    except NotExpressible as exc:
        reason = exc.reason
    assert any(r in reason for r in allowed), reason
    return None


def _explain(expr: Expr, sql: str, rows: list[dict[str, Any]], diff: set[int]) -> str:
    shown = [rows[i] for i in sorted(diff)[:5]]
    return f"\n{expr}\n{sql}\nprofiles: {json.dumps(shown, ensure_ascii=False)}"


# ----------------------------------------------------------------------------- SQLite


@pytest.fixture(scope="module")
def lite() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    register_sqlite_functions(conn)
    conn.execute("CREATE TABLE profiles (id TEXT PRIMARY KEY, attributes TEXT NOT NULL)")
    conn.executemany(
        "INSERT INTO profiles VALUES (?, ?)",
        [(str(i), json.dumps(p)) for i, p in enumerate(CORPUS)],
    )
    yield conn
    conn.close()


def _sqlite_ids(conn: sqlite3.Connection, sql: str, params: list[object]) -> set[int]:
    rows = conn.execute(f"SELECT id FROM profiles WHERE {sql}", params).fetchall()
    return {int(r[0]) for r in rows}


@SETTINGS
@given(expr=exprs())
def test_sqlite_agrees_with_evaluator_on_the_corpus(lite: sqlite3.Connection, expr: Expr) -> None:
    compiled = _sql_or_skip(expr, "sqlite")
    if compiled is None:
        return
    sql, params = compiled
    want, got = _expected(expr, CORPUS), _sqlite_ids(lite, sql, params)
    assert got == want, _explain(expr, sql, CORPUS, got ^ want)


@SETTINGS
@given(expr=exprs(), rows=profiles())
def test_sqlite_agrees_on_random_profiles(expr: Expr, rows: list[dict[str, Any]]) -> None:
    compiled = _sql_or_skip(expr, "sqlite")
    if compiled is None:
        return
    sql, params = compiled
    conn = sqlite3.connect(":memory:")
    register_sqlite_functions(conn)
    conn.execute("CREATE TABLE profiles (id TEXT, attributes TEXT)")
    conn.executemany(
        "INSERT INTO profiles VALUES (?, ?)", [(str(i), json.dumps(p)) for i, p in enumerate(rows)]
    )
    got = _sqlite_ids(conn, sql, params)
    conn.close()
    want = _expected(expr, rows)
    assert got == want, _explain(expr, sql, rows, got ^ want)


# ----------------------------------------------------------------------------- PostgreSQL


class _Pg:
    """One asyncpg connection on a private loop, for sync hypothesis tests."""

    def __init__(self, url: str) -> None:
        import asyncpg

        self.loop = asyncio.new_event_loop()
        self.conn = self.loop.run_until_complete(asyncpg.connect(url))

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.run(self.conn.close())
        self.loop.close()


@pytest.fixture(scope="module")
def pg() -> Iterator[_Pg]:
    require_pg()
    url = create_database("segmux_expr_sql")
    db = _Pg(url)
    try:
        db.run(apply_postgres_functions(db.conn))
        db.run(db.conn.execute("CREATE TABLE profiles (id text PRIMARY KEY, attributes jsonb)"))
        db.run(
            db.conn.executemany(
                "INSERT INTO profiles VALUES ($1, $2::jsonb)",
                [(str(i), json.dumps(p)) for i, p in enumerate(CORPUS)],
            )
        )
        yield db
    finally:
        db.close()
        drop_database(url)


@pytest.mark.postgres
@SETTINGS
@given(expr=exprs())
def test_postgres_agrees_with_evaluator_on_the_corpus(pg: _Pg, expr: Expr) -> None:
    compiled = _sql_or_skip(expr, "postgres")
    if compiled is None:
        return
    sql, params = compiled
    rows = pg.run(pg.conn.fetch(f"SELECT id FROM profiles WHERE {sql}", *params))
    got, want = {int(r["id"]) for r in rows}, _expected(expr, CORPUS)
    assert got == want, _explain(expr, sql, CORPUS, got ^ want)


@pytest.mark.postgres
@SETTINGS
@given(expr=exprs(), rows=profiles())
def test_postgres_agrees_on_random_profiles(
    pg: _Pg, expr: Expr, rows: list[dict[str, Any]]
) -> None:
    compiled = _sql_or_skip(expr, "postgres")
    if compiled is None:
        return
    sql, params = compiled
    # the predicate's own placeholders start at $1; the profiles come last
    query = (
        f"SELECT o FROM jsonb_array_elements(${len(params) + 1}::jsonb) WITH ORDINALITY "
        f"AS p(attributes, o) WHERE {sql}"
    )
    found = pg.run(pg.conn.fetch(query, *params, json.dumps(rows)))
    got, want = {int(r["o"]) - 1 for r in found}, _expected(expr, rows)
    assert got == want, _explain(expr, sql, rows, got ^ want)


# ----------------------------------------------------------------------------- fixed cases

CASES: list[tuple[Expr, list[dict[str, Any]], set[int]]] = [
    # "12.0" is the number 12 (Unleash NUM_EQ)
    (Cmp("eq", ("n",), Lit("number", 12)), [{"n": "12.0"}, {"n": 12}, {"n": "12x"}, {}], {0, 1}),
    # numbers are stringified for string kinds (Unleash IN), booleans are not
    (
        In(("n",), (Lit("string", "12"), Lit("string", "true"))),
        [{"n": 12.0}, {"n": True}, {"n": "true"}],
        {0, 2},
    ),
    # NOT_IN is true on missing and null
    (
        Not(In(("n",), (Lit("string", "a"), Lit("string", "b")))),
        [{}, {"n": None}, {"n": "a"}, {"n": "c"}],
        {0, 1, 3},
    ),
    # any element of a list, through a list of objects
    (
        Cmp("eq", ("l", "a"), Lit("string", "x")),
        [{"l": [{"a": "y"}, {"a": ["x"]}]}, {"l": [[{"a": "x"}]]}],
        {0},
    ),
    # semver pre-release order (Unleash client spec 14)
    (
        Cmp("gt", ("v",), Lit("semver", "2.0.0-alpha.1")),
        [{"v": "2.0.0-beta.1"}, {"v": "2.0.0"}, {"v": "2.0.0-alpha"}, {"v": "v2.0.0"}],
        {0, 1},
    ),
    # all over a missing, null or empty list is true (Confidence allRule)
    (
        Quant("all", ("s",), Cmp("ge", (), Lit("number", 0))),
        [{}, {"s": None}, {"s": []}, {"s": [1, -1]}, {"s": [1, "x"]}, {"s": 5}],
        {0, 1, 2, 5},
    ),
    # string tests see strings only (Confidence: a number never starts with "4")
    (StrOp("starts_with", ("c",), ("4",)), [{"c": 42}, {"c": "42"}], {1}),
    # case folding: Straße ~ STRASSE
    (
        Cmp("eq", ("s",), Lit("string", "strasse"), ci=True),
        [{"s": "STRASSE"}, {"s": "Straße"}],
        {0, 1},
    ),
    # Regex is searched and $ is the end of the text (RE2)
    (Regex(("r",), "b$"), [{"r": "ab"}, {"r": "ab\n"}, {"r": "ba"}], {0}),
]


@pytest.mark.parametrize(("expr", "rows", "want"), CASES)
def test_fixed_cases_sqlite(expr: Expr, rows: list[dict[str, Any]], want: set[int]) -> None:
    assert _expected(expr, rows) == want
    sql, params = to_sql(expr, "sqlite")
    conn = sqlite3.connect(":memory:")
    register_sqlite_functions(conn)
    conn.execute("CREATE TABLE profiles (id TEXT, attributes TEXT)")
    conn.executemany(
        "INSERT INTO profiles VALUES (?, ?)", [(str(i), json.dumps(p)) for i, p in enumerate(rows)]
    )
    assert _sqlite_ids(conn, sql, params) == want


@pytest.mark.postgres
@pytest.mark.parametrize(("expr", "rows", "want"), CASES)
def test_fixed_cases_postgres(
    pg: _Pg, expr: Expr, rows: list[dict[str, Any]], want: set[int]
) -> None:
    sql, params = to_sql(expr, "postgres", column="p.attributes", param_start=2)
    query = (
        "SELECT o FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS p(attributes, o) "
        f"WHERE {sql}"
    )
    found = pg.run(pg.conn.fetch(query, json.dumps(rows), *params))
    assert {int(r["o"]) - 1 for r in found} == want


def test_values_are_never_interpolated() -> None:
    evil = "x'); DROP TABLE profiles; --"
    expr = Cmp("eq", (evil,), Lit("string", evil))
    for dialect in ("postgres", "sqlite"):
        sql, params = to_sql(expr, dialect)  # type: ignore[arg-type]
        assert evil not in sql and "DROP" not in sql
        # a parameter itself, or a value of the one jsonb parameter of a jsonpath's variables
        variables = [
            v
            for p in params
            if isinstance(p, str) and p.startswith("{")
            for v in json.loads(p).values()
        ]
        assert evil in params or evil in variables


def test_segment_refs_without_their_meaning_are_refused() -> None:
    with pytest.raises(NotExpressible) as exc:
        to_sql(SegmentRef("segments/x"), "postgres")
    assert exc.value.language == "sql"


def test_everyone_is_true() -> None:
    assert to_sql(None, "postgres") == ("TRUE", [])
    assert to_sql(None, "sqlite") == ("1", [])


def test_bad_column_is_refused() -> None:
    with pytest.raises(ValueError, match="column"):
        to_sql(None, "sqlite", column="attributes; --")


@SETTINGS
@given(expr=shared.exprs())
def test_sqlite_agrees_on_the_shared_ast_strategy(lite: sqlite3.Connection, expr: Expr) -> None:
    """The other languages' AST strategy (keyword paths, all literal kinds) over the corpus."""
    compiled = _sql_or_skip(expr, "sqlite")
    if compiled is None:
        return
    sql, params = compiled
    want, got = _expected(expr, CORPUS), _sqlite_ids(lite, sql, params)
    assert got == want, _explain(expr, sql, CORPUS, got ^ want)


EDGE_VALUES: list[Any] = [
    "12",
    "12.0",
    "-0",
    "0.1",
    "1e3",
    "1E+05",
    ".5",
    "5.",
    "+3",
    " 5",
    "abc",
    "",
    "1e400",
    "1e-400",
    "2e-324",
    "3e-324",
    "1.7976931348623157e308",
    "1.7976931348623159e308",
    "0x10",
    "1_0",
    "١٢",
    "0." + "0" * 900 + "1",
    "1" + "0" * 400,
    12,
    12.5,
    -0.0,
    1e16,
    1.5e-7,
    12345678901234567890,
    0.30000000000000004,
    1e21,
    True,
    False,
    None,
    [1],
    {"a": 1},
    "2024-01-02",
    "2024-01-02T03:04:05Z",
    "2024-01-02 03:04:05.123456789+05:30",
    "2024-02-30",
    "2024-02-29T00:00:00Z",
    "2023-02-29",
    "0000-01-01",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59.999999Z",
    "9999-12-31T23:59:59-01:00",
    "2024-01-02t03:04:05z",
    "2024-01-02T24:00:00Z",
    1668698178,
    1668698177200,
    1e15,
    -1e11,
    "1.2.3",
    "1.2.3-alpha.1",
    "1.2.3-alpha",
    "1.2.3-alpha.beta",
    "1.2.3+build.5",
    "v1.2.3",
    "01.2.3",
    "1.2.3-01",
    "1.2.3-0a",
    "2.0.0-rc",
    "1.2",
    "1.2.3.4",
    "1.0.1000",
    "1.0.0001",
    "1.2-beta",
    "12345678901.1",
    "1.2.3.4.5",
    "true",
    "TRUE",
    "false",
    "FALSE",
    "True",
    "Straße",
]


@pytest.mark.postgres
def test_postgres_key_functions_match_python(pg: _Pg) -> None:
    from core.expr import kinds

    keys = {
        "segmux_num": kinds.number_key,
        "segmux_str": kinds.string_key,
        "segmux_bool": kinds.bool_key,
        "segmux_ts": kinds.datetime_key,
        "segmux_date": kinds.date_key,
        "segmux_semver": kinds.semver_key,
        "segmux_version": kinds.version_key,
    }
    for value in EDGE_VALUES:
        for fn, py in keys.items():
            got = pg.run(pg.conn.fetchval(f"SELECT {fn}($1::jsonb)", json.dumps(value)))
            assert got == py(value), (fn, value)
    for text in ["Straße", "ǅ", "İstanbul", "ΣΑΣ", "ﬁ", "ABC", "\u212a"]:
        assert pg.run(pg.conn.fetchval("SELECT segmux_casefold($1)", text)) == text.casefold()


def test_postgres_casefold_function_is_in_sync_with_python() -> None:
    from core.expr.sql import casefold_function_sql, postgres_functions_sql

    assert casefold_function_sql() in postgres_functions_sql()


@pytest.mark.postgres
def test_postgres_arithmetic_and_relative_time_at_their_edges(pg: _Pg) -> None:
    """The fixed cases of the arithmetic and relative-time modules, on PostgreSQL: overflow,
    underflow and division by zero are no result there either (never an error), and periods
    end where the evaluator ends them."""
    from core import clock
    from core.expr.pql import parse_pql
    from tests.unit.expr.test_pql_arithmetic import CASES as ARITH
    from tests.unit.expr.test_pql_relative import CASES as RELATIVE
    from tests.unit.expr.test_pql_relative import NOW

    cases = [(t, c, e) for t, c, e in ARITH] + [(t, {"a": v}, e) for t, v, e in RELATIVE]
    with clock.one_clock(NOW):
        for text, context, expected in cases:
            expr = parse_pql(text)
            assert expr is not None
            assert compile_expr(expr)(context) is expected, text
            sql, params = to_sql(expr, "postgres")
            query = f"SELECT {sql} FROM (SELECT ${len(params) + 1}::jsonb AS attributes) AS p"
            row = pg.run(pg.conn.fetchval(query, *params, json.dumps(context)))
            assert row is expected, (text, context, sql)


# ----------------------------------------------------------------------------- segment references

SLUGS = ["s0", "s1", "s2", "s3"]


def _with_refs(max_leaves: int) -> st.SearchStrategy[Expr]:
    """Conditions whose leaves are attribute tests or ``inSegment`` of one of :data:`SLUGS`,
    also inside array quantifiers (a reference there still asks about the whole individual)."""
    leaves = st.one_of(exprs(max_leaves=2), st.sampled_from(SLUGS).map(_ref))

    def extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        return st.one_of(
            st.lists(children, min_size=2, max_size=3).map(lambda a: And(tuple(a))),
            st.lists(children, min_size=2, max_size=3).map(lambda a: Or(tuple(a))),
            children.map(Not),
            st.builds(Quant, st.sampled_from(["any", "all"]), st.sampled_from(PATHS), children),
        )

    return st.recursive(leaves, extend, max_leaves=max_leaves)


def _ref(slug: str) -> Expr:
    return SegmentRef("segments/" + slug)


@st.composite
def _tenants(draw: st.DrawFn) -> tuple[dict[str, Referenced], list[dict[str, Any]], Expr]:
    """The named segments (a condition, possibly naming the others or itself, as a race could
    leave; everyone; stored members; or no one), the individuals and the condition asked."""
    rows = draw(profiles())
    meanings: dict[str, Referenced] = {}
    for slug in SLUGS:
        kind = draw(st.sampled_from(["condition", "condition", "everyone", "static", "none"]))
        if kind == "condition":
            meanings[slug] = Condition(draw(_with_refs(3)))
        elif kind == "everyone":
            meanings[slug] = Condition(None)
        elif kind == "static":
            members = draw(st.sets(st.integers(0, len(rows) - 1)))
            meanings[slug] = StoredMembers(f"id-{slug}:" + ",".join(map(str, sorted(members))))
        else:
            meanings[slug] = NoMatch("archived")
    return meanings, rows, draw(_with_refs(5))


def _members(meaning: StoredMembers) -> set[str]:
    """The identifiers a drawn static segment holds (written into its id by ``_tenants``)."""
    listed = meaning.segment_id.split(":", 1)[1]
    return set(listed.split(",")) if listed else set()


def _expected_with_refs(
    meanings: dict[str, Referenced], rows: list[dict[str, Any]], expr: Expr
) -> set[int]:
    """The evaluator, resolving references as ``core.evaluation`` does: a segment on the path
    being evaluated never matches (a cycle), a static one is its stored members, one that
    serves no one without a unit matches no one, any other its condition."""
    found = set()
    for i, row in enumerate(rows):
        active: list[str] = []

        def resolve(ref: str, context: Any, who: str = str(i), active: list[str] = active) -> bool:
            slug = ref.removeprefix("segments/")
            meaning = meanings.get(slug)
            if slug in active or meaning is None or isinstance(meaning, NoMatch):
                return False
            if isinstance(meaning, StoredMembers):
                return who in _members(meaning)
            active.append(slug)
            try:
                return compile_expr(meaning.expr, resolve)(context)
            finally:
                active.pop()

        if compile_expr(expr, resolve)(row):
            found.add(i)
    return found


def _refs(meanings: dict[str, Referenced]) -> SqlRefs:
    return SqlRefs(lambda slug: meanings.get(slug, NoMatch("no such segment")))


def _individuals(
    meanings: dict[str, Referenced], rows: list[dict[str, Any]]
) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str, str, str]]]:
    """Rows of ``profiles`` (tenant, sandbox, identifier, attributes) and ``memberships``
    (tenant, segment_id, sandbox, profile): the tenant's, and another tenant's and sandbox's
    with the same identifiers and segment ids, which must never count."""
    people = [("t", "prod", str(i), json.dumps(p)) for i, p in enumerate(rows)]
    people += [
        (t, s, str(i), "{}") for t, s in (("u", "prod"), ("t", "dev")) for i in range(len(rows))
    ]
    kept = []
    for meaning in meanings.values():
        if isinstance(meaning, StoredMembers):
            kept += [("t", meaning.segment_id, "prod", who) for who in _members(meaning)]
            others = [str(i) for i in range(len(rows))]
            kept += [("u", meaning.segment_id, "prod", who) for who in others]
            kept += [("t", meaning.segment_id, "dev", who) for who in others]
    return people, kept


Tenant = tuple[dict[str, Referenced], list[dict[str, Any]], Expr]
Rows = list[tuple[str, str, str, str]]


def _referring_case(tenant: Tenant, dialect: str) -> tuple[str, list[object], Rows, Rows] | None:
    """The drawn condition's SQL and parameters, and the rows of both tables."""
    meanings, rows, expr = tenant
    compiled = _sql_or_skip(expr, dialect, _refs(meanings))
    if compiled is None:
        return None
    return (*compiled, *_individuals(meanings, rows))


@SETTINGS
@given(tenant=_tenants())
def test_sqlite_agrees_on_segment_references(
    tenant: Tenant,
) -> None:
    meanings, rows, expr = tenant
    case = _referring_case(tenant, "sqlite")
    if case is None:
        return
    sql, params, people, kept = case
    conn = sqlite3.connect(":memory:")
    register_sqlite_functions(conn)
    conn.execute("CREATE TABLE profiles (tenant, sandbox, identifier, attributes)")
    conn.execute("CREATE TABLE memberships (tenant, segment_id, sandbox, profile)")
    conn.executemany("INSERT INTO profiles VALUES (?, ?, ?, ?)", people)
    conn.executemany("INSERT INTO memberships VALUES (?, ?, ?, ?)", kept)
    found = conn.execute(
        f"SELECT p.identifier FROM profiles p WHERE p.tenant = 't' AND p.sandbox = 'prod' "
        f"AND {sql}",
        params,
    ).fetchall()
    conn.close()
    got, want = {int(r[0]) for r in found}, _expected_with_refs(meanings, rows, expr)
    assert got == want, _explain(expr, sql, rows, got ^ want) + f"\n{meanings}"


@pytest.mark.postgres
@SETTINGS
@given(tenant=_tenants())
def test_postgres_agrees_on_segment_references(pg: _Pg, tenant: Tenant) -> None:
    meanings, rows, expr = tenant
    case = _referring_case(tenant, "postgres")
    if case is None:
        return
    sql, params, people, kept = case

    async def query() -> set[int]:
        async with pg.conn.transaction():
            # temporary tables of the same names shadow the corpus' table for this example
            await pg.conn.execute(
                "CREATE TEMP TABLE profiles (tenant text, sandbox text, identifier text, "
                "attributes jsonb) ON COMMIT DROP"
            )
            await pg.conn.execute(
                "CREATE TEMP TABLE memberships (tenant text, segment_id text, sandbox text, "
                "profile text) ON COMMIT DROP"
            )
            await pg.conn.executemany("INSERT INTO profiles VALUES ($1, $2, $3, $4::jsonb)", people)
            await pg.conn.executemany("INSERT INTO memberships VALUES ($1, $2, $3, $4)", kept)
            found = await pg.conn.fetch(
                "SELECT p.identifier FROM profiles p WHERE p.tenant = 't' AND p.sandbox = 'prod' "
                f"AND {sql}",
                *params,
            )
        return {int(r["identifier"]) for r in found}

    got, want = pg.run(query()), _expected_with_refs(meanings, rows, expr)
    assert got == want, _explain(expr, sql, rows, got ^ want) + f"\n{meanings}"


def test_a_fan_of_references_is_refused_not_expanded() -> None:
    """Each segment naming the next twice would double the statement per level: past
    ``MAX_INLINED`` conditions the compiler refuses (the caller evaluates in Python)."""
    chain = {
        f"s{i}": Condition(Or((_ref(f"s{i + 1}"), And((_ref(f"s{i + 1}"), Exists(("a",)))))))
        for i in range(20)
    }
    chain["s20"] = Condition(Exists(("a",)))
    for dialect in ("postgres", "sqlite"):
        with pytest.raises(NotExpressible, match="more than"):
            to_sql(_ref("s0"), dialect, refs=_refs(chain))  # type: ignore[arg-type]
