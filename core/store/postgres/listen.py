"""One LISTEN connection per process: what other processes announce.

* ``segmux_tokens`` — a token was revoked (trigger of migration ``0006_revisions``).
  ``token_epoch`` changes on each notification and on each (re)connection, so a token lookup
  cached at one epoch stops being used the moment a revocation is delivered.
* ``segmux_revisions`` — a tenant's revision moved (payload: the tenant; migration ``0008``):
  the process forgets the revision it knew (``core.store.revisions.KnownRevisions``).

PostgreSQL delivers both at commit to every listening session. While the connection is down the
epoch is None and no revision is known: callers then neither cache token lookups nor trust a
revision they did not read, so a lost connection can only cost speed, never serve stale data.
The connection starts lazily (a CLI command never opens it).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg

from core.store.base import StoreCounts
from core.store.revisions import KnownRevisions

TOKENS_CHANNEL = "segmux_tokens"
REVISIONS_CHANNEL = "segmux_revisions"
_RETRY_FIRST, _RETRY_MAX = 0.1, 5.0


class ChangeListener:
    def __init__(self, url: str, known: KnownRevisions, counts: StoreCounts) -> None:
        self._url = url
        self._epoch = 0
        self._connected = False
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None
        self.known = known
        self.counts = counts

    def start(self) -> None:
        """Connect (in the background) if not yet started."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def epoch(self) -> int | None:
        """The current token epoch, or None (starting the connection) when not listening."""
        if self._task is None:
            self.start()
        return self._epoch if self._connected else None

    def bump(self) -> None:
        """A token change made by this process (seen before its own notification arrives)."""
        self._epoch += 1

    def _tokens_changed(self, *_: Any) -> None:
        self._epoch += 1

    def _revision_moved(self, _conn: Any, _pid: int, _channel: str, tenant: str) -> None:
        self.counts.announcements += 1
        self.known.changed(tenant)

    async def _run(self) -> None:
        delay = _RETRY_FIRST
        while True:
            closed = asyncio.Event()
            try:
                self._conn = await asyncpg.connect(self._url, timeout=10)
                self._conn.add_termination_listener(lambda _c, ev=closed: ev.set())
                await self._conn.add_listener(TOKENS_CHANNEL, self._tokens_changed)
                await self._conn.add_listener(REVISIONS_CHANNEL, self._revision_moved)
                # Subscribed: from here on every change is announced, so what is read from
                # now can be trusted; anything cached before this connection is suspect.
                self._epoch += 1
                self.known.listen(True)
                self._connected = self.counts.listening = True
                delay = _RETRY_FIRST
                await closed.wait()
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                pass
            finally:
                self._connected = self.counts.listening = False
                self.known.listen(False)
                self._epoch += 1
                conn, self._conn = self._conn, None
                if conn is not None and not conn.is_closed():
                    conn.terminate()
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX)

    async def close(self) -> None:
        task, self._task = self._task, None
        self._connected = False
        self.known.listen(False)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
