"""The schema's version through the CLI, as a user runs it, on both backends: ``db status`` says
where a store stands, ``db upgrade`` brings it to this segmux's version, and a store a later
segmux upgraded is refused (one line, exit 2, nothing changed) by every command."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from core.store.migrations import migration_files
from core.store.postgres.backend import _MIGRATION_LOCK
from tests import pg
from tests.live import free_port
from tests.upgrade.conftest import DUMPS, applied, restore, segmux, sql, start_segmux

PACKAGES = {"sqlite": "core.store.sqlite", "postgres": "core.store.postgres"}


def known(backend: str) -> list[str]:
    return [version for version, _ in migration_files(PACKAGES[backend])]


def test_status_of_an_empty_store_then_of_an_upgraded_one(fresh_url: str, backend: str) -> None:
    versions = known(backend)
    before = segmux(["db", "status"], fresh_url)
    assert before.returncode == 1, before.stderr  # migrations pending
    assert before.stdout.splitlines() == [
        "version: none (an empty store)",
        f"segmux: {versions[-1]}",
        f"pending: {' '.join(versions)}",
    ]
    assert before.stderr.startswith("store ")
    assert applied_or_none(fresh_url) == []  # status only reads

    upgrade = segmux(["db", "upgrade"], fresh_url)
    assert upgrade.returncode == 0, upgrade.stderr
    assert f"applied {', '.join(versions)}" in upgrade.stderr
    assert applied(fresh_url) == versions

    after = segmux(["db", "status"], fresh_url)
    assert after.returncode == 0, after.stderr
    assert after.stdout.splitlines() == [
        f"version: {versions[-1]}",
        f"segmux: {versions[-1]}",
        "pending: none",
    ]
    again = segmux(["db", "upgrade"], fresh_url)
    assert again.returncode == 0
    assert "(nothing to apply)" in again.stderr


def test_status_of_a_store_behind_lists_what_upgrade_applies(fresh_url: str, backend: str) -> None:
    versions = known(backend)
    assert segmux(["db", "upgrade"], fresh_url).returncode == 0
    # As a store of the version before the last one holds it: the last migration not applied.
    # (Its tables exist here; the upgrade tests of tests/upgrade/dumps start from real ones.)
    sql(fresh_url, f"DELETE FROM schema_migrations WHERE version = '{versions[-1]}'")
    status = segmux(["db", "status"], fresh_url)
    assert status.returncode == 1
    assert status.stdout.splitlines() == [
        f"version: {versions[-2]}",
        f"segmux: {versions[-1]}",
        f"pending: {versions[-1]}",
    ]


def test_a_store_a_later_segmux_upgraded_is_refused(fresh_url: str, backend: str) -> None:
    versions = known(backend)
    assert segmux(["db", "upgrade"], fresh_url).returncode == 0
    future = "9999_from_a_later_segmux"
    sql(fresh_url, f"INSERT INTO schema_migrations VALUES ('{future}', 1)")
    held = applied(fresh_url)

    status = segmux(["db", "status"], fresh_url)
    assert status.returncode == 2
    assert status.stdout.splitlines() == [
        f"version: {future}",
        f"segmux: {versions[-1]}",
        "pending: none",
        f"newer: {future}",
    ]
    line = (
        f"has schema version {future}, newer than this segmux's {versions[-1]}: a later "
        "segmux upgraded it (run that segmux or a later one, or restore the backup taken "
        "before the upgrade)"
    )
    assert line in status.stderr

    port = free_port()
    for args in (
        ["serve", "--host", "127.0.0.1", "--port", str(port)],
        ["db", "upgrade"],
        ["tokens", "list"],
    ):
        started = time.monotonic()
        done = segmux(args, fresh_url, timeout=60)
        assert done.returncode == 2, (args, done.stderr)
        # One line, no traceback; serve never started listening.
        assert done.stderr.count("\n") == 1, done.stderr
        assert done.stderr.startswith("segmux: the store ") and line in done.stderr
        assert done.stdout == ""
        assert time.monotonic() - started < 30
    assert applied(fresh_url) == held  # nothing changed


@pytest.mark.parametrize("start", ["empty", "0001"])
def test_two_upgrades_at_once_apply_the_schema_once(
    fresh_url: str, backend: str, start: str
) -> None:
    """The second process waits for the first's lock, then finds nothing pending. The test holds
    the lock itself while both start, so that they really meet there; from an empty store and
    from the oldest version's (tests/upgrade/dumps)."""
    versions = known(backend)
    if start != "empty":
        restore(fresh_url, DUMPS / backend / f"{start}.sql.gz")
        versions = [v for v in versions if v not in applied(fresh_url)]
    with held_lock(fresh_url, backend):
        upgrades = [start_segmux(["db", "upgrade"], fresh_url) for _ in range(2)]
        wait_for_waiters(fresh_url, backend, upgrades)
    outcomes = [upgrade.communicate(timeout=120) for upgrade in upgrades]
    assert [u.returncode for u in upgrades] == [0, 0], outcomes
    stderrs = sorted(err for _, err in outcomes)
    assert f"(applied {', '.join(versions)})" in stderrs[0]
    assert "(nothing to apply)" in stderrs[1]
    assert applied(fresh_url) == known(backend)
    assert segmux(["db", "status"], fresh_url).returncode == 0


def applied_or_none(url: str) -> list[str]:
    exists = (
        sql(url, "SELECT name FROM sqlite_master WHERE name = 'schema_migrations'")
        if url.startswith("sqlite:///")
        else sql(url, "SELECT 1 FROM pg_tables WHERE tablename = 'schema_migrations'")
    )
    return applied(url) if exists else []


@contextmanager
def held_lock(url: str, backend: str) -> Iterator[None]:
    """The lock an upgrade takes, held by the test: PostgreSQL's advisory lock key, SQLite's
    write lock (``BEGIN IMMEDIATE`` on the file, in WAL mode as segmux opens it)."""
    if backend == "sqlite":
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    pg.require_command("psql")
    psql = subprocess.Popen(
        ["psql", url, "-qAt"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert psql.stdin is not None and psql.stdout is not None
    psql.stdin.write(f"SELECT pg_advisory_lock({_MIGRATION_LOCK});\n")
    psql.stdin.flush()
    assert psql.stdout.readline().strip() == ""  # the lock is held once it answers
    try:
        yield
    finally:
        psql.stdin.close()  # the session ends, and its lock with it
        psql.wait(timeout=30)


def wait_for_waiters(url: str, backend: str, upgrades: list[subprocess.Popen[str]]) -> None:
    """Until both processes wait for the lock (PostgreSQL shows them in pg_locks; SQLite shows
    nothing, so they are given time to get there and must still be running)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert all(u.poll() is None for u in upgrades), "an upgrade did not wait for the lock"
        if backend == "sqlite":
            time.sleep(3)
            return
        waiting = sql(
            url,
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        if int(str(waiting[0][0])) == 2:
            return
        time.sleep(0.1)
    raise AssertionError("the upgrades never waited for the lock")
