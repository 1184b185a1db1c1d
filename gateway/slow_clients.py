"""Connections that take too long to send a request's headers are closed.

uvicorn bounds the idle time between requests on a connection (its keep-alive timeout) but not
the time a client takes to send a request's headers once it has begun: a client sending one byte
every few seconds would hold its connection, a file descriptor and a place under the connection
limit (``SEGMUX_MAX_CONNECTIONS``) for as long as it likes, and fifty such clients hold fifty.
:class:`HeaderTimeoutProtocol` is uvicorn's httptools protocol with one timer more: armed when a
connection opens and when a request's first byte arrives, cancelled when the request's headers
are complete. When it fires the client gets ``408 Request Timeout`` and the connection is closed.

A request's *body* is not timed here: a handler reads it within the body limit, and a client
that stalls mid-body holds one request task, which the connection limit bounds.
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.settings import header_timeout

_TIMED_OUT = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: 39\r\n"
    b"connection: close\r\n"
    b"\r\n"
    b"request headers were not sent in time\r\n"
)


@cache
def _timeout() -> float:
    # Read once per process: ``segmux serve --workers N`` starts each worker afresh, with the
    # environment the parent validated.
    return header_timeout()


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, cutting off clients slow to send their headers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = _timeout()
        self._header_timer: asyncio.TimerHandle | None = None

    # uvicorn's own signature, which narrows asyncio's BaseTransport: its gap, kept as it is.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _timed_out(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        # A 408 only where no response is under way on this connection (a pipelined request
        # behind one still being answered just loses its connection).
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(_TIMED_OUT)
        self.transport.close()
