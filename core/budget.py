"""A request's allowance of CPU time for evaluation, and the pauses that let other requests run.

Evaluation is pure Python on the event loop: while one request evaluates, no other request of
any tenant moves. So work over many contexts (or segments) is cut into steps:

* :meth:`Budget.pause` between steps adds the CPU time the step took (``time.thread_time``: the
  loop's own thread, so time other requests take between steps is not billed) and, once a slice
  of :data:`SLICE_SECONDS` has been used without a break, yields to the event loop.
* :meth:`Budget.charge` is called inside a step by the costly tests (pattern matches, see
  ``core.expr.evaluate``) through :data:`CURRENT_BUDGET`, so even one huge context cannot run
  past the allowance.
* Spending more than the allowance raises :class:`BudgetExceeded`: a
  :class:`~core.errors.LimitExceeded`, because the cost comes from what was asked (the
  conditions, the contexts), and asking again would cost the same — every dialect answers it
  with its 4xx, never a 503 that invites a retry.

A task that is cancelled (its client went away) stops at its next pause. Whoever wants to know
when a request first holds the loop for a whole slice sets :attr:`Budget.on_slice`: the
disconnect watcher (``dialects.cancellation``) starts only then, so the many requests that end
within one slice pay nothing for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextvars import ContextVar

from core.errors import LimitExceeded

SLICE_SECONDS = 0.02
"""CPU time one request may take on the event loop before it lets the others run."""
_CHARGE_EVERY = 16
""":meth:`Budget.charge` reads the clock once in this many calls (a match costs about as much
as a clock read)."""

DEFAULT_EVALUATE_BUDGET_MS = 2000


class BudgetExceeded(LimitExceeded):
    """The request used up its CPU allowance; ``field`` names what it sent that cost it."""

    def __init__(self, field: str, limit_ms: int, done: int) -> None:
        progress = f", stopped after {done} of the {field}" if done else ""
        super().__init__(
            field,
            f"evaluating took more than the {limit_ms} ms of CPU time one request may use"
            f"{progress}; send less at a time, or simplify the conditions",
        )
        self.limit_ms = limit_ms
        self.done = done


class Budget:
    """CPU time (milliseconds; None: no limit) that one request's evaluation may spend."""

    def __init__(self, limit_ms: int | None, field: str = "context") -> None:
        self.limit_ms = limit_ms
        self.field = field
        self.done = 0
        """Steps finished (e.g. contexts evaluated): for the error and the logs."""
        self._limit = None if limit_ms is None else limit_ms / 1000
        self._spent = 0.0
        self._calls = 0
        self._since = self._slice_start = time.thread_time()
        self.on_slice: Callable[[], None] | None = None
        """Called each time :meth:`pause` is about to yield because a slice was used up."""

    @property
    def spent_ms(self) -> float:
        return self._spent * 1000

    def resume(self) -> None:
        """Start counting again after an await that was not :meth:`pause` (the store): what other
        requests did meanwhile is not this request's."""
        self._since = self._slice_start = time.thread_time()

    def _account(self) -> float:
        now = time.thread_time()
        self._spent += now - self._since
        self._since = now
        if self._limit is not None and self._spent > self._limit:
            assert self.limit_ms is not None
            raise BudgetExceeded(self.field, self.limit_ms, self.done)
        return now

    def charge(self) -> None:
        """Inside a step: raise :class:`BudgetExceeded` once the allowance is spent."""
        self._calls += 1
        if self._calls % _CHARGE_EVERY == 0:
            self._account()

    async def pause(self, steps: int = 1) -> None:
        """Between steps: count ``steps`` done and the CPU they took; yield to the event loop
        when this request has held it for a slice."""
        self.done += steps
        now = self._account()
        if now - self._slice_start >= SLICE_SECONDS:
            if self.on_slice is not None:
                self.on_slice()
            await asyncio.sleep(0)
            self.resume()


CURRENT_BUDGET: ContextVar[Budget | None] = ContextVar("segmux_budget", default=None)
"""The budget of the request running in this context (set by the handler that made it)."""


def current_budget() -> Budget:
    """The running request's budget, or one without a limit (which still pauses)."""
    budget = CURRENT_BUDGET.get()
    return budget if budget is not None else Budget(None)


__all__ = [
    "CURRENT_BUDGET",
    "DEFAULT_EVALUATE_BUDGET_MS",
    "SLICE_SECONDS",
    "Budget",
    "BudgetExceeded",
    "current_budget",
]
