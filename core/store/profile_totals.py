"""Exact totals of pages of individuals, remembered under the revision they were counted at.

A page of a segment's members is cheap to find (the default order walks an index and stops after
``size`` matches), but its total means testing every individual of the sandbox. PostgreSQL keeps
a revision per sandbox that changes in the same transaction as every write to its individuals or
stored memberships (migration ``0006_profile_revisions``). The page's statement reads that
revision and, when it equals the one a remembered total was counted at, returns the remembered
total instead of counting; otherwise it counts, in the same statement and snapshot, and the
new (revision, total) is remembered. The total is therefore always the exact count of the rows
the page was read from, whichever process wrote them.

A count that does not fit in a request's statement timeout (10⁷ individuals: tens of seconds for
a filter the GIN index narrows only to a few hundred thousand candidates) runs outside the
request, under a budget of its own (``StoreLimits.count_timeout_ms``), at most one per listing
(``TotalCounts``); the pages asked for meanwhile are answered "retry" (``TotalPending``) until
its total exists, and then read with it, still only while the revision stands: never a total
counted at another revision, never an estimate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import NamedTuple

from core.bounded import ENTRY_OVERHEAD, MB, Bounded
from core.errors import ConditionTooCostly, Unavailable

_MAX_ENTRIES = 1_000
_MAX_BYTES = 16 * MB
"""A key holds a condition's SQL and arguments (a HAL filter is up to 64 KB of a client's text):
bounded in bytes as well as in entries."""


class Counted(NamedTuple):
    revision: int
    """The sandbox's revision the count was taken at."""
    total: int
    """The listing's exact total at that revision."""
    individuals: int
    """The sandbox's individuals at that revision (for planning only)."""


def walks(known: Counted | None, rows: int) -> bool:
    """Whether the first ``rows`` matches in creation order are cheaper found by walking the
    creation index (testing about ``rows * individuals / total`` profiles, and stopping) than
    by reading every candidate the GIN index gives for the condition's string equalities (at
    least ``total`` profiles, then sorting them). The last count of the same listing says
    which, stale or not: a wrong guess costs time, never correctness. Unknown: the index."""
    if known is None or known.total == 0:
        return False
    return rows * known.individuals <= known.total * known.total


class PageTotals:
    """A bounded map from a listing's identity (tenant, sandbox, condition SQL and arguments) to
    what was last counted for it; the least recently used entry goes first."""

    def __init__(self, max_entries: int = _MAX_ENTRIES, max_bytes: int = _MAX_BYTES) -> None:
        self._entries: Bounded[Hashable, Counted] = Bounded(
            capacity=max_entries, max_bytes=max_bytes
        )

    def get(self, key: Hashable) -> Counted | None:
        return self._entries.get(key)

    def put(self, key: Hashable, counted: Counted) -> None:
        self._entries.put(key, counted, len(repr(key)) + ENTRY_OVERHEAD)


_RUNNING = 16
"""Counts started and not finished, per store (a process): each may hold a connection for the
whole count budget, so a client sending many costly filters is told to retry, not queued."""
_AT_ONCE = 2
"""Counts running at once, per store; the others wait for a place (without a connection)."""


class TotalPending(Unavailable):
    """A listing's exact total is being counted outside the request and was not ready in the
    time a request waits: the page is not answered without it (a guess would be a wrong total),
    and a retry will find it once counted."""

    def __init__(self) -> None:
        super().__init__(
            "the total of this listing is being counted (it takes longer than one request may "
            "wait); retry",
            retry_after=1,
        )


class TotalCounts:
    """The counts running outside requests: one per listing (a request that finds one running
    waits for it instead of starting another), ``at_once`` counting at a time, at most
    ``running`` started and not finished. A listing once counted here is counted here from then
    on (``outside``): its next count would not fit in a request either, and trying would spend a
    request's statement timeout first. A count refused for the condition's own cost is
    remembered under the revision it was taken at: the same listing at the same revision is
    refused at once instead of being counted again (a new revision may count again)."""

    def __init__(self, running: int = _RUNNING, at_once: int = _AT_ONCE) -> None:
        self._limit = running
        self._places = asyncio.Semaphore(at_once)
        self._running: dict[Hashable, asyncio.Task[Counted]] = {}
        self._refused: Bounded[Hashable, tuple[int, ConditionTooCostly]] = Bounded(
            capacity=_MAX_ENTRIES, max_bytes=_MAX_BYTES
        )
        self._outside: Bounded[Hashable, bool] = Bounded(
            capacity=_MAX_ENTRIES, max_bytes=_MAX_BYTES
        )

    def outside(self, key: Hashable) -> bool:
        """Whether ``key`` is counted here (running now, or counted here before)."""
        return key in self._running or self._outside.get(key) is not None

    def start(
        self, key: Hashable, count: Callable[[], Awaitable[Counted]]
    ) -> asyncio.Task[Counted]:
        """The count of ``key`` running now, started with ``count`` if there is none. The task
        runs in a copy of the caller's context (its tenant's share of the connections)."""
        task = self._running.get(key)
        if task is not None:
            return task
        if len(self._running) >= self._limit:
            raise Unavailable("too many totals are being counted; retry later", retry_after=5)
        task = asyncio.create_task(self._run(count))
        self._running[key] = task
        self._outside.put(key, True, len(repr(key)) + ENTRY_OVERHEAD)

        def done(t: asyncio.Task[Counted]) -> None:
            self._running.pop(key, None)
            if not t.cancelled():
                t.exception()  # retrieved: nobody may be waiting for it any more

        task.add_done_callback(done)
        return task

    async def _run(self, count: Callable[[], Awaitable[Counted]]) -> Counted:
        async with self._places:
            return await count()

    def refused(self, key: Hashable, revision: int) -> ConditionTooCostly | None:
        """What refused ``key``'s count at ``revision``, if it was refused (a new error each
        time: one raised again and again would pile up tracebacks)."""
        found = self._refused.get(key)
        if found is None or found[0] != revision:
            return None
        return ConditionTooCostly(found[1].field, found[1].reason)

    def refuse(self, key: Hashable, revision: int, error: ConditionTooCostly) -> None:
        self._refused.put(key, (revision, error), len(repr(key)) + ENTRY_OVERHEAD)

    async def close(self) -> None:
        """Cancel the counts still running (the store is closing)."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
