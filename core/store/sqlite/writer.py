"""The event loop's own writer: a plain ``sqlite3`` connection that runs a brief write (key
lookups, ``SqliteStore._transact``) at once on the calling thread, under the store's write lock,
when that takes no waiting: the file's write lock is free and the log is not due a checkpoint.
Otherwise the write goes to the aiosqlite writer's thread, which waits for the lock and whose
commit checkpoints; the same transaction runner (:func:`transaction`) runs it there."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, cast

from core.expr.sql import register_sqlite_functions
from core.store.base import Row, T, Tx
from core.store.sqlite.placeholders import positional
from core.store.sqlite.wal_index import WalIndex, frames, valid

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


def begin_now(conn: sqlite3.Connection | None, wal: WalIndex | None) -> sqlite3.Connection | None:
    """``conn`` in a new write transaction, or None where that would wait: another connection
    holds the file's write lock, or the log is due a checkpoint."""
    header = None if wal is None else wal.header()
    if conn is None or header is None or not valid(header):
        return None
    if frames(header) >= AUTOCHECKPOINT_FRAMES:
        return None
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY:  # any of BUSY's variants
            return None
        raise
    return conn
