"""Fixtures the cross-dialect tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.store import Store
from tests.conftest import open_copy


@pytest.fixture
async def other_store(store_url: str, store: Store) -> AsyncIterator[Store]:
    """A second store on the same database: with its own app, it stands for a second process
    (its own pool, caches and, on PostgreSQL, LISTEN connection)."""
    s = await open_copy(store_url)
    yield s
    await s.close()
