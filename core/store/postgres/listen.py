"""One LISTEN connection per process: token changes announced by other processes.

The ``tokens`` table's trigger (migration ``0006_revisions``) sends ``NOTIFY segmux_tokens`` when a
token is revoked; PostgreSQL delivers it at commit to every listening session. ``token_epoch``
changes on each notification and on each (re)connection, so a token lookup cached at one epoch
stops being used the moment a revocation is delivered. While the connection is down the epoch is
None: callers must not cache, so a lost connection can only cost speed, never serve a revoked
token. The connection starts lazily (a CLI command never opens it).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg

TOKENS_CHANNEL = "segmux_tokens"
_RETRY_FIRST, _RETRY_MAX = 0.1, 5.0


class TokenListener:
    def __init__(self, url: str) -> None:
        self._url = url
        self._epoch = 0
        self._connected = False
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None

    def epoch(self) -> int | None:
        """The current epoch, or None (starting the connection) when not listening."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return self._epoch if self._connected else None

    def bump(self) -> None:
        """A change made by this process (seen before its own notification arrives)."""
        self._epoch += 1

    def _notified(self, *_: Any) -> None:
        self._epoch += 1

    async def _run(self) -> None:
        delay = _RETRY_FIRST
        while True:
            closed = asyncio.Event()
            try:
                self._conn = await asyncpg.connect(self._url, timeout=10)
                self._conn.add_termination_listener(lambda _c, ev=closed: ev.set())
                await self._conn.add_listener(TOKENS_CHANNEL, self._notified)
                self._epoch += 1  # anything cached before this connection is suspect
                self._connected = True
                delay = _RETRY_FIRST
                await closed.wait()
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                pass
            finally:
                self._connected = False
                self._epoch += 1
                conn, self._conn = self._conn, None
                if conn is not None and not conn.is_closed():
                    conn.terminate()
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX)

    async def close(self) -> None:
        task, self._task = self._task, None
        self._connected = False
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
