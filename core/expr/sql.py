"""AST → a parameterised SQL predicate over a JSON column, agreeing exactly with the evaluator.

``to_sql(expr, "postgres" | "sqlite", column, param_start)`` returns ``(sql, params)``: a boolean
expression (never NULL) to put in a ``WHERE``. Values, keys and patterns are always parameters;
the only identifiers are ``column`` (validated) and aliases the compiler makes.

Semantics are those of ``core.expr.evaluate`` (see there), built the same way:

* **Paths**: each atom is ``EXISTS`` over the values at its path. PostgreSQL walks the path with a
  lax ``jsonb_path_query`` (lax mode steps into list elements one level, as the evaluator does),
  then opens a final list one level. SQLite walks it with ``json_each`` joins: a key lookup per
  step, and a "the node itself, or its elements if it is a list" join (iterating the node's own
  container again and keeping the same key, so scalars keep their JSON type).
* **Kinds**: each comparison is ``key(value) <op> key(literal)`` with the keys of
  ``core.expr.kinds``. SQLite calls those Python functions (registered by
  :func:`register_sqlite_functions`); PostgreSQL runs their SQL twins from
  ``sql_functions_postgres.sql`` (:func:`postgres_functions_sql`; the PostgreSQL store applies
  it on every open, after its migrations). The literal's key is computed here in Python and
  passed as a parameter.
* **Regex**: PostgreSQL gets the pattern re-emitted as an equivalent ARE (``core.expr.re2``);
  SQLite gets the Python translation and a registered ``regexp``.

Where PostgreSQL cannot be exact, ``NotExpressible("sql", reason)`` is raised and the store falls
back to the evaluator: ``SegmentRef`` (membership lives outside the attributes), a
case-insensitive regex over cased characters, regex word boundaries (``\\b``) and repetition
counts above 255, and NUL characters (PostgreSQL text cannot hold them). SQLite has no fallbacks
but ``SegmentRef``.
"""

from __future__ import annotations

import abc
import functools
import importlib.resources
import json
import re
import sqlite3
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from core.errors import NotExpressible
from core.expr import re2
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
    Path,
    Quant,
    Regex,
    SegmentRef,
    StrOp,
)
from core.expr.evaluate import like_regex
from core.expr.kinds import (
    bool_key,
    date_key,
    datetime_key,
    lit_key,
    number_key,
    semver_key,
    string_key,
    version_key,
)

Dialect = Literal["postgres", "sqlite"]
LANGUAGE = "sql"
_COLUMN_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?")
_SQL_OPS = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_LEAF = "\x01LEAF\x01"
"""Stand-in for the value expression in a test template (never part of a real SQL text)."""


def to_sql(
    expr: Expr | None,
    dialect: Dialect,
    column: str = "attributes",
    param_start: int = 1,
) -> tuple[str, list[object]]:
    """A boolean SQL expression over ``column`` that is true exactly where ``expr`` is."""
    if not _COLUMN_RE.fullmatch(column):
        raise ValueError(f"not a column reference: {column!r}")
    if dialect == "postgres":
        pg = _Postgres(param_start)
        return ("TRUE" if expr is None else pg.pred(expr, _PgNode(column, top=True))), pg.params
    if dialect == "sqlite":
        lite = _Sqlite()
        root = _SqNode("'object'", column, None, None, top=True)
        return ("1" if expr is None else lite.pred(expr, root)), lite.params
    raise ValueError(f"unknown SQL dialect {dialect!r}")


def _refuse(reason: str) -> NotExpressible:
    return NotExpressible(LANGUAGE, reason)


class _Base(abc.ABC):
    """What both dialects share: the boolean structure and dispatch; the parts they spell
    differently are the abstract methods (a test is SQL for one value, given its node)."""

    false = "FALSE"

    def __init__(self) -> None:
        self.params: list[object] = []
        self._aliases = 0

    def alias(self, prefix: str) -> str:
        self._aliases += 1
        return f"{prefix}{self._aliases}"

    def pred(self, expr: Expr, root: Any) -> str:
        if isinstance(expr, And | Or):
            glue = " AND " if isinstance(expr, And) else " OR "
            return "(" + glue.join(self.pred(a, root) for a in expr.args) + ")"
        if isinstance(expr, Not):
            return f"(NOT {self.pred(expr.arg, root)})"
        if isinstance(expr, Exists):
            return self.exists(root, expr.path)
        if isinstance(expr, Quant):
            return self.quant(root, expr)
        if isinstance(expr, SegmentRef):
            raise _refuse("segment membership is resolved outside the profile's attributes")
        test = self.test(expr)
        if test is None:
            return self.false
        assert isinstance(expr, Cmp | In | StrOp | Like | Regex)
        return self.atom(root, expr.path, test)

    def test(self, expr: Expr) -> Callable[[Any], str] | None:
        if isinstance(expr, Cmp):
            return self.cmp(expr)
        if isinstance(expr, In):
            return self.in_(expr)
        if isinstance(expr, StrOp):
            return self.strop(expr) if expr.values else None
        if isinstance(expr, Like):
            return self.like(expr)
        if isinstance(expr, Regex):
            return self.regex(expr)
        raise TypeError(f"not a condition node: {expr!r}")

    # dialect parts
    @abc.abstractmethod
    def exists(self, root: Any, path: Path) -> str:
        """SQL that is true where some non-null value is at ``path`` under ``root``."""

    @abc.abstractmethod
    def quant(self, root: Any, q: Quant) -> str:
        """SQL that is true where ``q.cond`` holds for any/all elements at ``q.path``."""

    @abc.abstractmethod
    def atom(self, root: Any, path: Path, test: Callable[[Any], str]) -> str:
        """SQL that is true where ``test`` (SQL for one value) holds for a value at ``path``."""

    @abc.abstractmethod
    def cmp(self, e: Cmp) -> Callable[[Any], str] | None:
        """The test comparing a value's kind key with the literal's; None if none can match."""

    @abc.abstractmethod
    def in_(self, e: In) -> Callable[[Any], str] | None:
        """The test for a value's key being one of ``e.values``; None if none can match."""

    @abc.abstractmethod
    def strop(self, e: StrOp) -> Callable[[Any], str]:
        """The test for a string value passing ``e.op`` against any of ``e.values``."""

    @abc.abstractmethod
    def like(self, e: Like) -> Callable[[Any], str]:
        """The test for a string value matching the LIKE pattern ``e.pattern`` whole."""

    @abc.abstractmethod
    def regex(self, e: Regex) -> Callable[[Any], str] | None:
        """The test searching ``e.pattern`` in a string value; None if the pattern is invalid."""


def _bool_order(kind: str, op: str) -> bool:
    """Booleans have equality only (Confidence §9): an ordering is always false."""
    return kind == "bool" and op not in ("eq", "ne")


def _literal_key(lit: Lit, ci: bool) -> Any:
    key = lit_key(lit, ci and lit.kind == "string")
    if lit.kind == "bool" and key is not None:
        return bool(key)
    return key


# ----------------------------------------------------------------------------- PostgreSQL


@dataclass(frozen=True)
class _PgNode:
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


def _no_nul(text: str) -> str:
    if "\x00" in text:
        raise _refuse("PostgreSQL text cannot hold NUL characters")
    return text


def jsonpath(path: Path) -> str:
    """A lax SQL/JSON path for the key steps (keys quoted as JSON strings)."""
    return "$" + "".join("." + json.dumps(_no_nul(k), ensure_ascii=False) for k in path)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class _Postgres(_Base):
    def __init__(self, param_start: int) -> None:
        super().__init__()
        self.start = param_start

    def param(self, value: object, cast: str) -> str:
        self.params.append(value)
        return f"${self.start + len(self.params) - 1}::{cast}"

    def leaves(self, root: _PgNode, path: Path) -> tuple[str, str, str]:
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

    def atom(self, root: _PgNode, path: Path, test: Callable[[Any], str]) -> str:
        template = test(_LEAF)
        if not path:
            return f"COALESCE({template.replace(_LEAF, root.sql)}, FALSE)"
        if root.top and len(path) == 1:
            # the common case without a subquery for scalars; $n may be used several times
            value = f"({root.sql} -> {self.param(_no_nul(path[0]), 'text')})"
            e = self.alias("e")
            return (
                f"(CASE WHEN jsonb_typeof({value}) = 'array' THEN EXISTS (SELECT 1 FROM "
                f"jsonb_array_elements({value}) AS {e}(v) "
                f"WHERE {template.replace(_LEAF, e + '.v')})"
                f" ELSE COALESCE({template.replace(_LEAF, value)}, FALSE) END)"
            )
        frm, where, leaf = self.leaves(root, path)
        return f"EXISTS (SELECT 1 FROM {frm} WHERE {where} AND ({template.replace(_LEAF, leaf)}))"

    def exists(self, root: _PgNode, path: Path) -> str:
        if not path:
            return f"(jsonb_typeof({root.sql}) <> 'null')"
        if root.top and len(path) == 1:
            key = self.param(_no_nul(path[0]), "text")
            return f"COALESCE(jsonb_typeof({root.sql} -> {key}) <> 'null', FALSE)"
        n = self.alias("n")
        source = f"jsonb_path_query({root.sql}, {self.param(jsonpath(path), 'jsonpath')})"
        return f"EXISTS (SELECT 1 FROM {source} AS {n}(v) WHERE jsonb_typeof({n}.v) <> 'null')"

    def quant(self, root: _PgNode, q: Quant) -> str:
        frm, where, leaf = self.leaves(root, q.path)
        inner = self.pred(q.cond, _PgNode(leaf))
        if q.q == "any":
            return f"EXISTS (SELECT 1 FROM {frm} WHERE {where} AND {inner})"
        return f"(NOT EXISTS (SELECT 1 FROM {frm} WHERE {where} AND NOT {inner}))"

    def key(self, kind: str, ci: bool) -> str:
        fn = _PG_KEYS[kind][0]
        sql = f"{fn}({_LEAF})"
        if ci and kind == "string":
            sql = f"segmux_casefold({sql})"
        return f'{sql} COLLATE "C"' if kind in _PG_TEXT_KINDS else sql

    def cmp(self, e: Cmp) -> Callable[[Any], str] | None:
        kind = e.value.kind
        expected = _literal_key(e.value, e.ci)
        if expected is None or kind not in _PG_KEYS or _bool_order(kind, e.op):
            return None
        if isinstance(expected, str):
            _no_nul(expected)
        sql = f"{self.key(kind, e.ci)} {_SQL_OPS[e.op]} {self.param(expected, _PG_KEYS[kind][1])}"
        return lambda leaf: sql

    def in_(self, e: In) -> Callable[[Any], str] | None:
        groups: dict[str, list[Any]] = {}
        for lit in e.values:
            k = _literal_key(lit, e.ci)
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
        sql = f"(CASE WHEN jsonb_typeof({_LEAF}) = 'string' THEN {_LEAF} #>> '{{}}' END)"
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
            raise _refuse(f"regex {e.pattern!r}: {exc}") from exc
        sql = f"({self.text(False)} ~ {self.param(pattern, 'text')})"
        return lambda leaf: sql


# ----------------------------------------------------------------------------- SQLite


@dataclass(frozen=True)
class _SqNode:
    """A JSON node as SQLite sees it: ``json_each``'s type and value (JSON text for containers),
    the JSON text it was iterated from and its key there (to find it again)."""

    type: str
    value: str
    container: str | None
    key: str | None
    top: bool = False


class _Sqlite(_Base):
    """``?`` placeholders follow the text order, so a test registers its parameters only when it
    is called with the node, after the path's own parameters."""

    false = "0"

    def param(self, value: object) -> str:
        self.params.append(value)
        return "?"

    def nodes(self, root: _SqNode, path: Path) -> tuple[list[str], list[str], _SqNode]:
        frm: list[str] = []
        where: list[str] = []
        cur = root
        for key in path:
            if cur.top:
                m = self.alias("m")
                frm.append(f"json_each({cur.value}) AS {m}")
                where.append(f"{m}.key = {self.param(key)}")
                cur = _SqNode(f"{m}.type", f"{m}.value", cur.value, f"{m}.key")
                continue
            o, m = self.alias("o"), self.alias("m")
            frm.append(
                f"json_each(CASE WHEN {cur.type} = 'array' THEN {cur.value} "
                f"WHEN {cur.type} = 'object' THEN {cur.container} ELSE '[]' END) AS {o}"
            )
            where.append(
                f"(({cur.type} = 'array' AND {o}.type = 'object') OR "
                f"({cur.type} = 'object' AND {o}.key = {cur.key}))"
            )
            frm.append(
                f"json_each(CASE WHEN {o}.type = 'object' THEN {o}.value ELSE '{{}}' END) AS {m}"
            )
            where.append(f"{m}.key = {self.param(key)}")
            cur = _SqNode(f"{m}.type", f"{m}.value", f"{o}.value", f"{m}.key")
        return frm, where, cur

    def leaves(self, root: _SqNode, path: Path) -> tuple[list[str], list[str], _SqNode]:
        frm, where, m = self.nodes(root, path)
        leaf = self.alias("l")
        own = f"(CASE WHEN {m.type} = 'array' THEN {m.value} ELSE {m.container} END)"
        frm.append(
            f"json_each(CASE WHEN {m.type} = 'array' THEN {m.value} "
            f"WHEN {m.type} = 'null' THEN '[]' ELSE {m.container} END) AS {leaf}"
        )
        where.append(f"({m.type} = 'array' OR ({m.type} <> 'null' AND {leaf}.key = {m.key}))")
        return frm, where, _SqNode(f"{leaf}.type", f"{leaf}.value", own, f"{leaf}.key")

    @staticmethod
    def _exists_sql(frm: list[str], where: list[str], cond: str) -> str:
        return f"EXISTS (SELECT 1 FROM {', '.join(frm)} WHERE {' AND '.join([*where, cond])})"

    def atom(self, root: _SqNode, path: Path, test: Callable[[Any], str]) -> str:
        if not path:
            return "0" if root.top else f"COALESCE({test(root)}, 0)"
        frm, where, leaf = self.leaves(root, path)
        return self._exists_sql(frm, where, f"({test(leaf)})")

    def exists(self, root: _SqNode, path: Path) -> str:
        if not path:
            return "1" if root.top else f"({root.type} <> 'null')"
        frm, where, m = self.nodes(root, path)
        return self._exists_sql(frm, where, f"{m.type} <> 'null'")

    def quant(self, root: _SqNode, q: Quant) -> str:
        if root.top and not q.path:
            return self.pred(q.cond, root)  # the context object is its own only element
        frm, where, leaf = self.leaves(root, q.path)
        inner = self.pred(q.cond, leaf)
        if q.q == "any":
            return self._exists_sql(frm, where, inner)
        return f"(NOT {self._exists_sql(frm, where, f'NOT {inner}')})"

    def cmp(self, e: Cmp) -> Callable[[Any], str] | None:
        kind = e.value.kind
        expected = _literal_key(e.value, e.ci)
        if expected is None or kind not in _SQ_KEYS or _bool_order(kind, e.op):
            return None
        value = int(expected) if kind == "bool" else expected
        op = _SQL_OPS[e.op]
        return lambda n: f"{_sq_key(kind, e.ci, n)} {op} {self.param(value)}"

    def in_(self, e: In) -> Callable[[Any], str] | None:
        groups: dict[str, list[Any]] = {}
        for lit in e.values:
            k = _literal_key(lit, e.ci)
            if k is not None and lit.kind in _SQ_KEYS:
                groups.setdefault(lit.kind, []).append(int(k) if lit.kind == "bool" else k)
        if not groups:
            return None

        def build(n: _SqNode) -> str:
            parts = []
            for kind, keys in groups.items():
                marks = ", ".join(self.param(k) for k in keys)
                parts.append(f"{_sq_key(kind, e.ci, n)} IN ({marks})")
            return "(" + " OR ".join(parts) + ")"

        return build

    @staticmethod
    def text(n: _SqNode, ci: bool) -> str:
        sql = f"segmux_text({n.type}, {n.value})"
        return f"segmux_casefold({sql})" if ci else sql

    def strop(self, e: StrOp) -> Callable[[Any], str]:
        fn = {"starts_with": "segmux_startswith", "ends_with": "segmux_endswith",
              "contains": "segmux_contains"}[e.op]
        values = [v.casefold() if e.ci else v for v in e.values]

        def build(n: _SqNode) -> str:
            text = self.text(n, e.ci)
            return "(" + " OR ".join(f"{fn}({text}, {self.param(v)})" for v in values) + ")"

        return build

    def like(self, e: Like) -> Callable[[Any], str]:
        pattern = e.pattern.casefold() if e.ci else e.pattern
        return lambda n: f"segmux_like({self.text(n, e.ci)}, {self.param(pattern)})"

    def regex(self, e: Regex) -> Callable[[Any], str] | None:
        try:
            pattern = re2.compile_python(e.pattern, e.ci).pattern
        except re2.RegexError:
            return None
        return lambda n: f"regexp({self.param(pattern)}, {self.text(n, False)})"


_SQ_KEYS = {
    "string": "segmux_str", "number": "segmux_num", "bool": "segmux_bool",
    "datetime": "segmux_ts", "date": "segmux_date", "semver": "segmux_semver",
    "version": "segmux_version",
}


def _sq_key(kind: str, ci: bool, n: _SqNode) -> str:
    sql = f"{_SQ_KEYS[kind]}({n.type}, {n.value})"
    return f"segmux_casefold({sql})" if ci and kind == "string" else sql


# ----------------------------------------------------------------------------- SQLite functions


def _json_value(t: str | None, v: Any) -> Any:
    """The Python JSON scalar behind a ``json_each`` (type, value) pair."""
    if t in ("text", "integer", "real"):
        return v
    if t == "true":
        return True
    if t == "false":
        return False
    return None  # null, array, object: no kind has a key for them


def _sq_fn(key: Callable[[Any], Any]) -> Callable[[str | None, Any], Any]:
    def fn(t: str | None, v: Any) -> Any:
        k = key(_json_value(t, v))
        return int(k) if isinstance(k, bool) else k

    return fn


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@functools.lru_cache(maxsize=1024)
def _like(pattern: str) -> re.Pattern[str]:
    return like_regex(pattern, False)


def _regexp(pattern: str | None, value: Any) -> int | None:
    if pattern is None or not isinstance(value, str):
        return None
    return int(_compiled(pattern).search(value) is not None)


def _str2(test: Callable[[str, str], bool]) -> Callable[[Any, Any], int | None]:
    def fn(value: Any, arg: Any) -> int | None:
        if not isinstance(value, str) or not isinstance(arg, str):
            return None
        return int(test(value, arg))

    return fn


SQLITE_FUNCTIONS: list[tuple[str, int, Callable[..., Any]]] = [
    ("segmux_str", 2, _sq_fn(string_key)),
    ("segmux_num", 2, _sq_fn(number_key)),
    ("segmux_bool", 2, _sq_fn(bool_key)),
    ("segmux_ts", 2, _sq_fn(datetime_key)),
    ("segmux_date", 2, _sq_fn(date_key)),
    ("segmux_semver", 2, _sq_fn(semver_key)),
    ("segmux_version", 2, _sq_fn(version_key)),
    ("segmux_text", 2, lambda t, v: v if t == "text" else None),
    ("segmux_casefold", 1, lambda s: s.casefold() if isinstance(s, str) else None),
    ("segmux_startswith", 2, _str2(str.startswith)),
    ("segmux_endswith", 2, _str2(str.endswith)),
    ("segmux_contains", 2, _str2(lambda s, sub: sub in s)),
    ("segmux_like", 2, _str2(lambda s, p: _like(p).fullmatch(s) is not None)),
    ("regexp", 2, _regexp),
]
"""(name, arity, function): all deterministic, so SQLite may use them in indexes."""


def register_sqlite_functions(conn: sqlite3.Connection) -> None:
    """Register the functions the SQLite predicates call (once per connection)."""
    for name, arity, fn in SQLITE_FUNCTIONS:
        conn.create_function(name, arity, fn, deterministic=True)


async def register_aiosqlite_functions(conn: Any) -> None:
    """The same for an ``aiosqlite.Connection``."""
    for name, arity, fn in SQLITE_FUNCTIONS:
        await conn.create_function(name, arity, fn, deterministic=True)


# ----------------------------------------------------------------------------- PostgreSQL functions


def postgres_functions_sql() -> str:
    """The CREATE FUNCTION statements (``sql_functions_postgres.sql``) the predicates call."""
    return importlib.resources.files("core.expr").joinpath("sql_functions_postgres.sql").read_text(
        encoding="utf-8"
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
