"""The PostgreSQL dialect of the SQL compiler (``core.expr.sql``), and its SQL functions.

PostgreSQL walks paths with lax ``jsonb_path_query`` and compares kind keys computed by the
``segmux_*`` SQL functions of ``sql_functions_postgres.sql`` (inlined into the query by the
planner); where it cannot be exact (NUL characters, some regexes) it raises ``NotExpressible``.
The common atoms on a path from the profile's root first try a jsonpath filter
(``sql_jsonpath``), which answers for most values without a subquery; the general predicate
then runs only for profiles holding a value the filter does not claim. The functions' loader
and the generator of ``segmux_casefold`` sit here too, since they exist only for this dialect's
predicates.
"""

from __future__ import annotations

import importlib.resources
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.expr import re2
from core.expr.ast import (
    Arith,
    Cmp,
    CmpAttr,
    Count,
    DatePart,
    Exists,
    Expr,
    In,
    Like,
    Mod,
    Path,
    Quant,
    Regex,
    StrOp,
)
from core.expr.sql_base import LEAF, SQL_OPS, SqlCompiler, bool_order, literal_key, refuse
from core.expr.sql_jsonpath import path_filter
from core.expr.sql_refs import SqlRefs


@dataclass(frozen=True)
class PgNode:
    sql: str
    """A jsonb expression."""
    top: bool = False
    """The profile's attributes column (a JSON object)."""


_PG_KEYS = {
    "string": ("segmux_str", "text"),
    "number": ("segmux_num", "float8"),
    "bool": ("segmux_bool", "boolean"),
    "datetime": ("segmux_ts", "int8"),
    "date": ("segmux_date", "int8"),
    "semver": ("segmux_semver", "text"),
    "version": ("segmux_version", "text"),
}
_PG_TEXT_KINDS = frozenset({"string", "semver", "version"})
_DATE_FIELDS = {"year": "YEAR", "month": "MONTH", "day": "DAY"}


def _no_nul(text: str) -> str:
    if "\x00" in text:
        raise refuse("PostgreSQL text cannot hold NUL characters")
    return text


def jsonpath(path: Path) -> str:
    """A lax SQL/JSON path for the key steps (keys quoted as JSON strings)."""
    return "$" + "".join("." + json.dumps(_no_nul(k), ensure_ascii=False) for k in path)


def _variables_json(variables: dict[str, str | Decimal]) -> str:
    """The JSON object text of a jsonpath's variables. A number is written as its ``Decimal``
    (the double's exact value), which a JSON number in ``jsonb`` (a ``numeric``) keeps exactly."""
    return (
        "{"
        + ",".join(
            json.dumps(name)
            + ":"
            + (str(value) if isinstance(value, Decimal) else json.dumps(value, ensure_ascii=False))
            for name, value in variables.items()
        )
        + "}"
    )


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class PostgresCompiler(SqlCompiler):
    def __init__(self, param_start: int, refs: SqlRefs | None = None) -> None:
        super().__init__(refs)
        self.start = param_start

    def id_param(self, value: str) -> str:
        return self.param(_no_nul(value), "text")

    def param(self, value: object, cast: str) -> str:
        self.params.append(value)
        return f"${self.start + len(self.params) - 1}::{cast}"

    def pred(self, expr: Expr, root: Any) -> str:
        """An atom on a path from the profile's root takes the jsonpath fast path when it has
        one (``sql_jsonpath``): ``exact OR (guard AND general)``, the general predicate only
        for profiles holding a value the filter does not claim. ``COALESCE``: ``@?`` is NULL
        on an error, never here, but a predicate must never be NULL."""
        if isinstance(root, PgNode) and root.top and isinstance(expr, Cmp | In | StrOp | Exists):
            found = path_filter(expr, jsonpath(expr.path)) if expr.path else None
            if found is not None:
                sql = self.path_exists(root, found.exact, found.variables)
                if found.guard is None:
                    return sql
                guard = f"COALESCE({root.sql} @? {self.param(found.guard, 'jsonpath')}, FALSE)"
                return f"({sql} OR ({guard} AND {super().pred(expr, root)}))"
        return super().pred(expr, root)

    def path_exists(self, root: PgNode, path: str, variables: dict[str, str | Decimal]) -> str:
        """Whether ``path`` selects anything, its variables (literals) passed as one ``jsonb``
        parameter: a constant, so once per statement and however many literals there are (a
        ``jsonb_build_object`` of them would stop at 50: it takes at most 100 arguments)."""
        if not variables:
            return f"COALESCE({root.sql} @? {self.param(path, 'jsonpath')}, FALSE)"
        return (
            f"COALESCE(jsonb_path_exists({root.sql}, {self.param(path, 'jsonpath')}, "
            f"{self.param(_variables_json(variables), 'jsonb')}), FALSE)"
        )

    def leaves(self, root: PgNode, path: Path) -> tuple[str, str, str]:
        """FROM items, their WHERE condition and the leaf expression for the values at path."""
        n, leaf = self.alias("n"), self.alias("l")
        if path:
            source = f"jsonb_path_query({root.sql}, {self.param(jsonpath(path), 'jsonpath')})"
        else:
            source = f"(SELECT {root.sql})"
        opened = (
            f"jsonb_array_elements(CASE WHEN jsonb_typeof({n}.v) = 'array' THEN {n}.v "
            f"ELSE jsonb_build_array({n}.v) END)"
        )
        return (
            f"{source} AS {n}(v) CROSS JOIN LATERAL {opened} AS {leaf}(v)",
            f"jsonb_typeof({n}.v) <> 'null'",
            f"{leaf}.v",
        )

    def atom(self, root: PgNode, path: Path, test: Callable[[Any], str]) -> str:
        template = test(LEAF)
        if not path:
            return f"COALESCE({template.replace(LEAF, root.sql)}, FALSE)"
        if root.top and len(path) == 1:
            # the common case without a subquery for scalars; $n may be used several times
            value = f"({root.sql} -> {self.param(_no_nul(path[0]), 'text')})"
            e = self.alias("e")
            return (
                f"(CASE WHEN jsonb_typeof({value}) = 'array' THEN EXISTS (SELECT 1 FROM "
                f"jsonb_array_elements({value}) AS {e}(v) "
                f"WHERE {template.replace(LEAF, e + '.v')})"
                f" ELSE COALESCE({template.replace(LEAF, value)}, FALSE) END)"
            )
        frm, where, leaf = self.leaves(root, path)
        return f"EXISTS (SELECT 1 FROM {frm} WHERE {where} AND ({template.replace(LEAF, leaf)}))"

    def exists(self, root: PgNode, path: Path) -> str:
        if not path:
            return f"(jsonb_typeof({root.sql}) <> 'null')"
        if root.top and len(path) == 1:
            key = self.param(_no_nul(path[0]), "text")
            return f"COALESCE(jsonb_typeof({root.sql} -> {key}) <> 'null', FALSE)"
        n = self.alias("n")
        source = f"jsonb_path_query({root.sql}, {self.param(jsonpath(path), 'jsonpath')})"
        return f"EXISTS (SELECT 1 FROM {source} AS {n}(v) WHERE jsonb_typeof({n}.v) <> 'null')"

    def quant(self, root: PgNode, q: Quant) -> str:
        frm, where, leaf = self.leaves(root, q.path)
        inner = self.pred(q.cond, PgNode(leaf))
        if q.q == "any":
            return f"EXISTS (SELECT 1 FROM {frm} WHERE {where} AND {inner})"
        return f"(NOT EXISTS (SELECT 1 FROM {frm} WHERE {where} AND NOT {inner}))"

    def count(self, root: PgNode, e: Count, op: str, expected: float) -> str:
        """The nodes at the path (lax, as ``leaves``), each opened one level: no row with a
        non-null node means no count (NULL, so the comparison is false)."""
        n, leaf = self.alias("n"), self.alias("l")
        if e.path:
            source = f"jsonb_path_query({root.sql}, {self.param(jsonpath(e.path), 'jsonpath')})"
        else:
            source = f"(SELECT {root.sql})"
        opened = (
            f"jsonb_array_elements(CASE jsonb_typeof({n}.v) WHEN 'array' THEN {n}.v "
            f"WHEN 'null' THEN '[]'::jsonb ELSE jsonb_build_array({n}.v) END)"
        )
        counted = f"DISTINCT {leaf}.v" if e.distinct else f"{leaf}.v"
        total = (
            f"(SELECT CASE WHEN bool_or(jsonb_typeof({n}.v) <> 'null') "
            f"THEN count({counted}) FILTER (WHERE jsonb_typeof({leaf}.v) <> 'null') END "
            f"FROM {source} AS {n}(v) LEFT JOIN LATERAL {opened} AS {leaf}(v) ON TRUE)"
        )
        return f"COALESCE({total} {op} {self.param(expected, 'float8')}, FALSE)"

    def side(self, root: PgNode, path: Path) -> str:
        """A subquery of the values at ``path`` (column ``v``): the nodes, each opened one level,
        nulls left out; the node itself for ``()`` (as ``evaluate._typed_keys``)."""
        if not path:
            return f"(SELECT {root.sql} AS v)"
        n, leaf = self.alias("n"), self.alias("l")
        source = f"jsonb_path_query({root.sql}, {self.param(jsonpath(path), 'jsonpath')})"
        opened = (
            f"jsonb_array_elements(CASE WHEN jsonb_typeof({n}.v) = 'array' THEN {n}.v "
            f"ELSE jsonb_build_array({n}.v) END)"
        )
        return (
            f"(SELECT {leaf}.v FROM {source} AS {n}(v) CROSS JOIN LATERAL {opened} AS {leaf}(v) "
            f"WHERE jsonb_typeof({n}.v) <> 'null')"
        )

    def cmp_attr(self, root: PgNode, e: CmpAttr) -> str:
        """``evaluate.attrs_relate`` in SQL: a join for ``=``, distinct values per type for
        ``!=``, and per-type bounds for the orderings, so long lists cost linear time."""
        a, b = self.alias("a"), self.alias("b")
        scalar = "('string', 'number', 'boolean')"
        if e.op in ("eq", "ne"):  # parameters are numbered as written: sides made here
            left, right = self.side(root, e.left), self.side(root, e.right)
        if e.op == "eq":
            return (
                f"EXISTS (SELECT 1 FROM {left} AS {a} JOIN {right} AS {b} ON {a}.v = {b}.v "
                f"WHERE jsonb_typeof({a}.v) IN {scalar})"
            )
        if e.op == "ne":
            u = self.alias("u")
            return (
                f"EXISTS (SELECT 1 FROM (SELECT 1 AS s, v FROM {left} AS {a} UNION ALL "
                f"SELECT 2, v FROM {right} AS {b}) AS {u} WHERE jsonb_typeof({u}.v) IN {scalar} "
                f"GROUP BY jsonb_typeof({u}.v) HAVING bool_or({u}.s = 1) AND bool_or({u}.s = 2) "
                f"AND count(DISTINCT {u}.v) > 1)"
            )
        one, other = ("min", "max") if e.op in ("lt", "le") else ("max", "min")
        op = SQL_OPS[e.op]
        parts = []
        for kind, key in (
            ("number", "{}.v::numeric"),
            ("string", "({}.v #>> '{{}}') COLLATE \"C\""),
        ):
            # each side is walked again per type: the subqueries are independent scalars
            x, y = self.alias("x"), self.alias("y")
            lo = self.side(root, e.left)
            hi = self.side(root, e.right)
            parts.append(
                f"COALESCE((SELECT {one}({key.format(x)}) FROM {lo} AS {x} "
                f"WHERE jsonb_typeof({x}.v) = '{kind}') {op} "
                f"(SELECT {other}({key.format(y)}) FROM {hi} AS {y} "
                f"WHERE jsonb_typeof({y}.v) = '{kind}'), FALSE)"
            )
        return "(" + " OR ".join(parts) + ")"

    def arith(self, root: PgNode, e: Arith, expected: float) -> str:
        """``segmux_arith`` of the operands; a path's operand is read in jsonpath's strict
        mode, which opens no list and (silenced) yields nothing on a list or a scalar."""
        sides = []
        for side in (e.left, e.right):
            if isinstance(side, tuple):
                path = "strict $" + "".join(
                    "." + json.dumps(_no_nul(k), ensure_ascii=False) for k in side
                )
                strict = self.param(path, "jsonpath")
                found = f"jsonb_path_query_first({root.sql}, {strict}, '{{}}', true)"
                sides.append(f"segmux_num({found})")
            else:
                sides.append(self.param(float(side), "float8"))
        fn = self.param(e.fn, "text")
        result = f"segmux_arith({sides[0]}, {sides[1]}, {fn})"
        return f"COALESCE({result} {SQL_OPS[e.op]} {self.param(expected, 'float8')}, false)"

    def mod(self, e: Mod, op: str, expected: float) -> Callable[[Any], str]:
        """``kinds.remainder``: bigint ``%`` has the dividend's sign, as ``math.fmod``."""
        f = f"segmux_num({LEAF})"
        divisor = self.param(e.divisor, "int8")
        rem = (
            f"(CASE WHEN {f} = trunc({f}) AND abs({f}) < 9007199254740992 "
            f"THEN ({f})::int8 % {divisor} END)"
        )
        sql = f"({rem}::float8 {op} {self.param(expected, 'float8')})"
        return lambda leaf: sql

    def datepart(self, e: DatePart, op: str, expected: float) -> Callable[[Any], str]:
        field = _DATE_FIELDS[e.part]  # a fixed word, never the client's text
        day = f"(DATE '1970-01-01' + segmux_date({LEAF})::int)"
        sql = f"(EXTRACT({field} FROM {day})::float8 {op} {self.param(expected, 'float8')})"
        return lambda leaf: sql

    def key(self, kind: str, ci: bool) -> str:
        fn = _PG_KEYS[kind][0]
        sql = f"{fn}({LEAF})"
        if ci and kind == "string":
            sql = f"segmux_casefold({sql})"
        return f'{sql} COLLATE "C"' if kind in _PG_TEXT_KINDS else sql

    def cmp(self, e: Cmp) -> Callable[[Any], str] | None:
        kind = e.value.kind
        expected = literal_key(e.value, e.ci)
        if expected is None or kind not in _PG_KEYS or bool_order(kind, e.op):
            return None
        if isinstance(expected, str):
            _no_nul(expected)
        sql = f"{self.key(kind, e.ci)} {SQL_OPS[e.op]} {self.param(expected, _PG_KEYS[kind][1])}"
        return lambda leaf: sql

    def in_(self, e: In) -> Callable[[Any], str] | None:
        groups: dict[str, list[Any]] = {}
        for lit in e.values:
            k = literal_key(lit, e.ci)
            if k is not None and lit.kind in _PG_KEYS:
                if isinstance(k, str):
                    _no_nul(k)
                groups.setdefault(lit.kind, []).append(k)
        if not groups:
            return None
        parts = [
            f"{self.key(kind, e.ci)} = ANY({self.param(keys, _PG_KEYS[kind][1] + '[]')})"
            for kind, keys in groups.items()
        ]
        sql = "(" + " OR ".join(parts) + ")"
        return lambda leaf: sql

    def text(self, ci: bool) -> str:
        sql = f"(CASE WHEN jsonb_typeof({LEAF}) = 'string' THEN {LEAF} #>> '{{}}' END)"
        return f"segmux_casefold({sql})" if ci else sql

    def strop(self, e: StrOp) -> Callable[[Any], str]:
        values = [_no_nul(v.casefold() if e.ci else v) for v in e.values]
        wrap = {"starts_with": "{}%", "ends_with": "%{}", "contains": "%{}%"}[e.op]
        patterns = [wrap.format(_like_escape(v)) for v in values]
        sql = f"({self.text(e.ci)} LIKE ANY({self.param(patterns, 'text[]')}))"
        return lambda leaf: sql

    def like(self, e: Like) -> Callable[[Any], str]:
        pattern = _no_nul(e.pattern.casefold() if e.ci else e.pattern)
        sql = f"({self.text(e.ci)} LIKE {self.param(pattern, 'text')} ESCAPE '')"
        return lambda leaf: sql

    def regex(self, e: Regex) -> Callable[[Any], str] | None:
        try:
            pattern = re2.postgres_pattern(e.pattern, e.ci)
        except re2.RegexError:
            return None  # never matches, as in the evaluator
        except re2.SqlUnsupported as exc:
            raise refuse(f"regex {e.pattern!r}: {exc}") from exc
        sql = f"({self.text(False)} ~ {self.param(pattern, 'text')})"
        return lambda leaf: sql


# ----------------------------------------------------------------------------- PostgreSQL functions


def postgres_functions_sql() -> str:
    """The CREATE FUNCTION statements (``sql_functions_postgres.sql``) the predicates call."""
    return (
        importlib.resources.files("core.expr")
        .joinpath("sql_functions_postgres.sql")
        .read_text(encoding="utf-8")
    )


async def apply_postgres_functions(conn: Any) -> None:
    """Install the functions on an ``asyncpg`` connection (tests; ``PostgresStore.migrate``
    applies them on every open)."""
    await conn.execute(postgres_functions_sql())


def casefold_function_sql() -> str:
    """``segmux_casefold(text)``: Python's ``str.casefold`` in SQL, generated from this Python's
    Unicode tables (the .sql file holds the output; a test keeps them in sync)."""
    singles: list[tuple[str, str]] = []
    multis: list[tuple[str, str]] = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF or cp < 0x80:
            continue
        c = chr(cp)
        folded = c.casefold()
        if folded == c:
            continue
        assert all(x.casefold() == x for x in folded), "casefold must be idempotent"
        (singles if len(folded) == 1 else multis).append((c, folded))

    def lit(text: str) -> str:
        return "U&'" + "".join(f"\\+{ord(ch):06X}" for ch in text) + "'"

    body = "t"
    for src, dst in multis:
        body = f"replace({body}, {lit(src)}, {lit(dst)})"
    upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    src = upper + "".join(s for s, _ in singles)
    dst = upper.lower() + "".join(d for _, d in singles)
    ascii_only = f"translate(t, '{upper}', '{upper.lower()}')"
    return (
        "-- generated by core.expr.sql.casefold_function_sql() from Python's Unicode "
        f"{unicodedata.unidata_version} tables\n"
        "CREATE OR REPLACE FUNCTION segmux_casefold(t text) RETURNS text\n"
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$\n"
        f"  SELECT CASE WHEN octet_length(t) = char_length(t) THEN {ascii_only}\n"
        f"  ELSE translate({body}, {lit(src)}, {lit(dst)}) END\n"
        "$fn$;\n"
    )
