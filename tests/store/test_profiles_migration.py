"""The PostgreSQL profiles migration carries the SQL functions the compiled predicates call."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_postgres_migration_includes_the_current_sql_functions() -> None:
    """A change of core/expr/sql_functions_postgres.sql must reach a migration (this one, while
    it is unreleased; a new ``CREATE OR REPLACE`` migration after that)."""
    functions = (ROOT / "core/expr/sql_functions_postgres.sql").read_text()
    migration = (ROOT / "core/store/postgres/migrations/0005_profiles.sql").read_text()
    assert migration.endswith(functions)
