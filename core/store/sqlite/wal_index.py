"""Whether anything was committed to a SQLite file since a moment, without asking SQLite.

``PRAGMA data_version`` answers that exactly, but each call starts and ends a read transaction:
two ``fcntl`` system calls on the ``-shm`` file, a statement step, a row: about 4 µs, and a kept
answer checks it twice (the token and the tenant revision), on every request. SQLite decides the
same thing itself by comparing the WAL-index header, the first 96 bytes of the ``-shm`` file
every connection to the database maps (two copies of a 48-byte header: `WAL-mode file format
<https://www.sqlite.org/walformat.html>`_, "The WAL-Index Header"). Every commit of any
connection of any process rewrites it (its change counter ``iChange``, the last frame, the
checksums; a restarted log, its salts), and a connection's data version changes exactly when, at
the start of a read, it finds the header different from the one it last read. So while the bytes
are the ones seen when a data version was read, that version is still current; mapping the file
read-only and comparing 96 bytes takes a fraction of a microsecond.

Used only when the header says it is the format described there (``iVersion`` 3007000, both
copies equal, initialised) and the database is in WAL mode; otherwise (and for an in-memory
database) the store asks SQLite every time.
"""

from __future__ import annotations

import mmap
import os
import struct

HEADER_BYTES = 96
"""Two copies of the 48-byte WAL-index header."""
_COPY = 48
_FORMAT = 3007000
"""``iVersion`` of the WAL-index format (unchanged since SQLite 3.7.0, which introduced WAL)."""


class WalIndex:
    """The read-only mapping of one database's ``-shm`` file, and the descriptor it came from.

    Both stay open until every connection of this process to the database is closed
    (:meth:`close` is the store's last step): closing *any* descriptor of a file releases every
    POSIX (``fcntl``) lock the process holds on it, SQLite's own included (its documentation
    warns of exactly this). Without its shared lock on the ``-shm`` file, the next process to open
    the database takes itself for the file's first user and resets the index under this
    process's connections (a ``--workers 2`` worker died of it). A mapping holds a duplicate of
    the descriptor, so it is never closed early either."""

    def __init__(self, fd: int, mapped: mmap.mmap | None) -> None:
        self._fd = fd
        self._map = mapped

    @classmethod
    def open(cls, database: str) -> WalIndex | None:
        """The WAL index of the database file ``database``, once a connection in WAL mode has
        read it (which creates and initialises the file); None if there is no file to open.
        Its :meth:`header` is None when the file could not be mapped."""
        try:
            fd = os.open(database + "-shm", os.O_RDONLY)
        except OSError:
            return None
        mapped = None
        try:
            if os.fstat(fd).st_size >= HEADER_BYTES:
                mapped = mmap.mmap(fd, HEADER_BYTES, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            mapped = None
        return cls(fd, mapped)  # kept open even unmapped: see the class's text

    def header(self) -> bytes | None:
        return None if self._map is None else self._map[:HEADER_BYTES]

    def close(self) -> None:
        """Only once every connection of this process to the database is closed."""
        if self._map is not None:
            self._map.close()
            self._map = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def valid(header: bytes) -> bool:
    """Whether ``header`` is a whole, initialised header of the known format: both copies equal
    (a writer rewrites the second copy, then the first), ``isInit`` set, ``iVersion`` known."""
    if len(header) != HEADER_BYTES or header[:_COPY] != header[_COPY:]:
        return False
    (version,) = struct.unpack_from("=I", header, 0)
    return version == _FORMAT and header[12] == 1


def frames(header: bytes) -> int:
    """The log's length in frames (``mxFrame``: pages written since it last restarted) of a
    :func:`valid` header."""
    (count,) = struct.unpack_from("=I", header, 16)
    return int(count)


def salts(header: bytes) -> bytes:
    """The log's two salts (``aSalt``) of a :func:`valid` header: new ones each time the log
    restarts from its first frame, so a log with other salts is another log."""
    return header[32:40]
