"""What every part of the SQL store stands on: the transaction a statement runs in (``Tx``), the
row it reads (``Row``), the ``ORDER BY`` of a segment listing, a token's public id, what an
operator counts of a store (``StoreCounts``), and ``SqlBase``, which declares once what the
mixins of ``core.store.sql.SqlStore`` need of the backend that completes it.

It imports nothing of ``core.store`` (of the rest of core only ``core.model``'s records and the
name of a SQL dialect, ``core.expr.sql.Dialect``): the
mixins import it, ``core.store.sql`` imports the mixins and the backends import
``core.store.sql``, so the store's imports run one way and no mixin needs ``TYPE_CHECKING``
imports, imports inside functions or its own copy of these declarations."""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, TypeVar

from core.expr.sql import Dialect
from core.model import NewSegment, Segment, Sort

Row = Mapping[str, Any]
T = TypeVar("T")


class Tx(Protocol):
    """A connection or transaction of either backend; statements use ``$n`` placeholders."""

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]: ...
    async def fetchrow(self, sql: str, *args: Any) -> Row | None: ...
    async def execute(self, sql: str, *args: Any) -> None: ...


_SORT_COLUMNS = {
    "name": "name",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "seq": "seq",
    "slug": "slug",
    "id": "id",
    "state": "state",
    # Absent descriptions sort as empty ones, so both backends agree on where they go.
    "description": "COALESCE(description, '')",
}


def order_by(sort: tuple[Sort, ...]) -> str:
    """An ``ORDER BY`` list of segments for ``sort``, ties broken by id (so pages never
    overlap)."""
    order = ", ".join(f"{_SORT_COLUMNS[s.field]} {'DESC' if s.descending else 'ASC'}" for s in sort)
    return f"{order}, id ASC" if order else "id ASC"


class StoreCounts:
    """What an operator watches of one store object (``gateway.metrics`` reads it when scraped):
    plain integers bumped where the event happens, so counting costs nothing on a request's
    path and the store needs no metrics library."""

    __slots__ = ("announcements", "errors", "listening")

    def __init__(self) -> None:
        self.errors: dict[str, int] = {}
        """Failed store operations by kind: the core error a driver error became
        (``unavailable``, ``statement_timeout``, ``conflict``, …) or ``driver`` for one that
        maps to none. Kinds are class names, so their number is bounded."""
        self.announcements = 0
        """Revision announcements (``NOTIFY segmux_revisions``) received."""
        self.listening: bool | None = None
        """Whether the LISTEN connection is up (``notify`` freshness); None: the store has
        no listener (SQLite, always ``strict`` whatever its ``freshness`` says)."""

    def failed(self, mapped: BaseException | None) -> None:
        kind = "driver" if mapped is None else _snake(type(mapped).__name__)
        self.errors[kind] = self.errors.get(kind, 0) + 1


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


def token_id(token_hash: str) -> str:
    """A token's public id: a short hash of its hash, safe to show and log."""
    return hashlib.sha256(token_hash.encode()).hexdigest()[:16]


class SqlBase(abc.ABC):
    """What the store's mixins rely on: the backend supplies ``url``, ``_read`` and ``_write``;
    ``core.store.sql.SqlStore`` supplies ``_insert_segment``."""

    url: str
    counts: StoreCounts

    @abc.abstractmethod
    def connections(self) -> tuple[int, int]:
        """The store's connections now: (in use, idle)."""

    @abc.abstractmethod
    def _read(self) -> AbstractAsyncContextManager[Tx]:
        """A connection for reads (SQLite: the reader; PostgreSQL: a pooled connection)."""

    @abc.abstractmethod
    def _write(self) -> AbstractAsyncContextManager[Tx]:
        """A transaction, committed on exit, rolled back on error, driver errors mapped."""

    @abc.abstractmethod
    def _autocommit(self) -> AbstractAsyncContextManager[Tx]:
        """A connection whose statements each commit on their own, driver errors mapped: for a
        write that is one statement, without the round trips of BEGIN and COMMIT (PostgreSQL;
        SQLite's writes take its write lock anyway: ``_write``)."""

    async def _transact(
        self,
        work: Callable[[Tx], Coroutine[Any, Any, T]],
        *,
        single: bool = False,
        keyed: bool = False,
    ) -> T:
        """``work(tx)``'s statements as one write: in ``_write``'s transaction, or (``single``:
        statements each of which may commit on its own) ``_autocommit``'s connection.

        ``work`` awaits nothing but ``tx``'s statements, so a backend may run it whole where its
        connection lives: SQLite runs it in one trip to its writer's thread, not one per
        statement plus BEGIN and COMMIT, or (``keyed``: statements that only find rows by key)
        at once on the event loop when nothing else holds the file's write lock."""
        async with self._autocommit() if single else self._write() as tx:
            return await work(tx)

    @abc.abstractmethod
    async def _insert_segment(
        self, tx: Tx, tenant: str, new: NewSegment, actor: str | None
    ) -> Segment:
        """The insert of ``create_segment``, in the caller's transaction."""

    @property
    def sql_dialect(self) -> Dialect:
        """The dialect ``core.expr.sql`` compiles conditions to for this store."""
        return "sqlite" if self.url.startswith("sqlite") else "postgres"

    def _json(self, placeholder: str) -> str:
        """A JSON argument as the column takes it: text on SQLite, ``JSONB`` on PostgreSQL."""
        return placeholder if self.url.startswith("sqlite") else f"CAST({placeholder} AS JSONB)"

    def _row_lock(self, mode: str) -> str:
        """`` FOR <mode>`` on PostgreSQL, taken before a row is referenced or changed so a
        concurrent delete waits (or wins first and the reference is refused as not found);
        nothing on SQLite, whose writes are already serialised by ``BEGIN IMMEDIATE`` on its
        single writer."""
        return "" if self.url.startswith("sqlite") else f" FOR {mode}"
