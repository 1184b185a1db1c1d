"""Fixtures shared by every tier: a store per backend, an app over it, tokens, an HTTP client.

Every store and dialect test runs on both backends: ``store`` is parametrised over SQLite (a
fresh file per test, copied from one migrated once per session) and PostgreSQL (one database
per session, copied from a migrated template, emptied as each module and each test using
``store`` starts, by DELETEs from the tables that hold rows; each test's store is its own, over
the session's pool of warm connections). Tests and fixtures share one event loop per session.

Tests that start something outside the test's own calls get the ``live`` marker, so that
``pytest -m "not live"`` is the fast inner loop and ``pytest -m live`` the rest: a real
``segmux serve`` or other subprocess (CLIs, npm's Prism and unleash-server, a private PostgreSQL
cluster, the plain-install venv, Chromium) or a real server on a loopback port. Nobody has to
remember the marker: a test is marked when its module binds anything from ``LIVE_ORIGINS`` (the
standard modules that start processes and the suite's own helpers that do) or a function of a
test module that binds one (a CLI module's ``run``), or when one of the
fixtures it uses refers to such a thing. A module the rule misses marks itself with
``pytestmark = pytest.mark.live``. The PostgreSQL half of a test parametrised over both
backends gets the ``postgres`` marker.
"""

from __future__ import annotations

import datetime as dt
import graphlib
import shutil
import sys
import types
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import asyncpg
import httpx
import pytest
from hypothesis import settings as hypothesis_settings

from core import clock
from core.store import Store, open_store
from core.store.base import Tx
from core.store.limits import StoreLimits
from core.store.postgres.backend import PostgresStore
from core.tokens import TokenService
from gateway.app import create_app
from gateway.logging import configure as configure_logging
from gateway.settings import Settings
from tests import pg
from tests.examples import QUICK

BACKENDS = ["sqlite", "postgres"]

# Lines go out as `segmux serve` writes them by default (JSON on standard error, from info up),
# not through structlog's unconfigured development renderer, which a test would otherwise get
# until one configures logging itself: that renderer formats a logged exception's traceback
# with rich's syntax highlighting, seconds of CPU for each exception a test provokes.
configure_logging()

if QUICK:
    # The inner loop (tests/examples.py): properties without their own count draw 10 examples.
    hypothesis_settings.register_profile("quick", max_examples=10)
    hypothesis_settings.load_profile("quick")

# Modules whose use means a test starts a process or a server (a name or any submodule of it).
LIVE_ORIGINS = (
    "subprocess",
    "asyncio.subprocess",
    "multiprocessing",
    "playwright",
    "tests.live",  # a real uvicorn server on a free port, and the port finder the CLIs use
    "tests.browser",  # npm installs and the web server that serves the browser tests' pages
    "tests.reliability.procs",  # `segmux serve` processes
    "tests.reliability.pgcluster",  # a private PostgreSQL cluster
    "tests.contract.prism",  # npm's Prism
)


def _live_origin(value: object) -> bool:
    name = (
        value.__name__
        if isinstance(value, types.ModuleType)
        else getattr(value, "__module__", None)
    )
    if not isinstance(name, str):
        return False
    if any(name == origin or name.startswith(origin + ".") for origin in LIVE_ORIGINS):
        return True
    # A helper from another module of the suite that starts processes (a test module's `run`
    # or `cli` around subprocess.run) starts them for every module that calls it.
    module = sys.modules.get(name) if name.startswith("tests.") else None
    return (
        module is not None and not isinstance(value, types.ModuleType) and _module_is_live(module)
    )


_live_modules: dict[str, bool] = {}


def _module_is_live(module: types.ModuleType) -> bool:
    name = module.__name__
    if name not in _live_modules:
        _live_modules[name] = False  # while deciding: modules that import each other
        _live_modules[name] = any(_live_origin(v) for v in vars(module).values())
    return _live_modules[name]


def _code_names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_names(const)


def _fixture_is_live(func: Any) -> bool:
    """Whether a fixture's body (nested functions included) names a live thing of its module."""
    func = getattr(func, "__wrapped__", func)
    code = getattr(func, "__code__", None)
    if code is None:
        return False
    scope = getattr(func, "__globals__", {})
    return any(name in scope and _live_origin(scope[name]) for name in _code_names(code))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    live_modules: dict[str, bool] = {}
    live_fixtures: dict[object, bool] = {}
    for item in items:
        # The PostgreSQL half of every test parametrised over both backends, so that
        # `-m "not live and not postgres"` is the quickest loop (SQLite only).
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "postgres" in callspec.params.values():
            item.add_marker(pytest.mark.postgres)
        if item.get_closest_marker("live"):
            continue
        module = getattr(item, "module", None)
        live = False
        if module is not None:
            if module.__name__ not in live_modules:
                live_modules[module.__name__] = _module_is_live(module)
            live = live_modules[module.__name__]
        # Which fixture functions a test uses is only kept on this private attribute.
        info = getattr(item, "_fixtureinfo", None)
        for defs in (getattr(info, "name2fixturedefs", None) or {}).values():
            if live:
                break
            for fixturedef in defs:
                func = fixturedef.func
                if func not in live_fixtures:
                    live_fixtures[func] = _fixture_is_live(func)
                live = live or live_fixtures[func]
        if live:
            item.add_marker(pytest.mark.live)


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


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store migrated once per session; each test's store is a copy of the file.
    Running the migrations statement by statement for every test was most of the SQLite half's
    set-up time; a copy is the same bytes a fresh migration would write."""
    path = tmp_path_factory.mktemp("sqlite_template") / "segmux.db"

    async def migrate() -> None:
        store = await open_store(f"sqlite:///{path}")
        await store.close()

    pg.run_sync(migrate)
    # Closing the last connection checkpoints the WAL into the file and removes it, so the file
    # alone is the whole store (a leftover WAL would be part of it, and not copied).
    assert not path.with_name(path.name + "-wal").exists(), "the template's WAL was left over"
    return path


@pytest.fixture(scope="session")
def pg_session_url(pg_template: str) -> Iterator[str]:
    """One database copied from the template for the whole session (each xdist worker has its
    own session). A database per module cost a CREATE DATABASE and a DROP DATABASE per module,
    a second or more each on a busy machine (a DROP waits for a checkpoint)."""
    url = pg.create_database("segmux_t", template=pg_template)
    pg.commit_without_waiting(url)
    yield url
    pg.drop_database(url)


async def open_copy(url: str) -> Store:
    """A store on a test database copied from a migrated template (``store_url``): a PostgreSQL
    one opens without migrating again, which took the migration lock and re-created every SQL
    function on each open (half the cost of opening a store); the template was migrated by
    this version. SQLite copies migrate as ``open_store`` does (nothing to apply, one local
    transaction)."""
    if url.startswith("sqlite"):
        return await open_store(url)
    return await PostgresStore.open(url, migrate=False)


class BorrowedPool:
    """The session's pool (``pg_shared``), lent to one test's store as if it were the store's
    own. Every test's store used to open a pool of its own: a new connection is a new server
    process whose catalog and plan caches start cold, so a test's first statements on it
    (emptying the database, the first token, the first request) waited some 35 ms more than
    the same statements on a connection that has run them before. The pool itself is the one
    ``PostgresStore.open`` makes (``create_pool``: same settings, same release without reset,
    which leaves no session state behind). Closing the store closes only this loan: an
    ``acquire`` after it fails as a closed pool's does (the tests that close their store to see
    the API's answer without a database get the same error), and the connections stay with the
    session."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._closed = False

    def acquire(self) -> Any:
        if self._closed:
            raise asyncpg.exceptions.InterfaceError("pool is closed")
        return self._pool.acquire()

    async def close(self) -> None:
        self._closed = True

    def get_size(self) -> int:
        return self._pool.get_size()

    def get_idle_size(self) -> int:
        return self._pool.get_idle_size()


@pytest.fixture(scope="session")
async def pg_shared(pg_session_url: str) -> AsyncIterator[PostgresStore]:
    """A store on the session's database over the pool the tests' stores borrow; it empties
    the database before each test (its connections are the warm ones)."""
    limits = StoreLimits()
    pool = await PostgresStore.create_pool(pg_session_url, limits)
    shared = PostgresStore(pg_session_url, pool, limits)
    yield shared
    await shared.close()


@pytest.fixture(scope="module")
async def pg_module_url(pg_session_url: str, pg_shared: PostgresStore) -> str:
    """The session's database, emptied as a module starts: every module begins with what a
    fresh copy of the template holds, whatever the modules before it left behind (tests that
    start their own processes on it empty nothing themselves)."""
    await empty_postgres(pg_shared)
    return pg_session_url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_url(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> str:
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("store") / "segmux.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return str(request.getfixturevalue("pg_module_url"))


_TABLES = """
SELECT c.relname AS name,
       coalesce(array_agg(DISTINCT r.relname) FILTER (WHERE r.relname IS NOT NULL), '{}')
           AS referencing
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
LEFT JOIN pg_constraint k ON k.confrelid = c.oid AND k.contype = 'f' AND k.conrelid <> c.oid
LEFT JOIN pg_class r ON r.oid = k.conrelid
WHERE c.relkind IN ('r', 'p') AND c.relname <> 'schema_migrations'
GROUP BY c.relname
"""
"""Every table but the migrations' own, with the tables whose foreign keys point at it."""

_tables: dict[str, tuple[str, ...]] = {}
"""Each test database's tables, the referencing ones before those they reference (the schema
of a test database never changes, so it is read once per database)."""


async def _tables_of(tx: Tx, url: str) -> tuple[str, ...]:
    if url not in _tables:
        rows = await tx.fetch(_TABLES)
        graph = {r["name"]: list(r["referencing"]) for r in rows}
        _tables[url] = tuple(graphlib.TopologicalSorter(graph).static_order())
    return _tables[url]


async def _holding_rows(tx: Tx, tables: tuple[str, ...]) -> list[str]:
    """The tables that hold any row, in the order of ``tables``: one statement."""
    probes = ", ".join(f"CASE WHEN EXISTS (SELECT FROM \"{t}\") THEN '{t}' END" for t in tables)
    row = await tx.fetchrow(f"SELECT array_remove(ARRAY[{probes}], NULL) AS names")
    assert row is not None
    return list(row["names"])


async def empty_postgres(store: Store) -> None:
    """Empty every table of a PostgreSQL store's database, as a fresh copy of the migrated
    template would be: one statement finds the tables holding rows (usually a handful), and
    one transaction DELETEs from those, the referencing tables before those they reference
    (keys without ON DELETE CASCADE would refuse otherwise). TRUNCATE of every table, which
    was here, makes new files for each table and index: it took 0.3-0.9 s per test.

    Deleting fires the tables' triggers, which write the revision tables again: the deferred
    ones are made immediate so that they fire within the transaction, and the same DELETEs run
    a second time to take what the first wrote. Revisions come from sequences, which neither
    TRUNCATE nor DELETE resets, so no cache can ever see a number again either way."""
    assert isinstance(store, PostgresStore)
    for _ in range(3):
        async with store._read() as tx:
            holding = await _holding_rows(tx, await _tables_of(tx, store.url))
        if not holding:
            return
        deletes = "".join(f'DELETE FROM "{t}";' for t in holding)
        async with store._write() as tx:
            await tx.execute("SET CONSTRAINTS ALL IMMEDIATE;" + deletes + deletes)
    raise AssertionError(f"{store.url} still holds rows after emptying: {holding}")


@pytest.fixture
async def store(
    store_url: str, backend: str, request: pytest.FixtureRequest
) -> AsyncIterator[Store]:
    if backend == "postgres":
        shared: PostgresStore = request.getfixturevalue("pg_shared")
        await empty_postgres(shared)
        # A store of the test's own (its caches, counts, gates and LISTEN connection are
        # new, as a freshly opened store's) over the session's warm connections.
        s: Store = PostgresStore(store_url, cast(asyncpg.Pool, BorrowedPool(shared._pool)))
    else:
        s = await open_copy(store_url)
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


FROZEN_NOW = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
"""The clock of every test (``core.clock``): an instant the drawn profiles hold, so conditions
relative to now meet their edges; a test that needs another puts it in ``clock.WALL`` and puts
this one back. Session-wide, so module fixtures that run requests (the semantics table) see it
too."""


@pytest.fixture(scope="session", autouse=True)
def frozen_clock() -> Iterator[dt.datetime]:
    wall = clock.WALL[0]
    clock.WALL[0] = lambda: FROZEN_NOW
    yield FROZEN_NOW
    clock.WALL[0] = wall
