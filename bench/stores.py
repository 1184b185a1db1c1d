"""Fresh stores for a run, prepared once per version of the code that writes them.

Preparing fixture B (10,000 segments through ``Store.create_segment``, 100,000 individuals in
bulk) takes a minute or more on a busy 2-core machine, for each backend. It is done once and
kept as a template: a PostgreSQL database ``segmux_bench_tpl_<key>`` (copied with
``CREATE DATABASE … TEMPLATE``) and a SQLite file under ``bench/out/cache/`` (copied), with
the tokens' secrets next to it. ``<key>`` hashes everything that decides what is written —
``core/`` (model, store, expressions, migrations), ``bench/fixtures.py`` and the sizes — so a
change to any of them prepares a new template (older ones are dropped). Each run still gets
its own database, never served before; fixture A is loaded through the API on every run.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import asyncpg

from bench import fixtures

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / "out" / "cache"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
TEMPLATE_PREFIX = "segmux_bench_tpl_"


def pg_server() -> str:
    return os.environ.get("SEGMUX_BENCH_DATABASE_URL") or os.environ.get(
        "SEGMUX_TEST_DATABASE_URL", DEFAULT_PG
    )


def pg_url(name: str) -> str:
    return pg_server().rsplit("/", 1)[0] + f"/{name}"


async def pg_fetchval(sql: str) -> str:
    conn = await asyncpg.connect(pg_server())
    try:
        return str(await conn.fetchval(sql) or "")
    finally:
        await conn.close()


def code_key(segments: int, individuals: int) -> str:
    h = hashlib.sha256(f"{segments}/{individuals}".encode())
    files = sorted(p for p in (ROOT / "core").rglob("*") if p.suffix in (".py", ".sql", ".lark"))
    for path in [*files, ROOT / "bench" / "fixtures.py", ROOT / "bench" / "stores.py"]:
        h.update(str(path.relative_to(ROOT)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def _sqlite_path(url: str) -> Path:
    return Path(url.split("sqlite:///", 1)[1])


async def _template(
    backend: str, key: str, segments: int, individuals: int, *, clean: bool
) -> tuple[str, fixtures.Tokens, bool]:
    """The template's URL and tokens, preparing it when missing (and, with ``clean``, dropping
    older templates); True when it was prepared."""
    CACHE.mkdir(parents=True, exist_ok=True)
    meta = CACHE / f"{backend}-{key}.json"
    name = f"{TEMPLATE_PREFIX}{key}"
    url = f"sqlite:///{CACHE / f'{backend}-{key}.db'}" if backend == "sqlite" else pg_url(name)
    if meta.exists():
        exists = (
            _sqlite_path(url).exists()
            if backend == "sqlite"
            else await pg_fetchval(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
        )
        if exists:
            return url, fixtures.Tokens(**json.loads(meta.read_text())), False
    admin = f"bench-admin-{uuid.uuid4().hex}"
    if backend == "sqlite":
        for old in CACHE.glob("sqlite-*") if clean else ():
            old.unlink()
        building = f"sqlite:///{CACHE / f'building-{key}.db'}"
        tokens, _ = await fixtures.prepare_store(
            building, admin, segments=segments, individuals=individuals
        )
        _sqlite_path(building).rename(_sqlite_path(url))
    else:
        for old in CACHE.glob("postgres-*") if clean else ():
            old.unlink()
        pattern = TEMPLATE_PREFIX if clean else f"building_{key}"
        conn = await asyncpg.connect(pg_server())
        try:
            for row in await conn.fetch(
                "SELECT datname FROM pg_database WHERE datname LIKE "
                f"'{pattern}%' OR datname = 'building_{key}'"
            ):
                await conn.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "building_{key}"')
            tokens, _ = await fixtures.prepare_store(
                pg_url(f"building_{key}"), admin, segments=segments, individuals=individuals
            )
            await conn.execute(f'ALTER DATABASE "building_{key}" RENAME TO "{name}"')
        finally:
            await conn.close()
    meta.write_text(json.dumps(asdict(tokens)))
    return url, tokens, True


async def _copy(backend: str, template: str) -> str:
    name = f"segmux_bench_{uuid.uuid4().hex[:8]}"
    if backend == "sqlite":
        target = CACHE.parent / "db" / f"{name}.db"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_sqlite_path(template), target)
        return f"sqlite:///{target}"
    tpl = template.rsplit("/", 1)[1]
    await pg_fetchval(f'CREATE DATABASE "{name}" TEMPLATE "{tpl}"')
    return pg_url(name)


def _drop(backend: str, url: str) -> None:
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{_sqlite_path(url)}{suffix}").unlink(missing_ok=True)
        return
    asyncio.run(pg_fetchval(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))


@contextmanager
def fresh_stores(
    backends: list[str], *, segments: int, individuals: int, cache: bool = True
) -> Iterator[dict[str, tuple[str, fixtures.Tokens, str]]]:
    """Per backend: (URL of a new database holding fixture B, its tokens, how it was made);
    the backends are prepared concurrently; every database is dropped on exit."""
    key = code_key(segments, individuals) if cache else uuid.uuid4().hex[:12]

    async def one(backend: str) -> tuple[str, fixtures.Tokens, str, str]:
        template, tokens, built = await _template(backend, key, segments, individuals, clean=cache)
        if not cache:  # the template itself is this run's database, dropped at the end
            (CACHE / f"{backend}-{key}.json").unlink(missing_ok=True)
            return template, tokens, "prepared (no cache)", template
        how = "prepared, then copied" if built else f"copied from the cached template {key}"
        return await _copy(backend, template), tokens, how, template

    async def all_() -> list[tuple[str, fixtures.Tokens, str, str]]:
        return list(await asyncio.gather(*(one(b) for b in backends)))

    made = dict(zip(backends, asyncio.run(all_()), strict=True))
    try:
        yield {b: (url, tokens, how) for b, (url, tokens, how, _) in made.items()}
    finally:
        for backend, (url, _, _, _) in made.items():
            _drop(backend, url)
