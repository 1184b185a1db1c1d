"""Stores as an upgrade meets them: fresh (no schema at all) or restored from an old version's
dump, on each backend; and the ``segmux`` command run as a user runs it, one process a call."""

from __future__ import annotations

import gzip
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import pg

SEGMUX = [sys.executable, "-m", "gateway.cli"]
DUMPS = Path(__file__).parent / "dumps"


def segmux(args: list[str], url: str, *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SEGMUX, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "SEGMUX_DATABASE_URL": url},
    )


def start_segmux(args: list[str], url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*SEGMUX, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SEGMUX_DATABASE_URL": url},
    )


@pytest.fixture
def fresh_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A store with nothing in it: an empty SQLite file, an empty PostgreSQL database."""
    if backend == "sqlite":
        path = tmp_path / "segmux.db"
        sqlite3.connect(path).close()  # an empty file is an empty SQLite database
        yield f"sqlite:///{path}"
        return
    url = pg.create_database("segmux_upgrade")
    try:
        yield url
    finally:
        pg.drop_database(url)


def sql(url: str, statement: str) -> list[tuple[object, ...]]:
    """Run one statement on the store as an operator would with its own client."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            with conn:
                return list(conn.execute(statement))
        finally:
            conn.close()
    pg.require_command("psql")
    done = subprocess.run(
        ["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtF", "\t", "-c", statement],
        capture_output=True,
        text=True,
        check=True,
    )
    return [tuple(line.split("\t")) for line in done.stdout.splitlines()]


def restore(url: str, dump: Path) -> None:
    """Load a dump of tests/upgrade/dumps into the (fresh) store at ``url``."""
    script = gzip.decompress(dump.read_bytes()).decode()
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            conn.executescript(script)
        finally:
            conn.close()
        return
    pg.require_command("psql")
    subprocess.run(
        ["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-o", os.devnull],
        input=script,
        text=True,
        check=True,
        capture_output=True,
    )


def applied(url: str) -> list[str]:
    return sorted(str(row[0]) for row in sql(url, "SELECT version FROM schema_migrations"))
