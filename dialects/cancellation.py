"""Work that stops when its client goes away, within a CPU budget (``core.budget``).

uvicorn does not cancel a handler whose client disconnected: it only reports the disconnect as
an ``http.disconnect`` message to whoever reads ``receive``. A handler that has read its whole
body can therefore watch ``receive`` while its work runs, and cancel the work (which stops at
its next :meth:`~core.budget.Budget.pause`) when that message comes.

The work runs in the request's own task, and the watcher task is started only when the work
has held the event loop for a whole slice (:attr:`~core.budget.Budget.on_slice`). Before that
moment a cancellation could not take effect anyway (evaluation yields only at the end of a
slice), and most requests — one context against a tenant's segments — end well within one
slice: two tasks per request (the work's and the watcher's) and the wait on both cost a third
of such a request's CPU. A client that went away while a long request waited for the store is
noticed at the end of the first slice after it: ``receive`` reports a disconnect that already
happened at once.
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
    owner = asyncio.current_task()
    assert owner is not None, "called outside a task"
    watcher: asyncio.Task[None] | None = None
    running = True
    gone = False

    async def watch() -> None:
        nonlocal gone
        await _disconnected(request)
        # This runs only while the owner is suspended in an await; if that await is still
        # within the work, the cancellation is raised there.
        if running:
            gone = True
            owner.cancel()

    def start_watching() -> None:
        nonlocal watcher
        if watcher is None:
            watcher = asyncio.ensure_future(watch())

    budget.on_slice = start_watching
    reset = CURRENT_BUDGET.set(budget)
    try:
        return await work()
    except asyncio.CancelledError:
        if not gone:
            raise  # not ours: the shutdown's
        owner.uncancel()  # ours, and handled: the task goes on to answer (to no one)
        _log.info(
            "evaluation stopped: the client went away",
            done=budget.done,
            cpu_ms=round(budget.spent_ms, 1),
            path=request.url.path,
        )
        raise ClientGone() from None
    finally:
        running = False
        budget.on_slice = None
        CURRENT_BUDGET.reset(reset)
        if watcher is not None:
            watcher.cancel()


def client_gone() -> Response:
    """What is sent (to no one) for :class:`ClientGone`: 499, as proxies log it."""
    return Response(status_code=499)


__all__ = ["ClientGone", "client_gone", "until_disconnected"]
