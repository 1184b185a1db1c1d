"""Where a process's log lines go: one writer per process, in the order they were logged.

A serving process logs a line per request. Writing it with a flush on the request path (what
``print(..., flush=True)`` does) costs a system call per request, on the event loop's thread;
so a serving process's writer is *buffered* for those lines (:meth:`LineWriter.write`):
logging one appends it to a list, and a daemon thread writes what gathered every
:data:`FLUSH_SECONDS`, or at once when more than :data:`FLUSH_BYTES` wait. Every other line
(:meth:`LineWriter.write_now`: start-up, shutdown, warnings, errors — rare) is written at once
with everything buffered before it, so lines keep their order and the last lines of a process
(uvicorn's, after the application stopped) are out before its workers end by their re-raised
SIGTERM, which skips ``atexit``. The lifespan's shutdown flushes too, and so does the
interpreter's exit (``atexit``). A process killed outright (SIGKILL, OOM) loses at most the
access lines of its last :data:`FLUSH_SECONDS`.

Everything a process logs goes through its one writer (segmux's lines, uvicorn's and every
standard-library record: ``gateway.logging``). Anywhere else (tests, the CLI's commands) the
writer is unbuffered: each line is written and flushed at once.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import TextIO

FLUSH_SECONDS = 0.2
"""Longest a logged line waits before it is written (a buffered writer)."""
FLUSH_BYTES = 64 * 1024
"""Buffered text past which the flushing thread writes at once."""


class LineWriter:
    """Lines (each ending in a newline) to ``stream`` (standard error as it is at each write
    when None); buffered or not, see the module's text."""

    def __init__(self, stream: TextIO | None = None, *, buffered: bool = False) -> None:
        self.stream = stream
        self.buffered = buffered
        self._lines: list[str] = []
        self._size = 0
        self._lock = threading.Lock()
        """Guards the list (appends and the swap): held for nanoseconds."""
        self._writing = threading.Lock()
        """Held while a batch is taken and written, so batches are written in order."""
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def write(self, line: str) -> None:
        if not self.buffered:
            with self._writing:
                self._out(line)
            return
        with self._lock:
            self._lines.append(line)
            self._size += len(line)
            full = self._size >= FLUSH_BYTES
        if self._pid != os.getpid():  # first line of this process (or of a forked child)
            self._start()
        if full:
            self._wake.set()

    def write_now(self, line: str) -> None:
        """Write ``line`` at once, after every line buffered before it."""
        if not self.buffered:
            self.write(line)
            return
        with self._lock:
            self._lines.append(line)
        self.flush()

    def flush(self) -> None:
        """Write every line logged so far."""
        with self._writing:
            with self._lock:
                lines, self._lines, self._size = self._lines, [], 0
            if lines:
                self._out("".join(lines))

    def _out(self, text: str) -> None:
        stream = self.stream or sys.stderr
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):
            # The stream is gone (a closed pipe, a closed file at exit): there is nowhere
            # else a log line could go.
            pass

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._writing = threading.Lock()  # a fork may have copied it held
            self._thread = threading.Thread(target=self._run, name="segmux-log-writer", daemon=True)
            self._thread.start()
        atexit.register(self.flush)

    def _run(self) -> None:
        while True:
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            self.flush()
