"""The event loop's own writer: a plain ``sqlite3`` connection that runs a brief write (key
lookups, ``SqliteStore._transact``) at once on the calling thread, under the store's write lock,
when that takes no waiting: the file's write lock is free and the log is not due a checkpoint.
Otherwise the write goes to the aiosqlite writer's thread, which waits for the lock and whose
commit checkpoints; the same transaction runner (:func:`transaction`) runs it there.

When a checkpoint is due (:class:`Checkpoints`): once per :data:`AUTOCHECKPOINT_FRAMES` frames
the log gained since one was last claimed, not whenever the log is that long. A checkpoint
copies pages back only up to the oldest snapshot a reader still holds, and the log restarts
from its first frame only once all of it is copied: while a read lasts (a long query of another
request, another process's), the log cannot shrink. Sending every write to the writer's thread
while the log was long made each one a thread trip and a checkpoint that could not finish, for
as long as the read lasted (498 of 600 creates under one held snapshot, 6 now); and every write
arriving while the claimed one waited for the lock took the thread too (about 1 in 10 under 10
concurrent creates, 1 in 100 now)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, cast

from core.expr.sql import register_sqlite_functions
from core.store.base import Row, T, Tx
from core.store.sqlite.placeholders import positional
from core.store.sqlite.wal_index import WalIndex, frames, salts, valid

AUTOCHECKPOINT_FRAMES = 1000
"""SQLite's default ``wal_autocheckpoint``: the log's length at which a commit checkpoints."""


class NowTx:
    """Statements run at once on the calling thread through a plain ``sqlite3`` connection (its
    own thread's): every row is read, so a RETURNING write has completed before the commit."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]:
        return cast(list[Row], self._conn.execute(positional(sql), args).fetchall())

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        rows = self._conn.execute(positional(sql), args).fetchall()
        return cast(Row | None, next(iter(rows), None))

    async def execute(self, sql: str, *args: Any) -> None:
        self._conn.execute(positional(sql), args).fetchall()


def transaction(conn: sqlite3.Connection, work: Callable[[Tx], Coroutine[Any, Any, T]]) -> T:
    """``work`` in one ``BEGIN IMMEDIATE`` transaction, run to its end on the calling thread
    (the writer's): its statements run at once (:class:`NowTx`), so its coroutine finishes on
    its first step; one that would wait on anything else is refused, rolled back."""
    conn.execute("BEGIN IMMEDIATE")
    return begun(conn, work)


def begun(conn: sqlite3.Connection, work: Callable[[Tx], Coroutine[Any, Any, T]]) -> T:
    """:func:`transaction` once its ``BEGIN`` is done."""
    try:
        coroutine = work(NowTx(conn))
        try:
            coroutine.send(None)
        except StopIteration as done:
            result: T = done.value
        else:
            coroutine.close()
            raise RuntimeError("a write on the writer's thread awaited more than its statements")
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    return result


def connect(path: str) -> sqlite3.Connection:
    """The event loop's writer, set up as the store's other connections but never waiting: no
    busy timeout (a write finding the file's lock taken goes to the writer's thread, which
    waits) and no checkpoint (a write once the log is due one goes there too, and its commit
    runs it). The caller adds the statement clock."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout=0")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    register_sqlite_functions(conn)
    return conn


class Checkpoints:
    """When the log is due a checkpoint: once it holds :data:`AUTOCHECKPOINT_FRAMES` frames
    past those it held when the last one was claimed (all of them, on a log that restarted
    since). A checkpoint that could not copy everything (a reader's snapshot) is tried again
    only after as many new frames, not on every write, which it would slow for nothing; and one
    write takes it, not every write that comes while it waits for the lock."""

    def __init__(self) -> None:
        self._claimed: tuple[bytes, int] | None = None
        """The salts and length of the log when a checkpoint was last claimed."""

    def claim(self, header: bytes) -> bool:
        """Whether the log of ``header`` (a :func:`valid` one) is due a checkpoint; if so, the
        caller's write runs it (on the writer's thread, whose commit checkpoints: its
        connection's ``wal_autocheckpoint`` is SQLite's default, this threshold)."""
        length = frames(header)
        if length < AUTOCHECKPOINT_FRAMES:
            return False
        log, last = salts(header), self._claimed
        if last is not None and last[0] == log and length < last[1] + AUTOCHECKPOINT_FRAMES:
            return False
        self._claimed = (log, length)
        return True


def begin_now(
    conn: sqlite3.Connection | None, wal: WalIndex | None, checkpoints: Checkpoints
) -> sqlite3.Connection | None:
    """``conn`` in a new write transaction, or None where that would wait: another connection
    holds the file's write lock, or the log is due a checkpoint."""
    header = None if wal is None else wal.header()
    if conn is None or header is None or not valid(header):
        return None
    if checkpoints.claim(header):
        return None
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY:  # any of BUSY's variants
            return None
        raise
    return conn
