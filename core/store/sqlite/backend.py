"""The embedded store: one SQLite file in WAL mode through aiosqlite.

One writer connection, guarded by an asyncio lock, runs every write as ``BEGIN IMMEDIATE`` so
writes from this process are serialised and writes from other processes (the CLI) wait on the
file lock (``busy_timeout``). A brief segment write (key lookups) runs instead at once on the
event loop's own writer connection, under the same lock, when that takes no waiting: the file's
write lock is free; otherwise it goes to the writer's thread as above
(``SqliteStore._transact``, ``core.store.sqlite.writer``). Neither checkpoints on commit: a
worker thread does, beside the writes (``writer.Checkpointer``).

Reads take a connection of their own from a small pool (opened as needed, up to
``StoreLimits.pool_size``), which WAL lets run beside each other and beside writes: one slow
read holds one reader, not every read of every tenant.

SQLite has no statement timeout: each connection has a progress handler that interrupts the
statement running once the block that holds the connection has run longer than
``StoreLimits.statement_timeout_ms`` (a connection serves one block at a time, so the block's
start is its statements' start).
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from typing import Any, NoReturn, cast

import aiosqlite

from core.errors import (
    Conflict,
    CoreError,
    InUse,
    StatementRefused,
    StatementTimeout,
    Unavailable,
)
from core.expr.sql import register_aiosqlite_functions
from core.model import Principal, SegmentRoom, SegmentToUpdate, now_us
from core.store.base import Row, StoreCounts, T, Tx
from core.store.clients import CLIENT_UNIQUE_COLUMNS
from core.store.confidence_flags import CONFIDENCE_UNIQUE_COLUMNS
from core.store.flags import FLAG_UNIQUE_COLUMNS, SEGMENT_IN_USE
from core.store.limits import StoreLimits, TenantGates
from core.store.migrations import (
    CREATE_TABLE,
    SchemaStatus,
    check_not_newer,
    migration_files,
    schema_status,
)
from core.store.profile_keys import register_sqlite_sort_functions
from core.store.revisions import RevisionSql
from core.store.sql import CONFLICT_MESSAGES, SqlStore
from core.store.sqlite import writer
from core.store.sqlite.placeholders import positional
from core.store.sqlite.wal_index import WalIndex, valid
from core.store.sqlite.writer import NowTx

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
    **CONFIDENCE_UNIQUE_COLUMNS,
}


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
    if isinstance(exc, sqlite3.OperationalError) and text == "interrupted":
        return StatementTimeout()  # the progress handler's doing (nothing else interrupts)
    if isinstance(exc, sqlite3.OperationalError) and text.startswith(_ENGINE_LIMITS):
        return StatementRefused(text)
    if isinstance(exc, sqlite3.OperationalError):
        # The engine's text stays in the exception's cause (the log), never in an answer.
        return Unavailable("the SQLite store failed; retry later")
    return None


_ENGINE_LIMITS = (
    "Expression tree is too large",
    "parser stack overflow",
    "too many SQL variables",
    "string or blob too big",
    "too many columns",
    "LIKE or GLOB pattern too complex",
    "user-defined function raised exception",
)
"""Texts of SQLite's refusals of a statement too large or complex (its compile-time limits), and
of a registered function (a predicate's key or matcher) failing on a value."""
_PROGRESS_STEPS = 1000
"""Virtual machine instructions between two looks at the clock (a few microseconds)."""
_BUSY_MS = 5000
"""How long a statement waits for another process's write lock."""
_MIGRATION_BUSY_MS = 600_000
"""How long a migration waits for another process's: as long as that one may take."""


class _Deadline:
    """A connection's progress handler: non-zero (interrupt) once ``at`` (monotonic) passed."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at = math.inf

    def __call__(self) -> int:
        return 1 if time.monotonic() > self.at else 0


def _raise_mapped(exc: sqlite3.Error, counts: StoreCounts | None) -> NoReturn:
    mapped = _map_error(exc)
    if counts is not None:
        counts.failed(mapped)
    if mapped is None:
        raise exc
    raise mapped from exc


class _Tx:
    """Statements on an aiosqlite connection, each one trip to its thread: ``execute_fetchall``
    runs, reads every row and finishes the statement there, where a cursor's execute, fetch and
    close are a trip each (the queue, a thread switch and the event loop's wake-up per trip:
    most of a segment write's CPU was these trips)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]:
        # sqlite3.Row is a mapping in all but name (keys() and [] by column name).
        return cast(list[Row], list(await self._conn.execute_fetchall(positional(sql), args)))

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        # Every row is read, so a RETURNING write has completed before the commit.
        rows = await self._conn.execute_fetchall(positional(sql), args)
        return cast(Row | None, next(iter(rows), None))

    async def execute(self, sql: str, *args: Any) -> None:
        await self._conn.execute(positional(sql), args)


class _QuickTx(NowTx):
    """Reads on the event loop's own thread through a plain ``sqlite3`` connection: for
    single-row primary-key lookups a round trip to aiosqlite's thread costs ten times the read."""

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        return cast(Row | None, self._conn.execute(positional(sql), args).fetchone())

    async def execute(self, sql: str, *args: Any) -> None:
        raise RuntimeError("the quick reader is read-only")


_QUICK: ContextVar[bool] = ContextVar("segmux_sqlite_quick_read", default=False)
_QUICK_BUSY_MS = 50
"""A WAL reader waits for nothing but a rare WAL recovery; if it ever does, give up after this
long and take the ordinary (threaded) reader instead of blocking the event loop."""


_KNOWN_TENANTS = 10_000
"""Tenant revisions kept between commits (a revision and a name each): past this, all are
forgotten and read again."""


class SqliteStore(RevisionSql, SqlStore):
    greatest = "max"
    _revisions: dict[str, int]
    """Tenant revisions read while the file's data version was :attr:`_revisions_at`."""
    _revisions_at: int | None
    _wal_seen: bytes | None
    """The file's WAL-index header as it was when :attr:`_version_seen` was read."""
    _version_seen: int | None

    def connections(self) -> tuple[int, int]:
        # Readers in use are those not in the idle queue; the one writer is in use while a
        # write holds its lock. An in-memory store's reader is its writer: counted once.
        shared = bool(self._readers) and self._readers[0] is self._writer
        writer = 0 if self._writer is None or shared else 1
        busy = len(self._readers) - self._idle.qsize() + (writer if self._lock.locked() else 0)
        return busy, len(self._readers) + writer - busy

    async def token_epoch(self) -> int | None:
        # Another process (``segmux tokens revoke``, a second ``segmux serve``) may revoke: the
        # file's data version changes with every commit of any connection, so a lookup made
        # at one version is still what the store holds while the version is unchanged.
        return self._data_version()

    def _data_version(self) -> int | None:
        """``PRAGMA data_version`` of the quick reader: it changes whenever another connection
        (this process's writer, any other process) commits to the file, and only then. None
        without a quick reader (an in-memory store) or if SQLite cannot answer at once: callers
        then read, as before.

        A kept answer checks it twice per request; while the file's WAL-index header is the one
        seen when the version was last read, nothing was committed since and that version is
        still the answer (``core.store.sqlite.wal_index``): no read transaction, no system call.
        The header is read *before* the version, so a commit in between leaves a header that is
        already gone, and the next call asks SQLite again."""
        cursor = self._version_cursor
        if cursor is None:
            return None
        wal = self._wal
        header = None
        if wal is not None:
            header = wal.header()
            if header is not None and header == self._wal_seen:
                return self._version_seen
        try:
            row = cursor.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            return None
        version = int(row[0])
        if header is not None and valid(header):  # not caught halfway through a rewrite
            self._wal_seen = header
            self._version_seen = version
        return version

    def uses_wal_index(self) -> bool:
        """Whether the data version is checked through the WAL-index header (tests ask)."""
        return self._wal is not None and self._wal.header() is not None

    def known_revision(self, tenant: str) -> int | None:
        # Strict freshness at the cost of one pragma: a revision read at the file's current
        # data version is still the tenant's revision, whichever process wrote since.
        version = self._data_version()
        if version is None:
            return None
        if version != self._revisions_at:
            self._revisions.clear()  # something committed: every revision read may be old
            self._revisions_at = version
            return None
        return self._revisions.get(tenant)

    def _extension_text(self, path: tuple[str, ...], first: int) -> tuple[str, list[Any]]:
        # json_type names a JSON boolean 'true'/'false', as PostgreSQL's text of it reads.
        steps = "".join('."' + step.replace('"', '""') + '"' for step in path)
        return f"json_type(extensions, ${first})", ["$" + steps]

    def __init__(self, url: str, path: str, limits: StoreLimits | None = None) -> None:
        self.url = url
        self.path = path
        self.limits = limits or StoreLimits()
        self._gates = TenantGates(self.limits.tenant_concurrency)
        self.counts = StoreCounts()
        self._writer: aiosqlite.Connection | None = None
        self._readers: list[aiosqlite.Connection] = []
        self._idle: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._deadlines: dict[int, _Deadline] = {}
        self._quick: sqlite3.Connection | None = None
        self._version_cursor: sqlite3.Cursor | None = None
        """The quick reader's cursor for ``PRAGMA data_version`` (plain tuples: no Row)."""
        self._wal: WalIndex | None = None
        self._direct: sqlite3.Connection | None = None
        """The event loop's own writer, for brief writes (``_transact``); None without a
        mapped WAL index, which tells when the log is due a checkpoint."""
        self._checkpointer: writer.Checkpointer | None = None
        self._wal_seen = None
        self._version_seen = None
        self._revisions = {}
        self._revisions_at = None
        self._lock = asyncio.Lock()
        self._turns = writer.TurnWrites(
            self._lock, lambda: self._direct, self._start_clock, self._after_write
        )
        self._opening = asyncio.Lock()

    @classmethod
    async def open(
        cls, url: str, path: str, limits: StoreLimits | None = None, *, migrate: bool = True
    ) -> SqliteStore:
        store = cls(url, path, limits)
        store._writer = await store._connect()
        if migrate:
            try:
                await store.migrate()
            except BaseException:
                await store._writer.close()
                raise
        # An in-memory database exists once per connection: reads must share the writer.
        reader = store._writer if path == ":memory:" else await store._connect()
        store._readers.append(reader)
        store._idle.put_nowait(reader)
        if path != ":memory:":
            quick = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            quick.row_factory = sqlite3.Row
            quick.execute(f"PRAGMA busy_timeout={_QUICK_BUSY_MS}")
            quick.execute("PRAGMA query_only=ON")
            store._quick = quick
            store._version_cursor = quick.cursor()
            store._version_cursor.row_factory = None
            store._wal = _wal_index(quick, path)
            if store._wal is not None and store._wal.header() is not None:
                store._direct = store._connect_direct()
                store._checkpointer = writer.Checkpointer(
                    path, store._wal, store._lock, store.counts
                )
                # Its commits would checkpoint holding the write lock: the checkpointer does it.
                await store._writer.execute("PRAGMA wal_autocheckpoint=0")
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
        # The version is read before the revision: a commit in between leaves the revision
        # filed under a version that is already gone, so it is read again next time.
        version = self._data_version()
        revision = int(await self._quickly(super().tenant_revision, tenant))
        if version is not None:
            if version != self._revisions_at:
                self._revisions.clear()
                self._revisions_at = version
            if len(self._revisions) >= _KNOWN_TENANTS:
                self._revisions.clear()
            self._revisions[tenant] = revision
        return revision

    async def principal_for(self, token_hash: str) -> Principal | None:
        found: Principal | None = await self._quickly(super().principal_for, token_hash)
        return found

    # A write's checks read a tenant's row and a segment by key on the quick reader too.
    async def segment_room(self, tenant: str) -> SegmentRoom:
        room: SegmentRoom = await self._quickly(super().segment_room, tenant)
        return room

    async def segment_to_update(self, tenant: str, seq: int) -> SegmentToUpdate:
        found: SegmentToUpdate = await self._quickly(super().segment_to_update, tenant, seq)
        return found

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        # The busy timeout first: switching to WAL takes a lock that another process opening
        # the same new file at the same moment may hold.
        await conn.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA synchronous=NORMAL")
        # The functions the compiled segment predicates (core.expr.sql) and profile sorts call.
        await register_aiosqlite_functions(conn)
        await register_sqlite_sort_functions(conn)
        if self.limits.statement_timeout_ms > 0:
            deadline = self._deadlines[id(conn)] = _Deadline()
            await conn.set_progress_handler(deadline, _PROGRESS_STEPS)
        return conn

    def _connect_direct(self) -> sqlite3.Connection:
        """The event loop's writer (``core.store.sqlite.writer``), with the statement clock."""
        conn = writer.connect(self.path)
        if self.limits.statement_timeout_ms > 0:
            deadline = self._deadlines[id(conn)] = _Deadline()
            conn.set_progress_handler(deadline, _PROGRESS_STEPS)
        return conn

    def _start_clock(self, conn: aiosqlite.Connection | sqlite3.Connection) -> None:
        """Statements on ``conn`` from now on are interrupted past the statement timeout."""
        deadline = self._deadlines.get(id(conn))
        if deadline is not None:
            deadline.at = time.monotonic() + self.limits.statement_timeout_ms / 1000

    async def _take_reader(self) -> aiosqlite.Connection:
        """An idle reader; a new one while fewer than the pool's size are open."""
        if self._idle.empty() and self.path != ":memory:":
            async with self._opening:
                if self._idle.empty() and len(self._readers) < self.limits.pool_size:
                    conn = await self._connect()
                    self._readers.append(conn)
                    return conn
        return await self._idle.get()

    async def migrate(self) -> list[str]:
        """Apply pending migrations under the database's write lock (``BEGIN IMMEDIATE``: a
        second process waits for it, then finds them applied); return the versions applied."""
        applied: list[str] = []
        assert self._writer is not None
        # Another process's migration may take longer than a write may wait for the lock.
        await self._writer.execute(f"PRAGMA busy_timeout={_MIGRATION_BUSY_MS}")
        try:
            await self._apply(applied)
        finally:
            if self._writer is not None:
                await self._writer.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
        return applied

    async def _apply(self, applied: list[str]) -> None:
        async with self._write() as tx:
            if self._writer is not None and id(self._writer) in self._deadlines:
                # A migration may take longer than a request's statement may.
                self._deadlines[id(self._writer)].at = math.inf
            await tx.execute(CREATE_TABLE)
            done = {r["version"] for r in await tx.fetch("SELECT version FROM schema_migrations")}
            check_not_newer(done, "core.store.sqlite")  # before touching anything
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
                applied.append(version)

    async def schema_status(self) -> SchemaStatus:
        async with self._read() as tx:
            exists = await tx.fetchrow(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
            )
            rows = await tx.fetch("SELECT version FROM schema_migrations") if exists else []
        return schema_status([r["version"] for r in rows], "core.store.sqlite")

    async def close(self) -> None:
        every = [*self._readers, *([self._writer] if self._writer is not None else [])]
        for conn in {id(c): c for c in every}.values():
            await conn.close()
        self._readers = []
        self._writer = None
        self._version_cursor = None
        if self._checkpointer is not None:
            await self._checkpointer.close()
            self._checkpointer = None
        if self._direct is not None:
            self._direct.close()
            self._direct = None
        if self._quick is not None:
            self._quick.close()
            self._quick = None
        # Last: closing it releases this process's locks on the file (core.store.sqlite.wal_index).
        if self._wal is not None:
            self._wal.close()
            self._wal = None
        self._wal_seen = None
        self._version_seen = None

    async def ping(self) -> None:
        async with self._read() as tx:
            await tx.fetchrow("SELECT 1")

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[_Tx]:
        if not self._readers:
            raise Unavailable("the store is closed")
        quick = _QUICK.get() and self._quick is not None
        try:
            if quick and self._quick is not None:
                yield _QuickTx(self._quick)  # type: ignore[misc]
                return
            async with self._gates.hold():
                conn = await self._take_reader()
                try:
                    self._start_clock(conn)
                    yield _Tx(conn)
                finally:
                    self._idle.put_nowait(conn)
        except sqlite3.Error as exc:
            # The quick reader's failure is not counted: its caller retries on the ordinary
            # reader (``_quickly``), whose failure is.
            _raise_mapped(exc, None if quick else self.counts)

    @asynccontextmanager
    async def _holding_writer(self) -> AsyncIterator[aiosqlite.Connection]:
        """The writer, once this process's earlier writes are done, its statements' clock
        started, driver errors mapped."""
        if self._writer is None:
            raise Unavailable("the store is closed")
        conn = self._writer
        async with self._gates.hold(), self._lock:
            self._start_clock(conn)
            try:
                yield conn
            except sqlite3.Error as exc:
                _raise_mapped(exc, self.counts)

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[_Tx]:
        async with self._holding_writer() as conn:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield _Tx(conn)
            except BaseException:
                await conn.rollback()
                raise
            await conn.commit()
        self._after_write()

    def _after_write(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.after_write()

    async def _transact(
        self,
        work: Callable[[Tx], Coroutine[Any, Any, T]],
        *,
        single: bool = False,
        keyed: bool = False,
    ) -> T:
        if keyed and self._direct is not None:
            # Key lookups and a commit that writes the log without syncing it (no checkpoint:
            # ``writer.Checkpointer``): tens of microseconds, less than a thread trip costs.
            # The keyed writes that reach the store in the same turn of the event loop share
            # one transaction, each in a savepoint of its own (``writer.TurnWrites``).
            async with self._gates.hold():
                outcome = await self._turns.write(work)
            if outcome is not None:
                ok, value = outcome
                if ok:
                    return cast(T, value)
                if isinstance(value, sqlite3.Error):
                    _raise_mapped(value, self.counts)
                raise value
        # One trip to the writer's thread for the whole transaction (BEGIN, the statements,
        # COMMIT), where ``_write`` takes one per statement: each trip is a queue, a thread
        # switch and the event loop's wake-up, most of a segment write's CPU.
        async with self._holding_writer() as conn:
            # aiosqlite's own way to run a callable on its thread (what its methods use).
            result: T = await conn._execute(  # type: ignore[no-untyped-call]
                writer.transaction, conn._conn, work
            )
        self._after_write()
        return result

    def _autocommit(self) -> AbstractAsyncContextManager[_Tx]:
        # Every write takes the file's write lock and the writer (BEGIN IMMEDIATE) anyway.
        return self._write()

    def _count_read(self) -> None:
        # No revision of a sandbox's individuals (no profile_revisions) to file a count taken
        # outside a request under: every page counts in its own statement, count(*) OVER ().
        return None


def _wal_index(quick: sqlite3.Connection, path: str) -> WalIndex | None:
    """The file's WAL index, mapped (``core.store.sqlite.wal_index``), if it is in WAL mode."""
    try:
        # A first read maps and initialises the index: it is then there to map here too.
        quick.execute("PRAGMA data_version").fetchone()
        mode = quick.execute("PRAGMA journal_mode").fetchone()[0]
    except sqlite3.Error:
        return None
    return WalIndex.open(path) if str(mode).lower() == "wal" else None


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
