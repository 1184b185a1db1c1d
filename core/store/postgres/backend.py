"""The shared store: PostgreSQL through an asyncpg pool.

Several gateway processes use one database; every rule that must hold across them lives in a
transaction or a constraint. Migrations run under an advisory lock so processes starting together
apply each migration once; the SQL functions the compiled predicates call are code, not schema,
and are (re)created after them, in the same transaction, on every open.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg

from core.errors import Conflict, CoreError, StatementRefused, StatementTimeout, Unavailable
from core.expr.sql import postgres_functions_sql
from core.model import NewSegment, RoomGuard, Segment, now_us
from core.store.base import Row, StoreCounts
from core.store.flags import foreign_key_error
from core.store.limits import StoreLimits, TenantGates
from core.store.migrations import (
    CREATE_TABLE,
    SchemaStatus,
    check_not_newer,
    migration_files,
    schema_status,
)
from core.store.postgres.create_batch import CreateBatches
from core.store.postgres.listen import ChangeListener
from core.store.profile_pages import CountRead
from core.store.revisions import KnownRevisions, RevisionSql
from core.store.rows import segment_from_row
from core.store.sql import SqlStore, conflict_for, insert_args

_MIGRATION_LOCK = 0x5E6D0C5  # any constant: the advisory lock key for migrations
_STATEMENT_CACHE = 1024
"""Prepared statements kept per connection (asyncpg prepares every query it runs and reuses the
plan by SQL text; its default of 100 is fewer than the distinct statements segmux issues)."""

_COUNT_WORK_MEM = "64MB"
"""A count outside a request reads the GIN index's candidates through a bitmap of heap pages;
past work_mem (4 MB by default) the bitmap turns lossy and every row of a lossy page is tested
again by the condition's jsonpath. At 10⁷ individuals `city eq 'Madrid' and 30 <= age < 40` had
candidates on 737,193 pages: 691,970 lossy, 5.7 million rows rechecked, 57 s; exact under 64 MB,
27-30 s. At most two counts run at once per process (``core.store.profile_totals``)."""

# What a lost or refused connection looks like from asyncpg.
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionFailureError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.InterfaceError,
)
# What the server refuses for now but would do on a retry: a transaction it rolled back (a
# deadlock, a serialisation failure) or a session it could not start (max_connections reached,
# e.g. with more gateway processes than the server allows). A 503 + Retry-After, not a 500.
_TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.TransactionRollbackError,
    asyncpg.exceptions.TooManyConnectionsError,
)


def _map_error(exc: BaseException) -> CoreError | None:
    if isinstance(exc, asyncpg.QueryCanceledError):  # statement_timeout (57014)
        return StatementTimeout()
    if isinstance(exc, asyncpg.exceptions.ProgramLimitExceededError | asyncpg.DataError):
        # 54xxx (too complex, stack depth) and 22xxx (a value the statement cannot take): what
        # a condition's predicate may run into; the engine's text is kept for the log only.
        return StatementRefused(str(exc))
    if isinstance(exc, asyncpg.UniqueViolationError):
        return conflict_for(exc.constraint_name or "") or Conflict("unique", str(exc))
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        # PostgreSQL reports both directions on the referencing table; the message says which.
        deleting = str(exc).startswith("update or delete")
        return foreign_key_error(exc.constraint_name or "", deleting=deleting)
    if isinstance(exc, _CONNECTION_ERRORS):
        return Unavailable("the database is unavailable")
    if isinstance(exc, _TRANSIENT_ERRORS):
        return Unavailable("the database cannot take this request now; retry")
    return None


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Pool release without asyncpg's default reset query (``SELECT pg_advisory_unlock_all();
    CLOSE ALL; UNLISTEN *; RESET ALL``), a full round trip on every release. segmux leaves no
    session state behind: no SET, no session advisory lock (migrations take a transaction
    lock), no LISTEN on pooled connections (the listener has its own), no cursors outside a
    transaction. asyncpg still rolls back an open transaction on release."""


class _Tx:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    @property
    def conn(self) -> asyncpg.Connection:
        return self._conn

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]:
        return list(await self._conn.fetch(sql, *args))

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        row: Row | None = await self._conn.fetchrow(sql, *args)  # a Record is a Mapping
        return row

    async def execute(self, sql: str, *args: Any) -> None:
        await self._conn.execute(sql, *args)


class PostgresStore(RevisionSql, SqlStore):
    def __init__(self, url: str, pool: asyncpg.Pool, limits: StoreLimits | None = None) -> None:
        self.url = url
        self._pool = pool
        self._known = KnownRevisions()
        self.counts = StoreCounts()
        self.counts.listening = False  # a listener, connected once notify freshness needs it
        self._listener = ChangeListener(url, self._known, self.counts)
        self.limits = limits or StoreLimits()
        self._gates = TenantGates(self.limits.tenant_concurrency)
        self._batches = CreateBatches(self._fetch_committed)

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        min_size: int = 1,
        max_size: int | None = None,
        limits: StoreLimits | None = None,
        migrate: bool = True,
    ) -> PostgresStore:
        """A pool on ``url``, migrated first unless ``migrate`` is false: only for a database
        the caller knows this version migrated (the tests open thousands of stores on copies
        of one migrated template, and the migration's lock and CREATE OR REPLACE of every
        function was most of an open's cost)."""
        limits = limits or StoreLimits()
        pool = await cls.create_pool(url, limits, min_size=min_size, max_size=max_size)
        store = cls(url, pool, limits)
        if migrate:
            try:
                await store.migrate()
            except BaseException:
                await pool.close()
                raise
        return store

    @staticmethod
    async def create_pool(
        url: str, limits: StoreLimits, *, min_size: int = 1, max_size: int | None = None
    ) -> asyncpg.Pool:
        """The pool ``open`` gives a store (the tests share one between the stores of a
        session's tests, so it is made here and nowhere else)."""
        # JIT compiles for 100+ ms whenever a plan's cost estimate is high, which the segment
        # predicates' set-returning JSON functions make it (estimated 1,000 rows each): off, as
        # for most OLTP workloads. The statement timeout is a setting of the pooled sessions
        # (sent with the connection's start-up, no round trip); the LISTEN connection is not
        # pooled and keeps none, so waiting for notifications is never cut off.
        settings = {"jit": "off", "statement_timeout": str(limits.statement_timeout_ms)}
        try:
            return await asyncpg.create_pool(
                url,
                min_size=min_size,
                max_size=max_size or limits.pool_size,
                timeout=10,
                server_settings=settings,
                statement_cache_size=_STATEMENT_CACHE,
                reset=_keep_session,
            )
        except (*_CONNECTION_ERRORS, *_TRANSIENT_ERRORS) as exc:
            raise Unavailable(f"cannot connect to PostgreSQL: {exc}") from exc

    async def migrate(self) -> list[str]:
        """Apply pending migrations, then (re)create the predicates' SQL functions
        (``core/expr/sql_functions_postgres.sql``, all ``CREATE OR REPLACE``, so the current
        ones are installed whichever version created them); return the migration versions
        applied. No index or constraint of a migration calls the functions, so they may come
        after the migrations."""
        applied: list[str] = []
        async with self._pool.acquire() as conn, conn.transaction():
            # A migration may take longer than a request's statement may (an index over a big
            # table): unbounded, for this transaction only.
            await conn.execute("SET LOCAL statement_timeout = 0")
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute(CREATE_TABLE)
            done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
            check_not_newer(done, "core.store.postgres")  # before touching anything
            for version, sql in migration_files("core.store.postgres"):
                if version in done:
                    continue
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                    version,
                    now_us(),
                )
                applied.append(version)
            await conn.execute(postgres_functions_sql())
        return applied

    async def schema_status(self) -> SchemaStatus:
        async with self._pool.acquire() as conn:
            exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
            rows = await conn.fetch("SELECT version FROM schema_migrations") if exists else []
        return schema_status([r["version"] for r in rows], "core.store.postgres")

    async def close(self) -> None:
        await self._stop_counting()
        await self._listener.close()
        await self._pool.close()

    async def token_epoch(self) -> int | None:
        return self._listener.epoch()

    def connections(self) -> tuple[int, int]:
        size, idle = self._pool.get_size(), self._pool.get_idle_size()
        return size - idle, idle

    def known_revision(self, tenant: str) -> int | None:
        if self.freshness != "notify":
            return None
        self._listener.start()
        return self._known.get(tenant)

    async def tenant_revision(self, tenant: str) -> int:
        generation = self._known.generation  # before the read: see KnownRevisions.file
        revision = await super().tenant_revision(tenant)
        if self.freshness == "notify":
            self._known.file(tenant, revision, generation)
        return revision

    async def revoke_token(self, token_id: str) -> None:
        try:
            await super().revoke_token(token_id)
        finally:
            self._listener.bump()

    async def _create_at_once(
        self, tenant: str, new: NewSegment, actor: str | None, guard: RoomGuard | None
    ) -> Segment:
        # Written alone when no create of the tenant is being written; otherwise with the others
        # that wait behind that one (core/store/postgres/create_batch.py), or alone after all
        # when the batch could not write it (its own answer: a conflict, the guard's).
        args = insert_args(tenant, new, actor)
        key = (tenant, guard)
        if self._batches.in_flight(key):
            row = await self._batches.join(key, args)
            if row is not None:
                return segment_from_row(row)
            return await self._claim_and_insert(tenant, args, guard)
        self._batches.begin(key)
        try:
            return await self._claim_and_insert(tenant, args, guard)
        finally:
            self._batches.end(key)

    async def _fetch_committed(self, sql: str, args: Sequence[Any]) -> Sequence[Row]:
        async with self._autocommit() as tx:
            return await tx.fetch(sql, *args)

    async def ping(self) -> None:
        async with self._read() as tx:
            await tx.fetchrow("SELECT 1")

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[_Tx]:
        try:
            async with self._gates.hold(), self._pool.acquire() as conn:
                yield _Tx(conn)
        except (asyncpg.PostgresError, *_CONNECTION_ERRORS) as exc:
            mapped = _map_error(exc)
            self.counts.failed(mapped)
            if mapped is None:
                raise
            raise mapped from exc

    def _write(self) -> AbstractAsyncContextManager[_Tx]:
        return self._writing(transaction=True)

    def _autocommit(self) -> AbstractAsyncContextManager[_Tx]:
        return self._writing(transaction=False)

    def _count_read(self) -> CountRead:
        # Every write to a sandbox's individuals moves its revision (profile_revisions): a
        # count taken outside the request is filed under the revision it saw.
        return self._read_for_count

    @asynccontextmanager
    async def _read_for_count(self, timeout_ms: int) -> AsyncIterator[_Tx]:
        # REPEATABLE READ: the statements see one snapshot (a revision and the count taken at
        # it); the settings are the transaction's own, the pooled session keeps its own.
        async with (
            self._read() as tx,
            tx.conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            await tx.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
            await tx.execute(f"SET LOCAL work_mem = '{_COUNT_WORK_MEM}'")
            yield tx

    @asynccontextmanager
    async def _writing(self, *, transaction: bool) -> AsyncIterator[_Tx]:
        try:
            async with self._gates.hold(), self._pool.acquire() as conn:
                if not transaction:
                    yield _Tx(conn)
                    return
                async with conn.transaction():
                    yield _Tx(conn)
        except (asyncpg.PostgresError, *_CONNECTION_ERRORS) as exc:
            mapped = _map_error(exc)
            self.counts.failed(mapped)
            if mapped is None:
                raise
            raise mapped from exc
        finally:
            # Committed (or not: forgetting costs one read): this process's next read of any
            # tenant must not wait for the notification of its own write.
            self._known.changed()
