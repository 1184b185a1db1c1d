"""Caches across requests that can never serve stale data.

* :class:`TenantCache` — values built from a tenant's segments, flags and rules (a compiled
  segment set, an encoded client payload, a first page). Every ``get`` first reads the tenant's
  revision (``Store.tenant_revision``: one indexed read, bumped by triggers in the same commit as
  any write by any process) and uses an entry only if it was built at that revision. Reading the
  revision *before* building makes the worst race harmless: a write committed in between lands
  in a value filed under the older revision, which the next read replaces. Concurrent reads of
  one tenant's revision are shared (:class:`RevisionReads`), but only reads that had not yet
  started when the caller asked, so sharing never makes an answer older.
* :class:`TokenCache` — token hash -> principal. Checking a token on every request is the one
  read a revision check could not save (it *is* one indexed read), so it is invalidated by push
  instead: ``Store.token_epoch`` changes when any process revokes a token (PostgreSQL
  ``LISTEN/NOTIFY``; SQLite ``PRAGMA data_version``, which any commit changes), and an entry
  also expires after :data:`TOKEN_TTL_SECONDS`, which bounds a notification lost on a silently
  dead connection. Keys are SHA-256 hashes; the token itself is
  never kept. Unknown tokens are never cached (a new token works at once; random guesses cannot
  fill the cache).
* :class:`ResponseCache` — encoded first pages, keyed on the *parsed* list parameters (two
  spellings of one query share an entry).

Every cache here, and every other cache of the process, is a :class:`Bounded` map: an entry count
*and* a byte bound, and entries over a size threshold are not kept, so no sequence of requests can
make the process's memory grow past the sum of the bounds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

# The bounded map lives in core.bounded (the store uses it too, and the store is below this
# module); these names are re-exported because the caches' users import them from here.
from core.bounded import ENTRY_OVERHEAD as ENTRY_OVERHEAD
from core.bounded import MB as MB
from core.bounded import OBJECT_FACTOR as OBJECT_FACTOR
from core.bounded import Bounded as Bounded
from core.bounded import json_weight as json_weight
from core.model import Principal
from core.store import Store

V = TypeVar("V")

TOKEN_TTL_SECONDS = 1.0


class RevisionReads:
    """``Store.tenant_revision``, with concurrent callers sharing reads.

    Under load every cached answer would otherwise pay its own round trip for the same number.
    A caller never takes the result of a read already under way when it asks (that read may
    predate a write the caller has seen committed); it waits for the read queued behind it,
    which starts after the current one ends, so after every caller that joined it. Each tenant
    thus has at most one read running and one queued, shared by everyone who asked meanwhile.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._running: dict[str, asyncio.Future[None]] = {}
        """Per tenant, a read under way: a future that is done when it ends."""
        self._queued: dict[str, asyncio.Task[int]] = {}
        """Per tenant, the read that starts when the running one ends, shared by its callers."""

    async def read(self, tenant: str) -> int:
        known = self.store.known_revision(tenant)
        if known is not None:  # notify freshness: announced changes only (core.store.revisions)
            return known
        loop = asyncio.get_running_loop()
        running = _live(self._running, tenant, loop)
        if running is None:  # the common case without contention: read at once, no task
            return await self._read_now(tenant, loop)
        queued = _live(self._queued, tenant, loop)
        if queued is None:
            queued = loop.create_task(self._read_after(tenant, running, loop))
            self._queued[tenant] = queued
        # Shielded: a caller that is cancelled must not cancel the read the others wait for.
        return await asyncio.shield(queued)

    async def _read_now(self, tenant: str, loop: asyncio.AbstractEventLoop) -> int:
        marker: asyncio.Future[None] = loop.create_future()
        self._running[tenant] = marker
        try:
            return await self.store.tenant_revision(tenant)
        finally:
            marker.set_result(None)
            if self._running.get(tenant) is marker:
                del self._running[tenant]

    async def _read_after(
        self, tenant: str, running: asyncio.Future[None], loop: asyncio.AbstractEventLoop
    ) -> int:
        await asyncio.wait([running])
        # From here on this read is under way: later callers queue behind it, not join it.
        if self._queued.get(tenant) is asyncio.current_task():
            del self._queued[tenant]
        return await self._read_now(tenant, loop)


F = TypeVar("F", bound=asyncio.Future[Any])


def _live(futures: dict[str, F], tenant: str, loop: asyncio.AbstractEventLoop) -> F | None:
    """The tenant's future if it is unfinished and of this loop (tests run a loop per test)."""
    found = futures.get(tenant)
    if found is None or found.done() or found.get_loop() is not loop:
        return None
    return found


class TenantCache(Generic[V]):
    """Values per (tenant, key), each valid for exactly the tenant revision it was built at,
    bounded by ``capacity`` entries and ``max_bytes`` of their weights (``weigh``)."""

    def __init__(
        self,
        store: Store,
        capacity: int = 256,
        *,
        weigh: Callable[[V], int] = json_weight,
        max_bytes: int = 64 * MB,
        max_entry: int | None = None,
    ) -> None:
        self.store = store
        self.capacity = capacity
        self._weigh = weigh
        self._entries: Bounded[tuple[str, Hashable], tuple[int, V]] = Bounded(
            capacity=capacity, max_bytes=max_bytes, max_entry=max_entry
        )
        self._revisions = RevisionReads(store)
        self.served = 0
        """Gets answered from an entry built at the current revision (for the metrics)."""
        self.rebuilt = 0
        """Gets that had to build (no entry, or one from an older revision)."""

    @property
    def kept_bytes(self) -> int:
        return self._entries.kept_bytes

    def __len__(self) -> int:
        return len(self._entries)

    async def get(
        self,
        tenant: str,
        key: Hashable,
        build: Callable[[int, V | None], Awaitable[V]],
        key_weight: int = 0,
    ) -> V:
        """The value for ``key``; ``build(revision, previous value or None)`` makes it when the
        tenant changed since it was last built. ``key_weight``: the bytes the key holds, where
        a client chooses it."""
        revision = await self._revisions.read(tenant)
        slot = (tenant, key)
        entry = self._entries.get(slot)
        if entry is not None and entry[0] == revision:
            self.served += 1
            return entry[1]
        self.rebuilt += 1
        value = await build(revision, None if entry is None else entry[1])
        current = self._entries.get(slot)
        if current is None or current[0] <= revision:  # never replace a newer build
            self._entries.put(slot, (revision, value), self._weigh(value) + key_weight)
        return value


class TokenCache:
    """Token hash -> principal, valid while the store's token epoch is unchanged and for at most
    :data:`TOKEN_TTL_SECONDS`."""

    def __init__(
        self, capacity: int = 10_000, ttl: float = TOKEN_TTL_SECONDS, max_bytes: int = 16 * MB
    ) -> None:
        self.capacity = capacity
        self.ttl = ttl
        self._entries: Bounded[str, tuple[int, float, Principal]] = Bounded(
            capacity=capacity, max_bytes=max_bytes
        )

    def get(self, token_hash: str, epoch: int) -> Principal | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        if entry[0] != epoch or entry[1] < time.monotonic():
            self._entries.pop(token_hash)
            return None
        return entry[2]

    def put(self, token_hash: str, epoch: int, principal: Principal) -> None:
        """File a lookup made *after* ``epoch`` was read (so a revocation committed meanwhile
        has changed the epoch and the entry is never used)."""
        weight = json_weight(principal) + len(token_hash)
        self._entries.put(token_hash, (epoch, time.monotonic() + self.ttl, principal), weight)


PAGES_MAX_BYTES = 64 * MB
"""Bytes of encoded first pages one process keeps (all tenants together)."""
PAGE_MAX_BYTES = 2 * MB
"""A first page larger than this is encoded per request, never kept."""


class ResponseCache:
    """Encoded responses (a dialect's list first page, say) per tenant revision.

    Keyed by what the principal may see — tenant, scope, default sandbox — plus the caller's
    key, so an entry is only ever served to principals for whom building it succeeded: the
    service's authorization runs in ``build``, and it depends on nothing else of the principal.
    The caller's key must be made of *parsed* parameters (``pageSize=10`` and ``pageSize=010``
    are one key), so that spelling a query differently cannot multiply the entries; the bytes
    kept are bounded whatever the keys (:data:`PAGES_MAX_BYTES`, :data:`PAGE_MAX_BYTES`).
    """

    def __init__(
        self,
        store: Store,
        capacity: int = 1024,
        *,
        max_bytes: int = PAGES_MAX_BYTES,
        max_entry: int = PAGE_MAX_BYTES,
    ) -> None:
        self._cache: TenantCache[bytes] = TenantCache(
            store, capacity, weigh=_body_weight, max_bytes=max_bytes, max_entry=max_entry
        )

    @property
    def kept_bytes(self) -> int:
        return self._cache.kept_bytes

    @property
    def served(self) -> int:
        return self._cache.served

    @property
    def rebuilt(self) -> int:
        return self._cache.rebuilt

    def __len__(self) -> int:
        return len(self._cache)

    async def get(
        self, principal: Principal, key: Hashable, build: Callable[[], Awaitable[bytes]]
    ) -> bytes:
        async def make(revision: int, previous: bytes | None) -> bytes:
            return await build()

        view = (principal.scope, principal.default_sandbox, key)
        # Parsed keys are small, but a filter's text is the client's: count what it holds.
        return await self._cache.get(principal.tenant, view, make, key_weight=len(repr(key)))


def _body_weight(body: bytes) -> int:
    return len(body) + ENTRY_OVERHEAD
