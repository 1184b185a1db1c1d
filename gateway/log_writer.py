"""Where a process's log lines go: one writer per process, in the order they were logged.

A serving process logs a line per request. Writing it with a flush on the request path (what
``print(..., flush=True)`` does) costs a system call per request; so a serving process's
writer is *buffered* for those lines (:meth:`LineWriter.write`, or :meth:`LineWriter.add` for a
line made only when written, from a record of its values): logging one appends it to a
list, and a timer on the event loop writes what gathered every :data:`FLUSH_SECONDS`, between
requests, or the line that brings the list past :data:`FLUSH_BYTES` writes it at once (so the
list never holds more). Every other line (:meth:`LineWriter.write_now`: start-up, shutdown,
warnings, errors — rare) is written at once with everything buffered before it, so lines keep
their order and the last lines of a process (uvicorn's, after the application stopped) are out
before its workers end by their re-raised SIGTERM, which skips ``atexit``. The lifespan's
shutdown flushes too, and so does the interpreter's exit (``atexit``). A process killed
outright (SIGKILL, OOM) loses at most the access lines of its last :data:`FLUSH_SECONDS`.

The timer runs on the event loop's own thread, not on a thread of its own: a second thread
would take the GIL from the event loop at each write, and on a busy machine a thread holding
the GIL while the OS runs something else stalls every request behind it.

Everything a process logs goes through its one writer (segmux's lines, uvicorn's and every
standard-library record: ``gateway.logging``). Anywhere else (tests, the CLI's commands) the
writer is unbuffered: each line is written and flushed at once.
"""

from __future__ import annotations

import asyncio
import atexit
import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

FLUSH_SECONDS = 0.2
"""Longest a logged line waits before it is written (a buffered writer)."""
FLUSH_BYTES = 64 * 1024
"""Buffered text past which the line that brings it there writes it all at once."""
RECORD_BYTES = 256
"""What a buffered record (:meth:`LineWriter.add`) counts for against :data:`FLUSH_BYTES`: about
an access line's length."""

Record = tuple[Any, ...]
Render = Callable[[Record], str]


class LineWriter:
    """Lines (each ending in a newline) to ``stream`` (standard error as it is at each write
    when None); buffered or not, see the module's text."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        buffered: bool = False,
        render: Render = "".join,
    ) -> None:
        self.stream = stream
        self.buffered = buffered
        self.render = render
        """Makes the line of a record (:meth:`add`); by default, joins a record of texts."""
        self._lines: list[str | Record] = []
        self._size = 0
        self._timer: asyncio.TimerHandle | None = None
        self._exit_registered = False
        self._writing = threading.Lock()
        """Held while a batch is taken and written: a library may log from another thread."""

    def write(self, line: str) -> None:
        if not self.buffered:
            with self._writing:
                self._out(line)
            return
        self._lines.append(line)
        self._size += len(line)
        self._pending()

    def add(self, record: Record) -> None:
        """The line :attr:`render` makes of ``record``, made when it is written: a buffered
        writer makes a batch's lines together, between requests, in one loop (the code and
        tables they use stay in the CPU's caches; made on each request's path, a line cost
        about three times as much). ``record`` holds only values that do not change."""
        if not self.buffered:
            self.write(self.render(record))
            return
        self._lines.append(record)
        self._size += RECORD_BYTES
        self._pending()

    def _pending(self) -> None:
        """After a line or record joined the batch: write it if full, else make sure the
        timer will."""
        if self._size >= FLUSH_BYTES:
            self.flush()
        elif self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no event loop here (a thread, start-up): at once
                self.flush()
                return
            self._timer = loop.call_later(FLUSH_SECONDS, self._tick)
            if not self._exit_registered:
                self._exit_registered = True
                atexit.register(self.flush)

    def write_now(self, line: str) -> None:
        """Write ``line`` at once, after every line buffered before it."""
        self._lines.append(line)
        self.flush()

    def flush(self) -> None:
        """Write every line logged so far."""
        with self._writing:
            lines, self._lines, self._size = self._lines, [], 0
            if lines:
                render = self.render
                self._out("".join([x if isinstance(x, str) else render(x) for x in lines]))

    def _tick(self) -> None:
        self._timer = None
        self.flush()

    def _out(self, text: str) -> None:
        stream = self.stream or sys.stderr
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):
            # The stream is gone (a closed pipe, a closed file at exit): there is nowhere
            # else a log line could go.
            pass
