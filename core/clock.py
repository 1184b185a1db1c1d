"""The one clock of a request: conditions relative to now read it, never the wall clock.

A condition such as ``birthday occurs last week`` or ``birthMonth = currentMonth()`` is decided
against an instant. Within one request every such condition — in the evaluator, in the SQL that
selects members, in a translation — must see the *same* instant, or a request could answer
"member" and "not a member" for one individual at a week's boundary. So the instant is taken
once, when the request starts (``gateway.middleware.RequestContext`` calls :func:`begin`), and
read by everything below through :func:`now`; tasks the request spawns copy it with their
context. Code that runs outside a request (a test, a script) takes one instant for one call
with :func:`one_clock`; where nothing set one, :func:`now` reads the wall clock.

Tests freeze it with ``one_clock(instant)`` or by replacing :data:`WALL` (what :func:`begin`
reads), so a request's clock is a fixed, chosen instant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

__all__ = ["WALL", "begin", "end", "now", "now_us", "one_clock"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _wall() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


WALL: list[Callable[[], dt.datetime]] = [_wall]
"""Where a request's instant comes from (one slot, so a test can put a fixed clock in it)."""

_CLOCK: ContextVar[dt.datetime | None] = ContextVar("segmux_clock", default=None)


def begin() -> Token[dt.datetime | None]:
    """Take the request's instant (once) and make it the clock of everything the request runs."""
    return _CLOCK.set(WALL[0]())


def end(token: Token[dt.datetime | None]) -> None:
    _CLOCK.reset(token)


@contextmanager
def one_clock(instant: dt.datetime | None = None) -> Iterator[dt.datetime]:
    """Run a block against one instant: ``instant`` (aware), or the one already set, or one
    read now. Nested blocks without an instant keep the outer one."""
    current = _CLOCK.get()
    chosen = instant or current or WALL[0]()
    if chosen.tzinfo is None:
        raise ValueError("the clock is an aware datetime")
    token = _CLOCK.set(chosen)
    try:
        yield chosen
    finally:
        _CLOCK.reset(token)


def now() -> dt.datetime:
    """The request's instant (UTC); outside a request and a ``one_clock`` block, the wall clock."""
    return (_CLOCK.get() or WALL[0]()).astimezone(dt.UTC)


def now_us() -> int:
    """:func:`now` in microseconds since 1970-01-01 UTC (``core.expr.kinds``' instants)."""
    delta = now() - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
