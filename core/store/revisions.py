"""Tenant revisions: one number per tenant that every committed write to its segments, flags,
rules, projects, environments or settings increases (database triggers, migration
``0006_revisions``), read with one primary-key lookup.

Caches (``core.cache``) read it before each use and keep an entry only for the revision it was
built at, so a write committed by any process is seen by the next read on every process; the
cache saves the heavy work (loading, compiling, encoding), never the check.
"""

from __future__ import annotations

import abc
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.store.sql import Tx

_REVISION_SQL = "SELECT revision FROM tenant_revisions WHERE tenant = $1"


class RevisionSql(abc.ABC):
    @abc.abstractmethod
    def _read(self) -> AbstractAsyncContextManager[Tx]: ...

    async def tenant_revision(self, tenant: str) -> int:
        async with self._read() as tx:
            row = await tx.fetchrow(_REVISION_SQL, tenant)
        return 0 if row is None else int(row["revision"])
