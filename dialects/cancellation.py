"""Work that stops when its client goes away, within a CPU budget (``core.budget``).

uvicorn does not cancel a handler whose client disconnected: it only reports the disconnect as
an ``http.disconnect`` message to whoever reads ``receive``. A handler that has read its whole
body can therefore watch ``receive`` while its work runs, and cancel the work (which stops at
its next :meth:`~core.budget.Budget.pause`) when that message comes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response

from core.budget import CURRENT_BUDGET, Budget
from dialects.http import Log

T = TypeVar("T")
_log = Log("segmux.evaluate")


class ClientGone(Exception):
    """The client disconnected before the work was done; nobody is left to answer."""


async def _disconnected(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def until_disconnected(
    request: Request, budget: Budget, work: Callable[[], Awaitable[T]]
) -> T:
    """``work()`` with ``budget`` as its :data:`~core.budget.CURRENT_BUDGET`, cancelled (and
    :class:`ClientGone` raised) if the client of ``request`` disconnects first. Call it only
    once the body has been read."""

    async def run() -> T:
        CURRENT_BUDGET.set(budget)  # the task runs in a copy of the context: set it there
        return await work()

    task = asyncio.ensure_future(run())
    watcher = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait((task, watcher), return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    if task.cancelled():
        _log.info(
            "evaluation stopped: the client went away",
            done=budget.done,
            cpu_ms=round(budget.spent_ms, 1),
            path=request.url.path,
        )
        raise ClientGone()
    return task.result()


def client_gone() -> Response:
    """What is sent (to no one) for :class:`ClientGone`: 499, as proxies log it."""
    return Response(status_code=499)


__all__ = ["ClientGone", "client_gone", "until_disconnected"]
