"""Tenant revisions: one number per tenant that every committed write to its segments, flags,
rules, projects, environments or settings increases (database triggers, migration
``0006_revisions``), read with one primary-key lookup.

Caches (``core.cache``) use an entry only if it was built at the tenant's current revision. How
a process knows the current revision is the store's freshness mode:

* ``strict`` — it reads it before each use, so a write committed by any process is seen by the
  next read on every process; the cache saves the heavy work, never the check.
* ``notify`` (PostgreSQL) — :class:`KnownRevisions`: a revision read once is trusted until a
  change is announced. The triggers also ``NOTIFY segmux_revisions`` with the tenant (migration
  ``0008``), delivered at commit to every listening process; this process's own writes forget
  what it knew the moment they commit. A write by another process is therefore seen as soon as
  its notification arrives (on one host, well under a millisecond after the commit), and while
  the LISTEN connection is down nothing is trusted: every use reads, as in ``strict``.
"""

from __future__ import annotations

import time
from typing import Literal

from core.store.base import SqlBase

Freshness = Literal["strict", "notify"]
FRESHNESS_MODES: tuple[Freshness, ...] = ("strict", "notify")

KNOWN_TTL_SECONDS = 1.0
"""How long a revision is trusted without a read even if no notification comes: the bound on a
notification lost on a connection that died silently (the token cache has the same bound)."""

_REVISION_SQL = "SELECT revision FROM tenant_revisions WHERE tenant = $1"


class KnownRevisions:
    """Tenant revisions this process may use without reading them, while it listens.

    A read is filed only if nothing happened between its start and its end (no notification,
    no commit of this process, no reconnection: one counter, :attr:`generation`, for all), so
    a revision read before a change can never be filed after the change was announced.
    """

    def __init__(self, ttl: float = KNOWN_TTL_SECONDS) -> None:
        self.ttl = ttl
        self._known: dict[str, tuple[int, float]] = {}
        self.generation = 0
        self.listening = False
        """True while the LISTEN connection is up and subscribed; only then is anything kept."""

    def get(self, tenant: str) -> int | None:
        if not self.listening:
            return None
        entry = self._known.get(tenant)
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def file(self, tenant: str, revision: int, generation: int) -> None:
        """Keep a revision read that started at ``generation``, if nothing changed since."""
        if self.listening and generation == self.generation:
            self._known[tenant] = (revision, time.monotonic() + self.ttl)

    def changed(self, tenant: str | None = None) -> None:
        """A tenant changed (None: any may have: a commit of ours, a lost connection)."""
        self.generation += 1
        if tenant is None:
            self._known.clear()
        else:
            self._known.pop(tenant, None)

    def listen(self, up: bool) -> None:
        """The LISTEN connection came up (subscribed) or went down: forget everything."""
        self.changed()
        self.listening = up


class RevisionSql(SqlBase):
    freshness: Freshness = "strict"
    """How caches learn the current revision; only PostgreSQL can do ``notify``."""

    async def tenant_revision(self, tenant: str) -> int:
        async with self._read() as tx:
            row = await tx.fetchrow(_REVISION_SQL, tenant)
        return 0 if row is None else int(row["revision"])

    def known_revision(self, tenant: str) -> int | None:
        """The tenant's current revision if this process knows it without a read (``notify``
        freshness, listening), else None: read it with :meth:`tenant_revision`."""
        return None
