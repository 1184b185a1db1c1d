"""What the condition-language tests share: an in-memory SQLite with segmux's SQL functions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from core.expr.sql import register_sqlite_functions


@pytest.fixture(scope="module")
def lite() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    register_sqlite_functions(conn)
    yield conn
    conn.close()
