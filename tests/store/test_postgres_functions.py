"""The SQL functions the compiled predicates call are code, not schema: ``PostgresStore.migrate``
(re)creates them from ``core/expr/sql_functions_postgres.sql`` after the migrations, on every
open. Opening a store installs them; re-opening (even concurrently, or over stale functions) is
harmless."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import asyncpg
import pytest

from core.expr.sql import postgres_functions_sql
from core.store import open_store
from core.store.migrations import migration_files
from core.store.postgres.backend import PostgresStore
from tests import pg

FUNCTIONS = sorted(re.findall(r"CREATE OR REPLACE FUNCTION (\w+)\(", postgres_functions_sql()))


@pytest.fixture
def url() -> Iterator[str]:
    """A database of its own (never a template copy): the first open migrates it."""
    db = pg.create_database("segmux_fn")
    yield db
    pg.drop_database(db)


async def installed(url: str) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace "
            "AND proname LIKE 'segmux\\_%' ORDER BY proname"
        )
        return [r["proname"] for r in rows]
    finally:
        await conn.close()


def test_the_functions_file_is_only_create_or_replace() -> None:
    """Idempotent by construction: it runs on every open."""
    statements = re.findall(r"^\s*(?:CREATE|DROP|ALTER)\b[^\n]*", postgres_functions_sql(), re.M)
    allowed = ("CREATE OR REPLACE FUNCTION ", "DROP FUNCTION IF EXISTS ")
    assert all(s.lstrip().startswith(allowed) for s in statements), statements
    assert len(FUNCTIONS) == len(set(FUNCTIONS)) == 21


def test_no_migration_calls_the_functions() -> None:
    """They are applied after pending migrations; an index or constraint calling one would need
    them applied before too."""
    for version, sql in migration_files("core.store.postgres"):
        called = set(re.findall(r"\b(segmux_\w+)\s*\(", sql)) & set(FUNCTIONS)
        assert not called, f"migration {version} calls {sorted(called)}"


@pytest.mark.postgres
async def test_opening_a_store_installs_the_functions(url: str) -> None:
    store = await open_store(url)
    try:
        assert isinstance(store, PostgresStore)
        async with store._read() as tx:
            row = await tx.fetchrow(
                "SELECT segmux_num('\"42\"'::jsonb) AS n, segmux_casefold('STRASSE ẞ') AS f"
            )
        assert row is not None and row["n"] == 42.0 and row["f"] == "strasse ss"
    finally:
        await store.close()
    assert await installed(url) == FUNCTIONS


@pytest.mark.postgres
async def test_reopening_is_harmless(url: str) -> None:
    store = await open_store(url)
    assert isinstance(store, PostgresStore)
    await store.ensure_tenant("tenant-a")
    await store.create_profile("tenant-a", "box", "ana", {"age": 30})
    assert await store.migrate() == []  # no migration twice; the functions again
    await store.close()
    # a database whose functions are stale (another version created them) gets the current ones
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "CREATE OR REPLACE FUNCTION segmux_num_text(f double precision) RETURNS text "
            "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$ SELECT 'stale' $fn$"
        )
    finally:
        await conn.close()

    stores = await asyncio.gather(*(open_store(url) for _ in range(3)))  # under the lock
    try:
        assert isinstance(stores[0], PostgresStore)
        async with stores[0]._read() as tx:
            row = await tx.fetchrow("SELECT segmux_num_text(2.50::double precision) AS t")
            migrated = await tx.fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert row is not None and row["t"] == "2.5"
        assert [r["version"] for r in migrated] == [
            v for v, _ in migration_files("core.store.postgres")
        ]
        assert (await stores[1].get_profile("tenant-a", "box", "ana")).attributes == {"age": 30}
    finally:
        for s in stores:
            await s.close()
    assert await installed(url) == FUNCTIONS
