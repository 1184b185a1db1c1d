"""The SQLite dialect of the SQL compiler (``core.expr.sql``), and the Python functions it calls.

SQLite walks paths with ``json_each`` joins and has no JSON kinds of its own, so the predicates
call ``segmux_*`` functions that are ``core.expr.kinds`` / ``core.expr.evaluate`` themselves,
registered on each connection; compiler and functions are kept together because one names the
other.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.expr import re2
from core.expr.ast import (
    Arith,
    Cmp,
    CmpAttr,
    Count,
    DatePart,
    In,
    Like,
    Mod,
    Path,
    Quant,
    Regex,
    StrOp,
)
from core.expr.evaluate import attrs_relate, count_values
from core.expr.kinds import (
    arith,
    bool_key,
    date_key,
    date_part,
    datetime_key,
    number_key,
    remainder,
    semver_key,
    strict_number,
    string_key,
    version_key,
)
from core.expr.matchers import PatternRefused, like_matcher, regex_matcher
from core.expr.sql_base import SQL_OPS, SqlCompiler, balanced, bool_order, literal_key


@dataclass(frozen=True)
class SqNode:
    """A JSON node as SQLite sees it: ``json_each``'s type and value (JSON text for containers),
    the JSON text it was iterated from and its key there (to find it again)."""

    type: str
    value: str
    container: str | None
    key: str | None
    top: bool = False


class SqliteCompiler(SqlCompiler):
    """``?`` placeholders follow the text order, so a test registers its parameters only when it
    is called with the node, after the path's own parameters."""

    false = "0"
    true = "1"

    def param(self, value: object) -> str:
        self.params.append(value)
        return "?"

    def id_param(self, value: str) -> str:
        return self.param(value)

    def nodes(self, root: SqNode, path: Path) -> tuple[list[str], list[str], SqNode]:
        frm: list[str] = []
        where: list[str] = []
        cur = root
        for key in path:
            if cur.top:
                m = self.alias("m")
                frm.append(f"json_each({cur.value}) AS {m}")
                where.append(f"{m}.key = {self.param(key)}")
                cur = SqNode(f"{m}.type", f"{m}.value", cur.value, f"{m}.key")
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
            cur = SqNode(f"{m}.type", f"{m}.value", f"{o}.value", f"{m}.key")
        return frm, where, cur

    def leaves(self, root: SqNode, path: Path) -> tuple[list[str], list[str], SqNode]:
        frm, where, m = self.nodes(root, path)
        leaf = self.alias("l")
        own = f"(CASE WHEN {m.type} = 'array' THEN {m.value} ELSE {m.container} END)"
        frm.append(
            f"json_each(CASE WHEN {m.type} = 'array' THEN {m.value} "
            f"WHEN {m.type} = 'null' THEN '[]' ELSE {m.container} END) AS {leaf}"
        )
        where.append(f"({m.type} = 'array' OR ({m.type} <> 'null' AND {leaf}.key = {m.key}))")
        return frm, where, SqNode(f"{leaf}.type", f"{leaf}.value", own, f"{leaf}.key")

    @staticmethod
    def _exists_sql(frm: list[str], where: list[str], cond: str) -> str:
        return f"EXISTS (SELECT 1 FROM {', '.join(frm)} WHERE {' AND '.join([*where, cond])})"

    def atom(self, root: SqNode, path: Path, test: Callable[[Any], str]) -> str:
        if not path:
            return "0" if root.top else f"COALESCE({test(root)}, 0)"
        frm, where, leaf = self.leaves(root, path)
        return self._exists_sql(frm, where, f"({test(leaf)})")

    def exists(self, root: SqNode, path: Path) -> str:
        if not path:
            return "1" if root.top else f"({root.type} <> 'null')"
        frm, where, m = self.nodes(root, path)
        return self._exists_sql(frm, where, f"{m.type} <> 'null'")

    def quant(self, root: SqNode, q: Quant) -> str:
        if root.top and not q.path:
            return self.pred(q.cond, root)  # the context object is its own only element
        frm, where, leaf = self.leaves(root, q.path)
        inner = self.pred(q.cond, leaf)
        if q.q == "any":
            return self._exists_sql(frm, where, inner)
        return f"(NOT {self._exists_sql(frm, where, f'NOT {inner}')})"

    def count(self, root: SqNode, e: Count, op: str, expected: float) -> str:
        # The node (JSON text for a container) goes to the evaluator's own count: one
        # definition of which values there are and which are equal.
        call = (
            f"segmux_count({root.type}, {root.value}, {self.param(json.dumps(list(e.path)))}, "
            f"{self.param(int(e.distinct))})"
        )
        return f"COALESCE({call} {op} {self.param(expected)}, 0)"

    def cmp_attr(self, root: SqNode, e: CmpAttr) -> str:
        call = (
            f"segmux_cmpattr({root.type}, {root.value}, {self.param(e.op)}, "
            f"{self.param(json.dumps(list(e.left)))}, {self.param(json.dumps(list(e.right)))})"
        )
        return f"COALESCE({call}, 0)"

    def arith(self, root: SqNode, e: Arith, expected: float) -> str:
        sides = [json.dumps(list(x) if isinstance(x, tuple) else x) for x in (e.left, e.right)]
        call = (
            f"segmux_arith({root.type}, {root.value}, {self.param(e.fn)}, "
            f"{self.param(sides[0])}, {self.param(sides[1])})"
        )
        return f"COALESCE({call} {SQL_OPS[e.op]} {self.param(expected)}, 0)"

    def mod(self, e: Mod, op: str, expected: float) -> Callable[[Any], str]:
        return lambda n: (
            f"segmux_mod({n.type}, {n.value}, {self.param(e.divisor)}) {op} {self.param(expected)}"
        )

    def datepart(self, e: DatePart, op: str, expected: float) -> Callable[[Any], str]:
        return lambda n: (
            f"segmux_datepart({n.type}, {n.value}, {self.param(e.part)}) {op} "
            f"{self.param(expected)}"
        )

    def cmp(self, e: Cmp) -> Callable[[Any], str] | None:
        kind = e.value.kind
        expected = literal_key(e.value, e.ci)
        if expected is None or kind not in _SQ_KEYS or bool_order(kind, e.op):
            return None
        value = int(expected) if kind == "bool" else expected
        op = SQL_OPS[e.op]
        return lambda n: f"{_sq_key(kind, e.ci, n)} {op} {self.param(value)}"

    def in_(self, e: In) -> Callable[[Any], str] | None:
        groups: dict[str, list[Any]] = {}
        for lit in e.values:
            k = literal_key(lit, e.ci)
            if k is not None and lit.kind in _SQ_KEYS:
                groups.setdefault(lit.kind, []).append(int(k) if lit.kind == "bool" else k)
        if not groups:
            return None

        def build(n: SqNode) -> str:
            parts = []
            for kind, keys in groups.items():
                marks = ", ".join(self.param(k) for k in keys)
                parts.append(f"{_sq_key(kind, e.ci, n)} IN ({marks})")
            return "(" + " OR ".join(parts) + ")"

        return build

    @staticmethod
    def text(n: SqNode, ci: bool) -> str:
        sql = f"segmux_text({n.type}, {n.value})"
        return f"segmux_casefold({sql})" if ci else sql

    def strop(self, e: StrOp) -> Callable[[Any], str]:
        fn = {
            "starts_with": "segmux_startswith",
            "ends_with": "segmux_endswith",
            "contains": "segmux_contains",
        }[e.op]
        values = [v.casefold() if e.ci else v for v in e.values]

        def build(n: SqNode) -> str:
            text = self.text(n, e.ci)
            return balanced([f"{fn}({text}, {self.param(v)})" for v in values], " OR ")

        return build

    def like(self, e: Like) -> Callable[[Any], str]:
        pattern = e.pattern.casefold() if e.ci else e.pattern
        return lambda n: f"segmux_like({self.text(n, e.ci)}, {self.param(pattern)})"

    def regex(self, e: Regex) -> Callable[[Any], str] | None:
        try:
            regex_matcher(e.pattern, e.ci)
        except (re2.RegexError, PatternRefused):
            return None
        ci = int(e.ci)
        return lambda n: (
            f"segmux_regex({self.param(e.pattern)}, {self.param(ci)}, {self.text(n, False)})"
        )


_SQ_KEYS = {
    "string": "segmux_str",
    "number": "segmux_num",
    "bool": "segmux_bool",
    "datetime": "segmux_ts",
    "date": "segmux_date",
    "semver": "segmux_semver",
    "version": "segmux_version",
}


def _sq_key(kind: str, ci: bool, n: SqNode) -> str:
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


def _count(t: str | None, v: Any, path: str, distinct: int) -> int | None:
    """``count_values`` of a ``json_each`` node (containers arrive as their JSON text)."""
    node = json.loads(v) if t in ("object", "array") else _json_value(t, v)
    return count_values(node, tuple(json.loads(path)), bool(distinct))


def _cmpattr(t: str | None, v: Any, op: str, left: str, right: str) -> int:
    """``attrs_relate`` of a ``json_each`` node (containers arrive as their JSON text)."""
    node = json.loads(v) if t in ("object", "array") else _json_value(t, v)
    return int(attrs_relate(op, node, tuple(json.loads(left)), tuple(json.loads(right))))


def _arith(t: str | None, v: Any, fn: str, left: str, right: str) -> float | None:
    """``Arith``'s result over a ``json_each`` node, as the evaluator computes it."""
    node = json.loads(v) if t in ("object", "array") else _json_value(t, v)
    operands = []
    for side in (json.loads(left), json.loads(right)):
        found = strict_number(node, tuple(side)) if isinstance(side, list) else float(side)
        if found is None:
            return None
        operands.append(found)
    return arith(operands[0], operands[1], fn)


def _regex(pattern: Any, ci: Any, value: Any) -> int | None:
    """RE2, as the evaluator runs it (``core.expr.matchers``): linear in the text."""
    if not isinstance(pattern, str) or not isinstance(value, str):
        return None
    try:
        return int(regex_matcher(pattern, bool(ci))(value))
    except (re2.RegexError, PatternRefused):
        return 0


def _like(value: str, pattern: str) -> bool:
    try:
        return like_matcher(pattern)(value)
    except PatternRefused:
        return False


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
    ("segmux_like", 2, _str2(_like)),
    ("segmux_regex", 3, _regex),
    ("segmux_count", 4, _count),
    ("segmux_cmpattr", 5, _cmpattr),
    ("segmux_arith", 5, _arith),
    ("segmux_mod", 3, lambda t, v, divisor: remainder(_json_value(t, v), divisor)),
    ("segmux_datepart", 3, lambda t, v, part: date_part(_json_value(t, v), part)),
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
