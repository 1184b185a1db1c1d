"""The store protocol: change detection for caches (revisions, token epochs) and what an
operator watches of a store (counts, connections)."""

from __future__ import annotations

from typing import Protocol

from core.store.base import StoreCounts
from core.store.revisions import Freshness


class RevisionStore(Protocol):
    # change detection for caches (see core.store.revisions and core.cache) ------------------
    async def tenant_revision(self, tenant: str) -> int:
        """A number that grows with every committed write (by any process) to the tenant's
        segments, bitsets, projects, environments, flags, rules or settings; 0 before the
        first. One indexed read."""

    freshness: Freshness
    """``strict`` or ``notify``: see ``core.store.revisions`` (settable; SQLite stays strict)."""

    def known_revision(self, tenant: str) -> int | None:
        """The tenant's current revision when this process knows it without a read (``notify``
        freshness while listening; SQLite: read since the file's last commit), else None."""

    counts: StoreCounts
    """Errors by kind and revision announcements, counted for the metrics (``gateway.metrics``)."""

    def connections(self) -> tuple[int, int]:
        """The store's connections now, (in use, idle): PostgreSQL's pool; SQLite's reader
        connections and its one writer."""

    async def token_epoch(self) -> int | None:
        """A number that changes whenever a token may have been revoked or changed, by any
        process, without a query; None when this process cannot tell (callers must then not
        use cached token lookups)."""
