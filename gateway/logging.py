"""Logs through structlog, one access line per request, a request id on every line.

Every line a serving process writes has one form: with ``SEGMUX_LOG_FORMAT=json`` (the default)
one JSON object with ``timestamp``, ``level``, ``logger`` and ``event`` (and the event's own
keys); with ``console``, a line for humans. uvicorn's own lines, Python's warnings and any
library's log records go through the same renderer (:func:`serving_log_config`).

The access line, the one on every request's path, is built directly in the bytes the chain
would write (:func:`access`); every line goes through the process's one writer
(``gateway.log_writer``), which in a serving process writes access lines off the request path.
What each costs: ``docs/logs.md``.

What is never logged: request headers (tokens travel there), bodies, query strings.
"""

from __future__ import annotations

import datetime
import logging
import logging.config
import re
import time
from collections.abc import Callable, MutableMapping
from contextvars import ContextVar
from json.encoder import encode_basestring_ascii
from typing import Any, TextIO

import structlog

from gateway.log_writer import LineWriter

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
_writer = LineWriter(render=lambda record: _access_line(record))
"""Where every line goes (``gateway.log_writer``): buffered in a serving process."""


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
    global _generation, _level, _format, _writer, _access_head
    _writer.flush()  # access lines logged so far, made in the format they were logged in
    numeric = _numeric(level)
    _level = numeric
    _format = fmt
    _writer = LineWriter(stream, buffered=serving, render=_access_line)
    _access_head = _console_head("segmux.access", "request") if fmt == "console" else ""
    _PATHS.clear()  # their text in the format set before
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
        logger_factory=_WriterLogger,
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
            # Standard error, through the process's one writer (the order of lines kept).
            "stderr": {"class": "gateway.logging.WriterHandler", "formatter": "segmux"},
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
    _writer.write_now(_renderer(_format)(None, "info", line) + "\n")


def flush() -> None:
    """Write every line logged so far (a serving process's shutdown)."""
    _writer.flush()


class _WriterLogger:
    """structlog's output: each rendered line to the process's writer (as read at each call,
    so a reconfiguration takes effect at once)."""

    def __init__(self, *args: Any) -> None:
        pass

    def msg(self, message: str) -> None:
        _writer.write_now(message + "\n")  # only the access line waits in the buffer

    log = debug = info = warn = warning = msg
    fatal = failure = err = error = critical = exception = msg


class WriterHandler(logging.Handler):
    """A standard-library handler writing formatted records to the process's writer."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _writer.write_now(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


# --- the access line ----------------------------------------------------------------------
#
# One line per request is most of what a serving process logs, so it is built directly, in the
# exact bytes structlog's chain (``configure``) would write — tests/gateway/test_access_line.py
# compares the two — without the bound logger, the processors and the dict they pass along.

_UTC = datetime.UTC
_access_head = ""
"""Console format: the columns before the key-values (level, event, logger), made once by
structlog's own renderer."""
_CONSOLE_QUOTED = re.compile("[ \t=\r\n\"']")
"""Characters for which structlog's console renderer shows a value as its ``repr``."""


def _console_head(logger: str, event: str) -> str:
    rendered: str = _renderer("console")(
        None, "info", {"timestamp": "T", "level": "info", "event": event, "logger": logger}
    )
    return rendered.removeprefix("T")


def _console_value(value: str) -> str:
    return repr(value) if _CONSOLE_QUOTED.search(value) else value


def access(request_id: str, method: str, path: str, status: int, elapsed_ns: int) -> None:
    """The access line of one request (at ``info``): its id, method, path (never the query
    string), status and milliseconds (``elapsed_ns`` as measured, in nanoseconds: the line
    holds it in milliseconds rounded to two decimals, half up).

    ``request_id`` is the middleware's (``gateway.middleware``): letters, digits and ``._:-``
    only, which neither JSON nor the console form escapes or quotes, so it is written as is.

    On the request's path only the clock is read and the values kept, as a record; the line is
    made from it when its batch is written (:func:`_access_line`, ``LineWriter.add``), or at
    once by a writer that does not buffer (``docs/logs.md`` has what each step cost)."""
    if _level > _INFO:
        return
    _writer.add((request_id, method, path, status, elapsed_ns, _time_ns()))


def _access_line(record: tuple[Any, ...]) -> str:
    """The text of an access record (:func:`access`). Each operation here is paid once a line,
    so there are few: the second's text made once a second (:func:`_new_second`) and the
    microseconds sliced from the clock's digits, the milliseconds' text and a path's JSON looked
    up in tables, one f-string."""
    request_id, method, path, status, elapsed_ns, ns = record
    if not _second_ns <= ns < _second_end:
        _new_second(ns)
    # The timestamp is {second}{dot}{micros}Z, its parts written into the line itself.
    if _second_text:
        second, dot, micros = _second_text, ".", str(ns)[10:16]  # 19 digits: 2001 to 2286
        if micros == "000000":  # on the second: no fraction
            dot = micros = ""
    else:
        second, dot, micros = timestamp(ns)[:-1], "", ""
    hundredths = (elapsed_ns + 5000) // 10000
    took = _MS[hundredths] if hundredths < _MS_TABLE else _milliseconds(hundredths)
    where = _PATHS.get(path) or _path_text(path, status)
    if _format == "console":
        shown = method if method in _METHODS else _console_value(method)
        line = (
            f"{second}{dot}{micros}Z{_access_head} method={shown} ms={took} "
            f"path={where} request_id={request_id} status={status!r}\n"
        )
    else:
        line = (
            f'{{"request_id": "{request_id}", "logger": "segmux.access", "method": '
            f'{_METHODS.get(method) or _json(method)}, "path": '
            f'{where}, "status": {status!r}, "ms": {took}, '
            f'"event": "request", "level": "info", "timestamp": "{second}{dot}{micros}Z"}}\n'
        )
    return line


_INFO = logging.INFO
_time_ns = time.time_ns
"""The wall clock (a module global: tests put instants of their own here)."""


def _milliseconds(hundredths: int) -> str:
    """A count of hundredths of a millisecond as the chain writes ``hundredths / 100``: its
    ``repr``, which below 10**15 hundredths is the decimal less its trailing zeros (no shorter
    text reads back as the float nearest to it)."""
    if hundredths >= 10**15:
        return repr(hundredths / 100)
    whole, rest = divmod(hundredths, 100)
    text = f"{whole}.{rest:02d}".rstrip("0")
    return text + "0" if text[-1] == "." else text


_MS_TABLE = 2000
_MS = [_milliseconds(h) for h in range(_MS_TABLE)]
"""The text of every duration below 20 ms (some 130 kB): almost every request's."""

_PATHS: dict[str, str] = {}
"""The text of paths answered in the configured format (JSON, or the console's value): an SDK's
poll repeats its path. Emptied by :func:`configure`."""
_PATHS_KEPT = 1000
_PATH_KEPT_LENGTH = 256


def _path_text(path: str, status: int) -> str:
    text = _console_value(path) if _format == "console" else _json(path)
    # Paths are the clients' choice: only a bounded few are kept, short ones that were answered
    # (not a scanner's 404s), so that neither memory nor the table fills with junk.
    if status < 400 and len(path) <= _PATH_KEPT_LENGTH and len(_PATHS) < _PATHS_KEPT:
        _PATHS[path] = text
    return text


_second_ns = _second_end = 0
"""The first nanosecond of the second whose text :data:`_second_text` holds, and the next
second's."""
_second_text = ""
"""The date and time of day of that second, or empty outside 2001 to 2286 (19-digit nanoseconds:
:func:`access` slices the microseconds from fixed positions) where :func:`timestamp` is used."""


def _new_second(ns: int) -> None:
    global _second_ns, _second_end, _second_text
    _second_ns = ns - ns % 1_000_000_000
    _second_end = _second_ns + 1_000_000_000
    _second_text = timestamp(_second_ns)[:-1] if 10**18 <= ns < 10**19 else ""


def timestamp(ns: int) -> str:
    """The instant ``ns`` (nanoseconds since the epoch) as structlog's ``TimeStamper(fmt="iso",
    utc=True)`` writes it: ``datetime.now(UTC).isoformat()`` with ``Z`` (microseconds, floored
    as ``datetime.now`` floors the same clock; none written when they are zero)."""
    moment = datetime.datetime.fromtimestamp(ns // 10**9, _UTC).replace(
        tzinfo=None, microsecond=ns // 1000 % 10**6
    )
    return moment.isoformat() + "Z"


_json: Callable[[str], str] = encode_basestring_ascii
"""What ``json.dumps`` writes for a string (its own C function): ASCII, escapes as it makes
them. Called directly, not through a function of ours: up to three calls a line."""
_METHODS = {method: _json(method) for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")}
"""The usual methods' JSON, made once."""


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
