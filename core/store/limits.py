"""Bounds on the database work one request, and one tenant, may take.

* ``statement_timeout_ms``: the longest one statement may run (PostgreSQL's
  ``statement_timeout`` on every pooled connection; on SQLite, whose engine has none, a progress
  handler interrupts a statement past it). A statement cut off raises ``StatementTimeout``.
* ``count_timeout_ms``: the longest the count of a page's total may run when it does not fit in a
  request (PostgreSQL, ``core.store.profile_totals``): it runs outside the request, which waits
  for it at most ``statement_timeout_ms``.
* ``tenant_concurrency``: how many store operations of one tenant may hold a connection at once.
  The pool is shared by every tenant; without a cap, one tenant's slow requests could take
  every connection and make the others wait. The tenant is the one the request authenticated as
  (``WORK_TENANT``, set by ``core.tokens``); work outside a request (start-up, the CLI) is
  not capped.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

import msgspec

DEFAULT_POOL_SIZE = 10


class StoreLimits(msgspec.Struct, frozen=True, kw_only=True):
    statement_timeout_ms: int = 0
    """The longest a statement may run, in milliseconds; 0: unbounded (the CLI's batch work).
    The gateway sets it from ``SEGMUX_STATEMENT_TIMEOUT_MS``."""
    count_timeout_ms: int | None = None
    """The longest the count of a listing's total may run outside a request, in milliseconds;
    0: unbounded; None: ``statement_timeout_ms`` (no count outside a request). The gateway sets
    it from ``SEGMUX_COUNT_TIMEOUT_MS``."""
    tenant_concurrency: int = 0
    """Store operations one tenant may run at once; 0: unbounded."""

    @property
    def count_budget_ms(self) -> int:
        """``count_timeout_ms`` resolved (0: unbounded)."""
        return self.statement_timeout_ms if self.count_timeout_ms is None else self.count_timeout_ms

    @property
    def counts_outside(self) -> bool:
        """Whether a count may take longer than a request's statement: a count cut off by the
        statement timeout is then worth running again outside the request, on a store that
        counts there (PostgreSQL; SQLite counts only in the page's statement and ignores this:
        ``ProfilePageSql._count_read``)."""
        if self.statement_timeout_ms == 0:
            return False
        return self.count_budget_ms == 0 or self.count_budget_ms > self.statement_timeout_ms

    pool_size: int = DEFAULT_POOL_SIZE
    """Connections in PostgreSQL's pool (readers on SQLite)."""


WORK_TENANT: ContextVar[str | None] = ContextVar("segmux_work_tenant", default=None)
"""The tenant whose request the current task serves (None outside a request)."""
_HELD: ContextVar[bool] = ContextVar("segmux_tenant_permit_held", default=False)
"""Whether the current task already holds its tenant's permit (a store operation inside
another one must not wait for a second permit: with every permit held that would deadlock)."""


class TenantGates:
    """One semaphore per tenant with work in flight (dropped when the last one finishes)."""

    def __init__(self, permits: int) -> None:
        self.permits = permits
        self._gates: dict[str, tuple[asyncio.Semaphore, list[int]]] = {}

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        """Hold the current tenant's permit for the duration of the block (no-op without a
        cap, outside a request, or when the task already holds it)."""
        tenant = WORK_TENANT.get()
        if self.permits <= 0 or tenant is None or _HELD.get():
            yield
            return
        gate = self._gates.get(tenant)
        if gate is None:
            gate = self._gates[tenant] = (asyncio.Semaphore(self.permits), [0])
        semaphore, users = gate
        users[0] += 1
        try:
            async with semaphore:
                token = _HELD.set(True)
                try:
                    yield
                finally:
                    _HELD.reset(token)
        finally:
            users[0] -= 1
            if users[0] == 0:
                self._gates.pop(tenant, None)
