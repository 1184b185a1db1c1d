"""The check the PQL construct tests run on every row of their tables: the evaluator gives the
expected answer, and the SQL the store would run gives the same one over the same JSON."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from core.expr.ast import Expr
from core.expr.evaluate import compile_expr
from core.expr.sql import to_sql


def evaluator_and_sqlite_agree(
    lite: sqlite3.Connection, expr: Expr, context: dict[str, Any], expected: bool
) -> None:
    assert compile_expr(expr)(context) is expected
    sql, params = to_sql(expr, "sqlite", column="a")
    row = lite.execute(f"SELECT {sql} FROM (SELECT ? AS a)", [*params, json.dumps(context)])
    assert bool(row.fetchone()[0]) is expected, sql
