"""AST → a parameterised SQL predicate over a JSON column, agreeing exactly with the evaluator.

``to_sql(expr, "postgres" | "sqlite", column, param_start)`` returns ``(sql, params)``: a boolean
expression (never NULL) to put in a ``WHERE``. Values, keys and patterns are always parameters;
the only identifiers are ``column`` (validated) and aliases the compiler makes.

Semantics are those of ``core.expr.evaluate`` (see there), built the same way:

* **Size**: ``And``/``Or`` with many arguments are written as balanced trees (``sql_base``):
  a flat chain of n terms is n levels deep to the database's parser.
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
  SQLite calls RE2 itself through a registered ``segmux_regex`` (``core.expr.matchers``).
* **Segment references** (``SegmentRef``): the caller says what each named segment means
  (``core.expr.sql_refs``, built by ``core.segment_links.sql_refs``): its condition, compiled in
  place over the same individual (the top of its row, even inside a quantifier), a lookup of the
  individual's stored memberships (a static segment), or false (no one without a unit).

Where PostgreSQL cannot be exact, ``NotExpressible("sql", reason)`` is raised: an individual's
segments then fall back to the evaluator (``ProfileSql.segments_of_profile``), a page of members
answers the reason. The cases: a case-insensitive regex over cased characters, regex word
boundaries (``\\b``) and repetition counts above 255, and NUL characters (PostgreSQL text cannot
hold them). On both backends: a ``SegmentRef`` without the caller's meanings, and references
that fan out past ``sql_refs.MAX_INLINED`` named conditions.

This module is the public face; the compiler is split by concept so each dialect reads on its
own: the shared boolean skeleton in ``sql_base``, PostgreSQL (and its SQL functions) in
``sql_postgres``, SQLite (and its registered Python functions) in ``sql_sqlite``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Literal

from core import clock
from core.expr.ast import Expr
from core.expr.normalize import normalize
from core.expr.relative import has_relative, pin
from core.expr.sql_base import LANGUAGE
from core.expr.sql_postgres import (
    PgNode,
    PostgresCompiler,
    apply_postgres_functions,
    casefold_function_sql,
    jsonpath,
    postgres_functions_sql,
)
from core.expr.sql_refs import Condition, Referenced, SqlRefs
from core.expr.sql_sqlite import (
    SQLITE_FUNCTIONS,
    SqliteCompiler,
    SqNode,
    register_aiosqlite_functions,
    register_sqlite_functions,
)

__all__ = [
    "LANGUAGE",
    "SQLITE_FUNCTIONS",
    "Dialect",
    "apply_postgres_functions",
    "casefold_function_sql",
    "jsonpath",
    "postgres_functions_sql",
    "register_aiosqlite_functions",
    "register_sqlite_functions",
    "to_sql",
]

Dialect = Literal["postgres", "sqlite"]
_COLUMN_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?")
_ALIAS_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def to_sql(
    expr: Expr | None,
    dialect: Dialect,
    column: str = "attributes",
    param_start: int = 1,
    refs: SqlRefs | None = None,
) -> tuple[str, list[object]]:
    """A boolean SQL expression over ``column`` that is true exactly where ``expr`` is.
    ``refs`` tells what segment references mean (``core.expr.sql_refs``); without it a
    condition holding one is refused."""
    if not _COLUMN_RE.fullmatch(column):
        raise ValueError(f"not a column reference: {column!r}")
    if refs is not None and not _ALIAS_RE.fullmatch(refs.row):
        raise ValueError(f"not a row alias: {refs.row!r}")
    expr = _pinned(expr)
    if refs is not None:
        refs = replace(refs, resolve=_pinning(refs.resolve))
    if dialect == "postgres":
        pg = PostgresCompiler(param_start, refs)
        pg.top = PgNode(column, top=True)
        return ("TRUE" if expr is None else pg.pred(expr, pg.top)), pg.params
    if dialect == "sqlite":
        lite = SqliteCompiler(refs)
        lite.top = SqNode("'object'", column, None, None, top=True)
        return ("1" if expr is None else lite.pred(expr, lite.top)), lite.params
    raise ValueError(f"unknown SQL dialect {dialect!r}")


def _pinned(expr: Expr | None) -> Expr | None:
    if expr is not None and has_relative(expr):
        # the request's one instant, as the evaluator reads it: the SQL holds fixed bounds
        return normalize(pin(expr, clock.now_us()))
    return expr


def _pinning(resolve: Callable[[str], Referenced]) -> Callable[[str], Referenced]:
    """``resolve`` whose conditions are pinned at the same instant as the one referring."""

    def pinned(slug: str) -> Referenced:
        meaning = resolve(slug)
        if isinstance(meaning, Condition):
            return Condition(_pinned(meaning.expr))
        return meaning

    return pinned
