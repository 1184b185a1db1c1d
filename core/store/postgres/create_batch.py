"""Segment creates of one tenant that arrive together, written together (PostgreSQL).

Every write of a tenant queues behind the one before it until that one's commit is on disk: the
claim of the next seq locks the tenant's row, the revision trigger locks the tenant's counter
row, and ``NOTIFY`` takes PostgreSQL's one lock for notifying commits; all three are held until
the commit has been flushed. So creates of one tenant never share a WAL flush, and each paid
its own: on a 2-core machine about a third of the database's CPU per create, and the statement
and the round trip beside it.

So while one create of a tenant is being written, the creates that arrive for it wait, and are
then written together: one statement claims as many seqs as there are creates and inserts them
all (``unnest`` of one array per column), one commit, one revision, one notification. A create
arriving when none of its tenant's is in flight is written at once, alone, as before; a batch
is never waited for on purpose, it only forms behind a write that is already running.

A create of the batch that the statement did not insert (a name, a slug or an id another row
holds, in the table or earlier in the same batch: ``ON CONFLICT DO NOTHING``), and every create
of a batch whose statement failed or whose tenant failed the guard, is answered ``None``: its
caller writes it alone, which answers it exactly as an unbatched create (its ``Conflict``, the
``RoomChanged`` of its guard, ``NotFound`` of its tenant, or the store's error). A seq claimed for
a create that was not inserted stays unused, as PostgreSQL's own sequences leave gaps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.model import RoomGuard
from core.store.base import Row
from core.store.rows import SEGMENT_COLUMNS

MAX_BATCH = 64
"""Creates one statement writes at most (the rest wait for the next)."""

# The arguments of one create, in the order of core.store.sql._insert_args: $1 is the tenant,
# the others become one array each. created_at (the 13th) is the only number.
_ARRAYS = (
    "id text[]",
    "slug text[]",
    "sandbox text[]",
    "name text[]",
    "description text[]",
    "kind text[]",
    "expression text[]",
    "allocation text[]",
    "state text[]",
    "labels text[]",
    "owner text[]",
    "created_at bigint[]",
    "created_by text[]",
    "extensions text[]",
)
_NAMES = [a.split()[0] for a in _ARRAYS]
_UNNEST = ", ".join(f"${i + 3}::{a.split()[1]}" for i, a in enumerate(_ARRAYS))
_GUARD = f" AND settings = ${len(_ARRAYS) + 3} AND next_seq + $2 - 1 <= ${len(_ARRAYS) + 4}::bigint"
_SELECT = (
    "$1, n.id, claimed.first + n.ord - 1, n.slug, n.sandbox, n.name, n.description, n.kind, "
    "n.expression, n.allocation, n.state, n.labels, n.owner, n.created_at, n.created_at, "
    "n.created_by, n.created_by, 1, n.extensions"
)
_BATCH = (
    "WITH claimed AS (UPDATE tenants SET next_seq = next_seq + $2::bigint WHERE name = $1{guard} "
    "RETURNING next_seq - $2::bigint AS first), "
    f"n AS (SELECT * FROM unnest({_UNNEST}) WITH ORDINALITY AS n({', '.join(_NAMES)}, ord)) "
    f"INSERT INTO segments ({SEGMENT_COLUMNS}) SELECT {_SELECT} FROM claimed, n ORDER BY n.ord "
    "ON CONFLICT DO NOTHING RETURNING *"
)
BATCH_SQL = _BATCH.format(guard="")
GUARDED_BATCH_SQL = _BATCH.format(guard=_GUARD)

Run = Callable[[str, Sequence[Any]], Awaitable[Sequence[Row]]]
"""Runs one statement committed on its own and returns its rows."""
Key = tuple[str, RoomGuard | None]


@dataclass
class _Waiting:
    args: list[Any]
    answer: asyncio.Future[Row | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class CreateBatches:
    """The creates waiting behind a write of their tenant, by tenant and guard (creates with
    another guard, or none, are written in a statement of their own)."""

    def __init__(self, run: Run) -> None:
        self._run = run
        self._waiting: dict[Key, list[_Waiting]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def in_flight(self, key: Key) -> bool:
        return key in self._waiting

    def begin(self, key: Key) -> None:
        """A create of ``key`` is being written alone: the next ones wait behind it."""
        self._waiting[key] = []

    def end(self, key: Key) -> None:
        """The create written alone is done: write whatever waits behind it."""
        if self._waiting[key]:
            task = asyncio.get_running_loop().create_task(self._drain(key))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            del self._waiting[key]

    async def join(self, key: Key, args: list[Any]) -> Row | None:
        """Wait for the batch this create joins: its row, or None (write it alone)."""
        waiting = _Waiting(args)
        self._waiting[key].append(waiting)
        return await waiting.answer

    async def _drain(self, key: Key) -> None:
        try:
            while batch := self._take(key):
                await self._write(key, batch)
        finally:
            for waiting in self._waiting.pop(key, []):  # only when cancelled: answered alone
                if not waiting.answer.done():
                    waiting.answer.set_result(None)

    def _take(self, key: Key) -> list[_Waiting]:
        """The next batch; a create whose caller is gone (its request cancelled) is not written."""
        queue = [w for w in self._waiting[key] if not w.answer.done()]
        batch, self._waiting[key] = queue[:MAX_BATCH], queue[MAX_BATCH:]
        return batch

    async def _write(self, key: Key, batch: list[_Waiting]) -> None:
        tenant, guard = key
        args: list[Any] = [tenant, len(batch)]
        args += [[w.args[i] for w in batch] for i in range(1, len(_ARRAYS) + 1)]
        sql = BATCH_SQL
        if guard is not None:
            sql = GUARDED_BATCH_SQL
            args += [guard.settings, guard.next_seq_at_most]
        rows: Sequence[Row] = []
        try:
            rows = await self._run(sql, args)
        except Exception:
            pass  # each is written alone, and answered its own error there
        finally:  # cancelled too: no create is left waiting
            by_id = {row["id"]: row for row in rows}
            for waiting in batch:
                if not waiting.answer.done():
                    waiting.answer.set_result(by_id.get(waiting.args[1]))
