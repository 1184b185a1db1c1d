"""Fixtures shared by every tier: a store per backend, an app over it, tokens, an HTTP client.

Every store and dialect test runs on both backends: ``store`` is parametrised over SQLite (a
fresh file per test) and PostgreSQL (a database per test module, copied from a migrated
template, emptied before each test).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from core.store import Store, open_store
from core.tokens import TokenService
from gateway.app import create_app
from gateway.settings import Settings
from tests import pg

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A database migrated once per session; test modules copy it (CREATE DATABASE … TEMPLATE)."""
    url = pg.create_database("segmux_tpl")

    async def migrate() -> None:
        store = await open_store(url)
        await store.close()

    pg.run_sync(migrate)
    yield url.rsplit("/", 1)[1]
    pg.drop_database(url)


@pytest.fixture(scope="module")
def pg_module_url(pg_template: str) -> Iterator[str]:
    url = pg.create_database("segmux_t", template=pg_template)
    yield url
    pg.drop_database(url)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_url(backend: str, tmp_path_factory: pytest.TempPathFactory,
              request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('store')}/segmux.db"
    return str(request.getfixturevalue("pg_module_url"))


async def empty_postgres(store: Store) -> None:
    from core.store.postgres.backend import PostgresStore

    assert isinstance(store, PostgresStore)
    async with store._write() as tx:
        rows = await tx.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'schema_migrations'"
        )
        if rows:
            names = ", ".join(f'"{r["tablename"]}"' for r in rows)
            await tx.execute(f"TRUNCATE {names} CASCADE")


@pytest.fixture
async def store(store_url: str, backend: str) -> AsyncIterator[Store]:
    s = await open_store(store_url)
    if backend == "postgres":
        await empty_postgres(s)
    yield s
    await s.close()


@pytest.fixture
def settings(store_url: str) -> Settings:
    return Settings(database_url=store_url)


@pytest.fixture
def app(store: Store, settings: Settings):  # type: ignore[no-untyped-def]
    return create_app(settings, store=store)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://segmux.test") as c:
        yield c


async def make_token(store: Store, tenant: str, scope: str = "admin", name: str = "test") -> str:
    token, _ = await TokenService(store).create(tenant=tenant, scope=scope, name=name)
    return token


@pytest.fixture
async def token_a(store: Store) -> str:
    return await make_token(store, "tenant-a")


@pytest.fixture
async def token_b(store: Store) -> str:
    return await make_token(store, "tenant-b")


@pytest.fixture
async def client_token_a(store: Store) -> str:
    return await make_token(store, "tenant-a", scope="client:development", name="sdk")
