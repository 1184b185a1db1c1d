"""Logs through structlog, one access line per request, a request id on every line.

Every line a serving process writes has one form: with ``SEGMUX_LOG_FORMAT=json`` (the default)
one JSON object with ``timestamp``, ``level``, ``logger`` and ``event`` (and the event's own
keys); with ``console``, a line for humans. uvicorn's own lines, Python's warnings and any
library's log records go through the same renderer (:func:`serving_log_config`).

What is never logged: request headers (tokens travel there), bodies, query strings.
"""

from __future__ import annotations

import logging
import logging.config
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
_format = "json"
_stream: TextIO | None = None


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


def _numeric(level: str) -> int:
    numeric = logging.getLevelName(level.upper())
    return numeric if isinstance(numeric, int) else logging.INFO


def _renderer(fmt: str) -> Any:
    if fmt == "console":
        return structlog.dev.ConsoleRenderer(colors=False)
    return structlog.processors.JSONRenderer()


_STAMP = structlog.processors.TimeStamper(fmt="iso", utc=True)


def configure(
    level: str = "info",
    stream: TextIO | None = None,
    fmt: str = "json",
    *,
    serving: bool = False,
) -> None:
    """Set up segmux's loggers: ``level``, ``fmt`` (``json`` or ``console``), written to
    ``stream`` (standard error unless given). ``serving``: also route the standard library's
    records (libraries', uvicorn's) and Python's warnings through the same renderer, as a
    serving process does (tests leave the standard library alone)."""
    global _generation, _level, _format, _stream
    numeric = _numeric(level)
    _level = numeric
    _format = fmt
    _stream = stream
    structlog.configure(
        processors=[
            add_request_id,
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            _STAMP,
            structlog.processors.format_exc_info,
            _renderer(fmt),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=stream or sys.stderr),
        # Not cached by structlog: tests reconfigure the output to check what is (and is not)
        # logged. ``Logger`` caches per configuration instead.
        cache_logger_on_first_use=False,
    )
    _generation += 1
    if serving:
        logging.config.dictConfig(serving_log_config(level, fmt))
        logging.captureWarnings(True)


def serving_log_config(level: str, fmt: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` (uvicorn's ``log_config``) rendering uvicorn's lines and
    every other standard-library record as segmux's own, on standard error. uvicorn applies it
    in each worker process too. Its access log stays off: segmux writes its own, without query
    strings."""
    upper = logging.getLevelName(_numeric(level))
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"segmux": {"()": "gateway.logging.StdlibFormatter", "fmt": fmt}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "segmux",
                "stream": "ext://sys.stderr",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
        # Libraries' own chatter below warnings is theirs, not the gateway's.
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }


class StdlibFormatter(structlog.stdlib.ProcessorFormatter):
    """A standard-library record as one of segmux's lines (same keys, same renderer)."""

    def __init__(self, fmt: str = "json") -> None:
        super().__init__(
            foreign_pre_chain=[
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                _uvicorn_name,
                _STAMP,
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                _renderer(fmt),
            ],
        )


def _uvicorn_name(
    logger: Any, method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """uvicorn writes all its lines (started, stopped, errors) through ``uvicorn.error``: they
    are uvicorn's, whatever their level."""
    if event_dict.get("logger") == "uvicorn.error":
        event_dict["logger"] = "uvicorn"
    return event_dict


def announce(event: str, **fields: Any) -> None:
    """Write one line of the configured form whatever the level: what ``segmux serve`` says
    on start-up (where it listens, which store, a first token) must not be filtered away."""
    line: MutableMapping[str, Any] = {"event": event, **fields, "level": "info", "logger": "segmux"}
    line = _STAMP(None, "info", line)
    out = _stream or sys.stderr
    print(_renderer(_format)(None, "info", line), file=out, flush=True)


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
            self._bound = structlog.get_logger(self._name).bind(logger=self._name)
            self._generation = _generation
        return getattr(self._bound, method)


def get_logger(name: str) -> Any:
    return Logger(name)
