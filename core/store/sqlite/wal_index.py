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
    """The read-only mapping of one database's ``-shm`` file."""

    def __init__(self, mapped: mmap.mmap) -> None:
        self._map = mapped

    @classmethod
    def open(cls, database: str) -> WalIndex | None:
        """The WAL index of the database file ``database``, once a connection in WAL mode has
        read it (which creates and initialises the file); None if there is none to map."""
        try:
            fd = os.open(database + "-shm", os.O_RDONLY)
        except OSError:
            return None
        try:
            if os.fstat(fd).st_size < HEADER_BYTES:
                return None
            mapped = mmap.mmap(fd, HEADER_BYTES, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            return None
        finally:
            os.close(fd)  # the mapping stays valid without the descriptor
        index = cls(mapped)
        if not valid(index.header()):
            index.close()
            return None
        return index

    def header(self) -> bytes:
        return self._map[:HEADER_BYTES]

    def close(self) -> None:
        self._map.close()


def valid(header: bytes) -> bool:
    """Whether ``header`` is a whole, initialised header of the known format: both copies equal
    (a writer rewrites the second copy, then the first), ``isInit`` set, ``iVersion`` known."""
    if len(header) != HEADER_BYTES or header[:_COPY] != header[_COPY:]:
        return False
    (version,) = struct.unpack_from("=I", header, 0)
    return version == _FORMAT and header[12] == 1
