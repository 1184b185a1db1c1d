"""JSON logs through structlog, one access line per request, a request id on every line.

What is never logged: request headers (tokens travel there), bodies, query strings.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any, TextIO

import structlog

REQUEST_ID: ContextVar[str | None] = ContextVar("segmux_request_id", default=None)
"""The current request's id (set by ``gateway.middleware.RequestContext``). One variable set and
reset per request is cheaper than structlog's ``bound_contextvars`` (which reads, binds and
restores its whole context dict every time)."""

_generation = 0
"""Bumped by :func:`configure`, so loggers rebuild themselves on the new configuration."""
_level = logging.INFO
"""The level :func:`configure` set (structlog's default before any call is to log everything
from info up, which this matches)."""


def info_enabled() -> bool:
    """Whether ``info`` lines are written: the access log checks it before building a line
    nobody would see (at ``warning`` a filtered call still costs its arguments)."""
    return _level <= logging.INFO


def add_request_id(
    logger: Any, method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Put the request id first, as ``merge_contextvars`` would (an explicit ``request_id=``
    in the call still wins)."""
    request_id = REQUEST_ID.get()
    if request_id is None:
        return event_dict
    return {"request_id": request_id, **event_dict}


def configure(level: str = "info", stream: TextIO | None = None) -> None:
    global _generation, _level
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    _level = numeric
    structlog.configure(
        processors=[
            add_request_id,
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=stream or sys.stderr),
        # Not cached by structlog: tests reconfigure the output to check what is (and is not)
        # logged. ``Logger`` caches per configuration instead.
        cache_logger_on_first_use=False,
    )
    _generation += 1


class Logger:
    """A structlog logger bound once per :func:`configure` call.

    structlog's lazy proxy (what ``structlog.get_logger`` returns while
    ``cache_logger_on_first_use`` is off) builds a new bound logger on *every* call, even one
    its level filters out; that was a measurable part of each request. This one rebuilds only
    when the configuration changed through :func:`configure` (call that, not
    ``structlog.configure``, to change the logging set-up)."""

    __slots__ = ("_bound", "_generation", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._bound: Any = None
        self._generation = -1

    def __getattr__(self, method: str) -> Any:
        if self._generation != _generation:
            self._bound = structlog.get_logger(self._name).bind()
            self._generation = _generation
        return getattr(self._bound, method)


def get_logger(name: str) -> Any:
    return Logger(name)
