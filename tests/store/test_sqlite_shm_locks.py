"""A SQLite store keeps SQLite's own locks on the WAL index (the ``-shm`` file) for as long as it
is open.

POSIX drops every ``fcntl`` lock a process holds on a file when *any* of its descriptors of that
file is closed. The store reads the WAL-index header itself (``core.store.sqlite.wal_index``); had
it closed its descriptor, its process would lose the shared lock SQLite holds on the index's
"dead man switch" byte, and the next process to open the database would take itself for the
first user and reset the index under the store's connections (a ``segmux serve --workers 2``
worker died of exactly that). Another process asks for that byte's exclusive lock: it must be
refused while the store is open (with the descriptor closed, it was granted).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.store.sqlite.backend import SqliteStore

# SQLite's unix VFS: the dead man switch is byte 128 of the -shm file (UNIX_SHM_DMS).
PROBE = """
import fcntl, os, sys
try:
    fd = os.open(sys.argv[1], os.O_RDWR)
except FileNotFoundError:  # the last connection to close removes the file
    print("gone")
    sys.exit()
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 128)
except OSError:
    print("held")
else:
    print("free")
"""


def dead_man_switch(shm: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(shm)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


async def test_an_open_store_keeps_its_lock_on_the_wal_index(tmp_path: Path) -> None:
    path = tmp_path / "segmux.db"
    store = await SqliteStore.open(f"sqlite:///{path}", str(path))
    try:
        assert store.uses_wal_index()  # the path under test is the one taken
        await store.tenant_revision("t")  # a kept answer's check, through the index
        assert dead_man_switch(Path(f"{path}-shm")) == "held"
    finally:
        await store.close()
    assert dead_man_switch(Path(f"{path}-shm")) in ("free", "gone")
