"""A SQLite store writes a segment at once on the event loop when it can, and on its writer's
thread otherwise: when another connection (another process) holds the file's write lock, the
write waits for it, as every write did, rather than failing or blocking the event loop; and the
log is still checkpointed (the event loop's writer never checkpoints itself)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from core.model import NewSegment, SegmentPatch
from core.store.sqlite.backend import SqliteStore

LOG_BOUND = 8 * 1024 * 1024
"""Bytes a checkpointed log stays under here (1,000 frames of 4 KiB and the last writes'):
without checkpoints, the writes below leave one several times this size."""


def _log_size(path: Path) -> int:
    return Path(f"{path}-wal").stat().st_size


async def _open(path: Path) -> SqliteStore:
    store = await SqliteStore.open(f"sqlite:///{path}", str(path))
    await store.ensure_tenant("t")
    return store


async def test_a_write_waits_for_another_connection_holding_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "segmux.db"
    store = await _open(path)
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        first = await store.create_segment("t", NewSegment(name="a", sandbox="prod"), None)
        blocker.execute("BEGIN IMMEDIATE")
        create = asyncio.create_task(
            store.create_segment("t", NewSegment(name="b", sandbox="prod"), None)
        )
        update = asyncio.create_task(
            store.update_segment("t", first.id, SegmentPatch(description="d"), None)
        )
        await asyncio.sleep(0.3)
        assert not create.done() and not update.done()  # waiting, neither failed nor lost
        blocker.execute("COMMIT")
        created, updated = await asyncio.wait_for(asyncio.gather(create, update), 10)
        assert (created.name, created.seq) == ("b", 2)
        assert (updated.description, updated.version) == ("d", first.version + 1)
        assert await store.count_segments("t") == 2
    finally:
        blocker.close()
        await store.close()


async def test_the_log_is_checkpointed_under_a_stream_of_writes(tmp_path: Path) -> None:
    path = tmp_path / "segmux.db"
    store = await _open(path)
    try:
        for i in range(1500):
            await store.create_segment("t", NewSegment(name=f"s{i}", sandbox="prod"), None)
        assert _log_size(path) < LOG_BOUND
        assert await store.count_segments("t") == 1500
    finally:
        await store.close()


async def test_two_stores_on_one_file_write_every_segment_once(tmp_path: Path) -> None:
    # Two stores stand for two processes (``segmux serve --workers 2``): SQLite locks the file
    # between connections of one process as between processes.
    path = tmp_path / "segmux.db"
    stores = [await _open(path), await _open(path)]
    try:
        made = await asyncio.gather(
            *(
                stores[i % 2].create_segment("t", NewSegment(name=f"s{i}", sandbox="prod"), None)
                for i in range(400)
            )
        )
        assert sorted(s.seq for s in made) == list(range(1, 401))
        assert await stores[0].count_segments("t") == 400
    finally:
        for store in stores:
            await store.close()
