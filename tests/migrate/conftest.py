"""Two live gateways on different stores (SQLite and PostgreSQL), and admin tokens for one
tenant per test on each, so every migration starts from an empty tenant on both sides."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from core.store import open_store
from core.tokens import TokenService
from tests import pg
from tests.live import live_gateway

_count = itertools.count()


TENANTS = 70
"""Tenants made ready on both gateways up front (one store connection each, not one per
test): one per test of the module at most."""


def _tokens(database_url: str) -> dict[str, str]:
    """An admin token for each of ``TENANTS`` tenants, created straight in a gateway's store."""

    async def create() -> dict[str, str]:
        store = await open_store(database_url)
        try:
            tokens = TokenService(store)
            return {
                f"mig-{i}": (
                    await tokens.create(tenant=f"mig-{i}", scope="admin", name="migrate-tests")
                )[0]
                for i in range(TENANTS)
            }
        finally:
            await store.close()

    return pg.run_sync(create)


@dataclass(frozen=True)
class Gateway:
    name: str
    url: str
    tokens: dict[str, str]

    def token(self, tenant: str) -> str:
        return self.tokens[tenant]


@pytest.fixture(scope="module")
def gateways(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, Gateway]]:
    sqlite_url = f"sqlite:///{tmp_path_factory.mktemp('migrate')}/segmux.db"
    pg_url = pg.create_database("segmux_migrate")
    admin = secrets.token_urlsafe(24)
    try:
        with live_gateway(sqlite_url, admin) as a, live_gateway(pg_url, admin) as b:
            yield (
                Gateway("sqlite", a, _tokens(sqlite_url)),
                Gateway("postgres", b, _tokens(pg_url)),
            )
    finally:
        pg.drop_database(pg_url)


@pytest.fixture
def tenant() -> str:
    """A tenant no other test of the module uses, empty on both gateways."""
    index = next(_count)
    assert index < TENANTS, "raise TENANTS"
    return f"mig-{index}"


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client
