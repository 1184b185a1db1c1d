"""The event loop's own writer: a plain ``sqlite3`` connection that runs a brief write (key
lookups, ``SqliteStore._transact``) at once on the calling thread, under the store's write lock,
when that takes no waiting: the file's write lock is free. Otherwise the write goes to the
aiosqlite writer's thread, which waits for the lock; the same transaction runner
(:func:`transaction`) runs it there.

Neither writer checkpoints on commit (``wal_autocheckpoint=0``): a commit that checkpoints
does it holding the store's write lock, and every write of the process queued behind it waited
for the copy and its two ``fsync`` calls (50-70 ms for 1,000 frames): that was the p99 of
segment creates. Instead (:class:`Checkpointer`) a checkpoint is due once per
:data:`AUTOCHECKPOINT_FRAMES` frames the log gained since one was last claimed (not whenever the
log is that long: while a reader holds an old snapshot, the log cannot be copied back past it,
and retrying on every write only slowed them), and runs as a ``PASSIVE`` checkpoint on a
connection of its own in a worker thread, beside the writes, holding no lock a write needs.
Writes made meanwhile stay in the log, so under a steady stream it would never be copied back
whole and never restart from its first frame; once it is :data:`RESTART_FRAMES` long, a second
pass, after others have copied what came during the first, copies the last few frames while
holding the store's write lock, so the next write restarts the log. That pause is a few
milliseconds and comes once per ~1,000 segment writes, where a commit's checkpoint held the
writes for tens of milliseconds once per ~100."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import sqlite3
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, cast

from core.expr.sql import register_sqlite_functions
from core.store.base import Row, StoreCounts, T, Tx
from core.store.sqlite.placeholders import positional
from core.store.sqlite.wal_index import WalIndex, frames, salts, valid

AUTOCHECKPOINT_FRAMES = 1000
"""SQLite's default ``wal_autocheckpoint``: frames the log gains between two checkpoints."""
RESTART_FRAMES = 10 * AUTOCHECKPOINT_FRAMES
"""A log this long (about 40 MB of 4 KiB pages) is copied back whole, the store's writes held
for the last frames, so that it restarts: the log's bound under a steady stream of writes."""
_FEW_FRAMES = 200
"""Frames a pass holding the writes may have to copy (about 20 segment writes'): the pause is
then mostly its two fsyncs."""
_CATCH_UP_PASSES = 4


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
        result = run_now(work, conn)
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    return result


def run_now(
    work: Callable[[Tx], Coroutine[Any, Any, T]],
    conn: sqlite3.Connection,
    context: contextvars.Context | None = None,
) -> T:
    """``work`` on ``conn`` (in ``context``, else the current one), to its end: its statements
    run at once (:class:`NowTx`), so its coroutine finishes on its first step; one that would
    wait on anything else is refused."""
    coroutine = work(NowTx(conn))
    try:
        if context is None:
            coroutine.send(None)
        else:
            context.run(coroutine.send, None)
    except StopIteration as done:
        result: T = done.value
        return result
    coroutine.close()
    raise RuntimeError("a write on the writer's thread awaited more than its statements")


Work = tuple[Callable[[Tx], Coroutine[Any, Any, Any]], contextvars.Context]
"""A keyed write and the context of its caller."""
Outcome = tuple[bool, Any]
"""A write's (True, its result) or (False, its error)."""


def each_in_savepoint(
    conn: sqlite3.Connection, works: Sequence[Work], clock: Callable[[], None]
) -> list[Outcome]:
    """``works`` in the write transaction ``conn`` has begun, each in a savepoint of its own
    and run in its caller's context, then one commit: per work its :data:`Outcome`; a failed
    one's changes were rolled back alone. ``clock`` restarts the statement clock before each.
    If the commit fails, the transaction is rolled back and the error raised (every work
    failed)."""
    outcomes: list[Outcome] = []
    try:
        for work, context in works:
            clock()
            conn.execute("SAVEPOINT work")
            try:
                outcomes.append((True, run_now(work, conn, context)))
            except Exception as exc:
                conn.execute("ROLLBACK TO work")
                outcomes.append((False, exc))
            conn.execute("RELEASE work")
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return outcomes


class TurnWrites:
    """The keyed writes that reach the store in one turn of the event loop, written in one
    transaction on the event loop's own writer, each in a savepoint (:func:`each_in_savepoint`):
    a commit writes every page it changed to the log, and the pages every create changes (the
    table's last page, the tenant's row and revision, the indexes' last pages) then go once for
    the turn instead of once per write. ``connection`` is the writer (None once closed),
    ``clock`` starts a connection's statement clock, ``after_write`` runs after a commit."""

    def __init__(
        self,
        lock: asyncio.Lock,
        connection: Callable[[], sqlite3.Connection | None],
        clock: Callable[[sqlite3.Connection], None],
        after_write: Callable[[], None],
    ) -> None:
        self._lock = lock
        self._connection = connection
        self._clock = clock
        self._after_write = after_write
        self._waiting: list[tuple[Work, asyncio.Future[Outcome | None]]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def write(self, work: Callable[[Tx], Coroutine[Any, Any, Any]]) -> Outcome | None:
        """``work``'s outcome, or None where the file's write lock was taken (by another
        process): the caller then writes it on the writer's thread, which waits."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Outcome | None] = loop.create_future()
        self._waiting.append(((work, contextvars.copy_context()), answer))
        if len(self._waiting) == 1:
            task = loop.create_task(self._write_turn())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await answer

    async def _write_turn(self) -> None:
        outcomes: list[Outcome] | None = None
        async with self._lock:
            # A write whose caller is gone (its request cancelled) is not made.
            turn = [each for each in self._waiting if not each[1].done()]
            self._waiting = []
            try:
                conn = begin_now(self._connection())
                if conn is not None:
                    clock = functools.partial(self._clock, conn)
                    outcomes = each_in_savepoint(conn, [work for work, _ in turn], clock)
                    self._after_write()
            except sqlite3.Error as exc:  # the transaction's own: every write of it failed
                outcomes = [(False, exc)] * len(turn)
            finally:  # cancelled too: no write is left waiting
                for i, (_, answer) in enumerate(turn):
                    if not answer.done():
                        answer.set_result(None if outcomes is None else outcomes[i])


def connect(path: str) -> sqlite3.Connection:
    """The event loop's writer, set up as the store's other connections but never waiting: no
    busy timeout (a write finding the file's lock taken goes to the writer's thread, which
    waits) and no checkpoint on commit (:class:`Checkpointer` runs them). The caller adds the
    statement clock."""
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
        caller runs one."""
        length = frames(header)
        if length < AUTOCHECKPOINT_FRAMES:
            return False
        log, last = salts(header), self._claimed
        if last is not None and last[0] == log and length < last[1] + AUTOCHECKPOINT_FRAMES:
            return False
        self._claimed = (log, length)
        return True


def begin_now(conn: sqlite3.Connection | None) -> sqlite3.Connection | None:
    """``conn`` in a new write transaction, or None where that would wait: another connection
    holds the file's write lock."""
    if conn is None:
        return None
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY:  # any of BUSY's variants
            return None
        raise
    return conn


def checkpoint(conn: sqlite3.Connection) -> tuple[bool, int, int]:
    """A ``PASSIVE`` checkpoint on ``conn``: it takes no lock a writer or reader waits for and
    copies back what no reader's snapshot still needs. Whether another checkpoint was running,
    the log's frames, and how many of them are now copied back."""
    busy, log, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return bool(busy), int(log), int(copied)


class Checkpointer:
    """The store's checkpoints, off its writes' path (see the module's docstring): one at a
    time, on a connection of its own in a worker thread."""

    def __init__(self, path: str, wal: WalIndex, hold: asyncio.Lock, counts: StoreCounts) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._wal = wal
        self._hold = hold
        """The store's write lock, taken for the second pass that lets the log restart."""
        self._counts = counts
        self._due = Checkpoints()
        self._running: asyncio.Task[None] | None = None
        self.runs = 0
        """Checkpoints run, passes under the write lock included (for tests and curiosity)."""

    def after_write(self) -> None:
        """Start a checkpoint if the log is due one and none is running. Cheap: it reads the
        mapped log header, no statement."""
        if self._running is not None:
            return
        header = self._wal.header()
        if header is None or not valid(header) or not self._due.claim(header):
            return
        self._running = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            busy, log, copied = await self._pass()
            if busy or copied < log or log < RESTART_FRAMES:
                return
            # Copied up to where it began. Each pass copies what came during the one before,
            # shorter each time, down to what two fsyncs' time lets the writes add: only then
            # are the writes held, for the last few frames, so the next write finds the log
            # all copied and restarts it.
            for _ in range(_CATCH_UP_PASSES):
                now = self._frames()
                if now is None or now < log:  # restarted meanwhile (another process)
                    return
                if now - log <= _FEW_FRAMES:
                    break
                busy, log, copied = await self._pass()
                if busy or copied < log:
                    return
            async with self._hold:
                await self._pass()
        except sqlite3.Error:
            # The next claim tries again; a log that cannot be copied back grows, which no write
            # fails on: the operator sees it in the store's errors (``checkpoint``).
            errors = self._counts.errors
            errors["checkpoint"] = errors.get("checkpoint", 0) + 1
        finally:
            self._running = None

    def _frames(self) -> int | None:
        header = self._wal.header()
        return None if header is None or not valid(header) else frames(header)

    async def _pass(self) -> tuple[bool, int, int]:
        self.runs += 1
        return await asyncio.to_thread(checkpoint, self._conn)

    async def close(self) -> None:
        """Wait for a checkpoint under way (a thread cannot be interrupted), then close."""
        if self._running is not None:
            await asyncio.shield(self._running)
        self._conn.close()
