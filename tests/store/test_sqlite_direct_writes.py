"""A SQLite store writes a segment at once on the event loop when it can, and on its writer's
thread otherwise: when another connection (another process) holds the file's write lock, the
write waits for it, as every write did, rather than failing or blocking the event loop; and the
log is still checkpointed, beside the writes (``writer.Checkpointer``), never by a commit."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from core.model import NewSegment, SegmentPatch
from core.store.sqlite import writer
from core.store.sqlite.backend import SqliteStore
from core.store.sqlite.wal_index import WalIndex, frames
from core.store.sqlite.writer import AUTOCHECKPOINT_FRAMES, RESTART_FRAMES

LOG_BOUND = (RESTART_FRAMES + 3 * AUTOCHECKPOINT_FRAMES) * 4096
"""Bytes a checkpointed log stays under here (it restarts once RESTART_FRAMES long, and a
checkpoint's passes leave a few writes' frames behind): without checkpoints, the writes below
leave one several times this size (10 frames of 4 KiB a segment)."""


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
        for i in range(3000):
            await store.create_segment("t", NewSegment(name=f"s{i}", sandbox="prod"), None)
            await asyncio.sleep(0)  # as between a server's requests: the checkpoint's turn
        assert _log_size(path) < LOG_BOUND
        assert await store.count_segments("t") == 3000
    finally:
        await store.close()


def _log_frames(path: Path) -> int:
    index = WalIndex.open(str(path))
    assert index is not None
    try:
        header = index.header()
        assert header is not None
        return frames(header)
    finally:
        index.close()


async def test_a_reader_holding_the_log_keeps_writes_on_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A reader's snapshot (a long read, another process's) keeps the log from being copied
    # back and restarted: writes must stay on the event loop's writer (checkpoints run beside
    # them, one per AUTOCHECKPOINT_FRAMES new frames), and the log must shrink back once the
    # reader is done.
    path = tmp_path / "segmux.db"
    store = await _open(path)
    on_thread: list[int] = []
    run = writer.transaction

    def counted(conn: sqlite3.Connection, work: Any) -> Any:
        on_thread.append(1)
        return run(conn, work)

    monkeypatch.setattr(writer, "transaction", counted)
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM segments").fetchall()
        for i in range(600):
            await store.create_segment("t", NewSegment(name=f"s{i}", sandbox="prod"), None)
            await asyncio.sleep(0)  # as between a server's requests: the checkpoint's turn
        held = _log_frames(path)
        assert held > 3 * AUTOCHECKPOINT_FRAMES  # the reader kept the log from restarting
        assert on_thread == []
        reader.execute("COMMIT")
        # Copied back and restarted, once long enough that a checkpoint holds the writes for
        # its last frames (a restart needs the log copied whole when a write begins).
        more = 0
        while _log_frames(path) >= 2 * AUTOCHECKPOINT_FRAMES:
            assert more < RESTART_FRAMES // 5, "the log never restarted"
            await store.create_segment("t", NewSegment(name=f"r{more}", sandbox="prod"), None)
            await asyncio.sleep(0)
            more += 1
        assert await store.count_segments("t") == 600 + more
    finally:
        reader.close()
        await store.close()


async def _checkpointed(store: SqliteStore) -> None:
    """Once the checkpoint under way, if any, is done."""
    checkpointer = store._checkpointer
    assert checkpointer is not None
    running = checkpointer._running
    if running is not None:
        await asyncio.wait_for(asyncio.shield(running), 30)


async def test_writes_go_on_while_a_checkpoint_copies_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A checkpoint copies the log back and syncs two files (tens of ms): writes must not wait
    # for it. Here the checkpoint is held until a write has finished: if it held the store's
    # write lock, the write would wait for it and neither would end.
    path = tmp_path / "segmux.db"
    store = await _open(path)
    copying, released = threading.Event(), threading.Event()
    run = writer.checkpoint

    def held(conn: sqlite3.Connection) -> tuple[bool, int, int]:
        copying.set()
        assert released.wait(30)
        return run(conn)

    monkeypatch.setattr(writer, "checkpoint", held)
    try:
        i = 0
        while not copying.is_set():  # until the log is due its first checkpoint
            await store.create_segment("t", NewSegment(name=f"s{i}", sandbox="prod"), None)
            await asyncio.sleep(0)
            i += 1
        during = await asyncio.wait_for(
            store.create_segment("t", NewSegment(name="during", sandbox="prod"), None), 10
        )
        assert during.name == "during"
        released.set()
        await _checkpointed(store)
        # Then it copied the log back. The log holds what came before the checkpoint was due
        # and the few writes made while its thread started (each write yields to the event
        # loop twice: keyed writes of one turn share a transaction).
        assert _log_frames(path) < AUTOCHECKPOINT_FRAMES + 300
    finally:
        released.set()
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


async def test_writes_of_one_turn_share_one_commit(tmp_path: Path) -> None:
    """The keyed writes that reach the store in one turn of the event loop are one transaction:
    the pages every create changes (the table's last page, the tenant's row, its revision, the
    indexes' last pages) go to the log once for all of them, not once per create."""
    path = tmp_path / "segmux.db"
    store = await _open(path)
    try:
        start = _log_frames(path)
        for i in range(40):
            await store.create_segment("t", NewSegment(name=f"one-{i}", sandbox="prod"), None)
        alone = _log_frames(path) - start
        start = _log_frames(path)
        await asyncio.gather(
            *(
                store.create_segment("t", NewSegment(name=f"all-{i}", sandbox="prod"), None)
                for i in range(40)
            )
        )
        together = _log_frames(path) - start
        assert together * 3 < alone, (together, alone)
        assert await store.count_segments("t") == 80
    finally:
        await store.close()
