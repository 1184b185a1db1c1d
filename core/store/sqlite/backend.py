"""The embedded store: one SQLite file in WAL mode through aiosqlite.

One writer connection, guarded by an asyncio lock, runs every write as ``BEGIN IMMEDIATE`` so
writes from this process are serialised and writes from other processes (the CLI) wait on the
file lock (``busy_timeout``). A second connection serves reads, which WAL lets run beside writes.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, NoReturn, cast

import aiosqlite

from core.errors import Conflict, CoreError, InUse, Unavailable
from core.expr.sql import register_aiosqlite_functions
from core.model import Principal, now_us
from core.store.clients import CLIENT_UNIQUE_COLUMNS
from core.store.flags import FLAG_UNIQUE_COLUMNS, SEGMENT_IN_USE
from core.store.migrations import CREATE_TABLE, migration_files
from core.store.profile_keys import register_sqlite_sort_functions
from core.store.revisions import RevisionSql
from core.store.sql import CONFLICT_MESSAGES, Row, SqlStore

_PLACEHOLDER = re.compile(r"\$(\d+)")
# SQLite names the columns of a failed UNIQUE constraint, not the constraint.
_UNIQUE_COLUMNS = {
    "segments.tenant, segments.sandbox, segments.name": "name",
    "segments.tenant, segments.seq": "seq",
    "segments.tenant, segments.slug": "slug",
    "segments.tenant, segments.id": "id",
    "tokens.client_id": "client_id",
    "tokens.hash": "token",
    **FLAG_UNIQUE_COLUMNS,
    **CLIENT_UNIQUE_COLUMNS,
}


def _sql(text: str) -> str:
    return _PLACEHOLDER.sub(r"?\1", text)


def _map_error(exc: sqlite3.Error) -> CoreError | None:
    text = str(exc)
    if isinstance(exc, sqlite3.IntegrityError) and text.startswith("UNIQUE constraint failed: "):
        field = _UNIQUE_COLUMNS.get(text.removeprefix("UNIQUE constraint failed: "), "unique")
        return Conflict(field, CONFLICT_MESSAGES.get(field, "already exists"))
    if isinstance(exc, sqlite3.IntegrityError) and text == "FOREIGN KEY constraint failed":
        # SQLite does not say which key. Writes are serialised and check every reference they
        # insert first, so the one violation left is removing a row still referenced: in the
        # schema only a segment can be (rule_segments); nothing else referenced is deleted.
        return InUse(SEGMENT_IN_USE)
    if isinstance(exc, sqlite3.OperationalError):
        return Unavailable(f"the SQLite store failed: {text}")
    return None


def _raise_mapped(exc: sqlite3.Error) -> NoReturn:
    mapped = _map_error(exc)
    if mapped is None:
        raise exc
    raise mapped from exc


class _Tx:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]:
        async with self._conn.execute(_sql(sql), args) as cur:
            # sqlite3.Row is a mapping in all but name (keys() and [] by column name).
            return cast(list[Row], list(await cur.fetchall()))

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        async with self._conn.execute(_sql(sql), args) as cur:
            row = await cur.fetchone()
            # Drain the statement so RETURNING writes complete before the commit.
            await cur.fetchall()
            return cast(Row | None, row)

    async def execute(self, sql: str, *args: Any) -> None:
        await self._conn.execute(_sql(sql), args)


class _QuickTx:
    """Reads on the event loop's own thread through a plain ``sqlite3`` connection: for
    single-row primary-key lookups a round trip to aiosqlite's thread costs ten times the read."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]:
        return cast(list[Row], self._conn.execute(_sql(sql), args).fetchall())

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        return cast(Row | None, self._conn.execute(_sql(sql), args).fetchone())

    async def execute(self, sql: str, *args: Any) -> None:
        raise RuntimeError("the quick reader is read-only")


_QUICK: ContextVar[bool] = ContextVar("segmux_sqlite_quick_read", default=False)
_QUICK_BUSY_MS = 50
"""A WAL reader waits for nothing but a rare WAL recovery; if it ever does, give up after this
long and take the ordinary (threaded) reader instead of blocking the event loop."""


class SqliteStore(RevisionSql, SqlStore):
    greatest = "max"

    async def token_epoch(self) -> int | None:
        # No token cache on SQLite: another process (``segmux tokens revoke``) may revoke, and
        # the check that would notice (``PRAGMA data_version``) costs the same one round trip to
        # the reader thread as the indexed lookup it would save.
        return None

    def _extension_text(self, path: tuple[str, ...], first: int) -> tuple[str, list[Any]]:
        # json_type names a JSON boolean 'true'/'false', as PostgreSQL's text of it reads.
        steps = "".join('."' + step.replace('"', '""') + '"' for step in path)
        return f"json_type(extensions, ${first})", ["$" + steps]

    def __init__(self, url: str, path: str) -> None:
        self.url = url
        self.path = path
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._quick: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, url: str, path: str) -> SqliteStore:
        store = cls(url, path)
        store._writer = await store._connect()
        await store._migrate()
        # An in-memory database exists once per connection: reads must share the writer.
        store._reader = store._writer if path == ":memory:" else await store._connect()
        if path != ":memory:":
            quick = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            quick.row_factory = sqlite3.Row
            quick.execute(f"PRAGMA busy_timeout={_QUICK_BUSY_MS}")
            quick.execute("PRAGMA query_only=ON")
            store._quick = quick
        return store

    async def _quickly(self, read: Any, *args: Any) -> Any:
        """``read(*args)`` with its reads on the quick reader (the threaded one as a fallback)."""
        if self._quick is None:
            return await read(*args)
        token = _QUICK.set(True)
        try:
            return await read(*args)
        except Unavailable:  # busy past _QUICK_BUSY_MS: take the ordinary reader
            _QUICK.reset(token)
            token = _QUICK.set(False)
            return await read(*args)
        finally:
            _QUICK.reset(token)

    async def tenant_revision(self, tenant: str) -> int:
        return int(await self._quickly(super().tenant_revision, tenant))

    async def principal_for(self, token_hash: str) -> Principal | None:
        found: Principal | None = await self._quickly(super().principal_for, token_hash)
        return found

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA busy_timeout=5000")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA synchronous=NORMAL")
        # The functions the compiled segment predicates (core.expr.sql) and profile sorts call.
        await register_aiosqlite_functions(conn)
        await register_sqlite_sort_functions(conn)
        return conn

    async def _migrate(self) -> None:
        async with self._write() as tx:
            await tx.execute(CREATE_TABLE)
            done = {r["version"] for r in await tx.fetch("SELECT version FROM schema_migrations")}
            for version, sql in migration_files("core.store.sqlite"):
                if version in done:
                    continue
                assert self._writer is not None
                for statement in _statements(sql):
                    await self._writer.execute(statement)
                await tx.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                    version,
                    now_us(),
                )

    async def close(self) -> None:
        for conn in {id(c): c for c in (self._reader, self._writer) if c is not None}.values():
            await conn.close()
        self._reader = self._writer = None
        if self._quick is not None:
            self._quick.close()
            self._quick = None

    async def ping(self) -> None:
        async with self._read() as tx:
            await tx.fetchrow("SELECT 1")

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[_Tx]:
        if self._reader is None:
            raise Unavailable("the store is closed")
        try:
            if _QUICK.get() and self._quick is not None:
                yield _QuickTx(self._quick)  # type: ignore[misc]
            else:
                yield _Tx(self._reader)
        except sqlite3.Error as exc:
            _raise_mapped(exc)

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[_Tx]:
        if self._writer is None:
            raise Unavailable("the store is closed")
        conn = self._writer
        async with self._lock:
            try:
                await conn.execute("BEGIN IMMEDIATE")
                try:
                    yield _Tx(conn)
                except BaseException:
                    await conn.rollback()
                    raise
                await conn.commit()
            except sqlite3.Error as exc:
                _raise_mapped(exc)


def _statements(script: str) -> list[str]:
    """Split a migration into statements: lines are gathered until they make a complete one, so
    a trigger's ``BEGIN … END;`` body stays whole (no semicolons inside literals, though)."""
    out: list[str] = []
    pending = ""
    for line in script.splitlines():
        if line.strip().startswith("--"):
            continue
        pending += line + "\n"
        if sqlite3.complete_statement(pending):
            out.append(pending.strip().removesuffix(";").strip())
            pending = ""
    if pending.strip():
        out.append(pending.strip())
    return [s for s in out if s]
