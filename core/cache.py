"""Caches across requests that can never serve stale data.

* :class:`TenantCache` — values built from a tenant's segments, flags and rules (a compiled
  segment set, an encoded client payload, a first page). Every ``get`` first reads the tenant's
  revision (``Store.tenant_revision``: one indexed read, bumped by triggers in the same commit as
  any write by any process) and uses an entry only if it was built at that revision. Reading the
  revision *before* building makes the worst race harmless: a write committed in between lands
  in a value filed under the older revision, which the next read replaces.
* :class:`TokenCache` — token hash -> principal. Checking a token on every request is the one
  read a revision check could not save (it *is* one indexed read), so it is invalidated by push
  instead: ``Store.token_epoch`` changes when any process revokes a token (PostgreSQL
  ``LISTEN/NOTIFY``), and an entry also expires after :data:`TOKEN_TTL_SECONDS`, which bounds a
  notification lost on a silently dead connection. Keys are SHA-256 hashes; the token itself is
  never kept. Unknown tokens are never cached (a new token works at once; random guesses cannot
  fill the cache).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from core.model import Principal
from core.store import Store

V = TypeVar("V")

TOKEN_TTL_SECONDS = 1.0


class TenantCache(Generic[V]):
    """Values per (tenant, key), each valid for exactly the tenant revision it was built at."""

    def __init__(self, store: Store, capacity: int = 256) -> None:
        self.store = store
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, Hashable], tuple[int, V]] = OrderedDict()

    async def get(
        self,
        tenant: str,
        key: Hashable,
        build: Callable[[int, V | None], Awaitable[V]],
    ) -> V:
        """The value for ``key``; ``build(revision, previous value or None)`` makes it when the
        tenant changed since it was last built."""
        revision = await self.store.tenant_revision(tenant)
        slot = (tenant, key)
        entry = self._entries.get(slot)
        if entry is not None and entry[0] == revision:
            self._entries.move_to_end(slot)
            return entry[1]
        value = await build(revision, None if entry is None else entry[1])
        current = self._entries.get(slot)
        if current is None or current[0] <= revision:  # never replace a newer build
            self._entries[slot] = (revision, value)
            self._entries.move_to_end(slot)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return value


class TokenCache:
    """Token hash -> principal, valid while the store's token epoch is unchanged and for at most
    :data:`TOKEN_TTL_SECONDS`."""

    def __init__(self, capacity: int = 10_000, ttl: float = TOKEN_TTL_SECONDS) -> None:
        self.capacity = capacity
        self.ttl = ttl
        self._entries: OrderedDict[str, tuple[int, float, Principal]] = OrderedDict()

    def get(self, token_hash: str, epoch: int) -> Principal | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        if entry[0] != epoch or entry[1] < time.monotonic():
            del self._entries[token_hash]
            return None
        return entry[2]

    def put(self, token_hash: str, epoch: int, principal: Principal) -> None:
        """File a lookup made *after* ``epoch`` was read (so a revocation committed meanwhile
        has changed the epoch and the entry is never used)."""
        self._entries[token_hash] = (epoch, time.monotonic() + self.ttl, principal)
        self._entries.move_to_end(token_hash)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)


class ResponseCache:
    """Encoded responses (a dialect's list first page, say) per tenant revision.

    Keyed by what the principal may see — tenant, scope, default sandbox — plus the caller's
    key, so an entry is only ever served to principals for whom building it succeeded: the
    service's authorization runs in ``build``, and it depends on nothing else of the principal.
    """

    def __init__(self, store: Store, capacity: int = 1024) -> None:
        self._cache: TenantCache[bytes] = TenantCache(store, capacity)

    async def get(
        self, principal: Principal, key: Hashable, build: Callable[[], Awaitable[bytes]]
    ) -> bytes:
        async def make(revision: int, previous: bytes | None) -> bytes:
            return await build()

        view = (principal.scope, principal.default_sandbox, key)
        return await self._cache.get(principal.tenant, view, make)
