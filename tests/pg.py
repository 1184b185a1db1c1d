"""PostgreSQL for tests: where the server is, and fresh databases on it.

``SEGMUX_TEST_DATABASE_URL`` names a server and a database the tests may connect to (the Makefile
defaults it to the local server). Tests that need PostgreSQL get it through :func:`require_pg`:
on a laptop without a server they skip with a message saying how to enable them; under
``CI=true`` a missing server is a failure, never a skip.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import os
import shutil
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlsplit, urlunsplit

import pytest

T = TypeVar("T")

ENV = "SEGMUX_TEST_DATABASE_URL"
HOW = (
    f"set {ENV}=postgresql://postgres@127.0.0.1:5432/test (a server you may create databases on) "
    "to run the PostgreSQL tests"
)

_reachable: bool | None = None


def run_sync(fn: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion on a private loop in another thread, so it never disturbs
    the event loop pytest-asyncio gives the test."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(fn())).result()  # type: ignore[arg-type]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(message: str, *, module_level: bool = False) -> NoReturn:
    """A tool a test needs is missing: skip on a laptop, fail under ``CI=true``, where a skip
    would hide that the test never ran."""
    if in_ci():
        pytest.fail(f"CI=true but {message}", pytrace=False)
    pytest.skip(message, allow_module_level=module_level)


def server_url() -> str | None:
    return os.environ.get(ENV) or None


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def require_pg() -> str:
    """The server URL, or skip (fail under CI) when it is not set or not reachable."""
    global _reachable
    url = server_url()
    if url is None:
        if in_ci():
            pytest.fail(f"CI=true but {ENV} is not set: {HOW}", pytrace=False)
        pytest.skip(f"PostgreSQL tests skipped: {HOW}")
    if _reachable is None:
        import asyncpg

        async def probe() -> bool:
            try:
                conn = await asyncpg.connect(url, timeout=5)
            except (TimeoutError, OSError, asyncpg.PostgresError):
                return False
            await conn.close()
            return True

        _reachable = run_sync(probe)
    if not _reachable:
        if in_ci():
            pytest.fail(f"CI=true but PostgreSQL at {url} is not reachable", pytrace=False)
        pytest.skip(f"PostgreSQL at {url} is not reachable: {HOW}")
    return url


def create_database(prefix: str, template: str | None = None) -> str:
    """Create an empty (or templated) database and return its URL."""
    import asyncpg

    url = require_pg()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        conn = await asyncpg.connect(url)
        try:
            tpl = f" TEMPLATE {template}" if template else ""
            await conn.execute(f'CREATE DATABASE "{name}"{tpl}')
        finally:
            await conn.close()

    run_sync(create)
    return with_database(url, name)


def commit_without_waiting(db_url: str) -> None:
    """Sessions on this database commit without waiting for the WAL to reach the disk
    (``synchronous_commit = off``). What every session sees, and when, is unchanged: only a
    crash of the PostgreSQL server itself could lose the last commits, which no test here
    survives or looks for. Most in-process tests are a few small commits, each of which would
    otherwise wait for an fsync, the slowest thing a busy machine does."""
    import asyncpg

    url = require_pg()
    name = urlsplit(db_url).path.lstrip("/")

    async def alter() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        finally:
            await conn.close()

    run_sync(alter)


def drop_database(db_url: str) -> None:
    import asyncpg

    url = require_pg()
    name = urlsplit(db_url).path.lstrip("/")

    async def drop() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    run_sync(drop)


def require(module: str) -> Any:
    """Import a test tool (an SDK, an engine) that ``make test`` installs: missing, its tests
    skip on a laptop, and fail under ``CI=true``, where a skip would hide that they never ran."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        # An SDK's test module imports it at the top: the skip is a module-level one.
        unavailable(
            f"{module} is not installed ({exc}): run make test, which installs it",
            module_level=True,
        )


def require_command(command: str) -> None:
    """Like :func:`require`, for a program on the PATH (curl for the README sessions)."""
    if shutil.which(command) is None:
        unavailable(f"{command} is not installed")
