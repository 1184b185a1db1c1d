"""A real Unleash server (``unleash-server@8.2.0`` from npm) on a fresh PostgreSQL database.

Used by ``make interop`` and by benchmarks that compare segmux with the real thing::

    from bench.unleash_server import unleash_server

    with unleash_server("unleash_a") as srv:
        httpx.get(f"{srv.url}/api/admin/segments", headers={"Authorization": srv.admin_token})

By hand: ``python -m bench.unleash_server [--db NAME] [--port N]`` prints the URL and the tokens
and serves until Ctrl-C; the database is dropped on exit either way.

The package is installed once into ``.cache/unleash-server/`` (gitignored) with
``npm install --no-audit --no-fund`` and reused afterwards. The server listens on 127.0.0.1 only,
with API-token auth on, telemetry and the version check off. Tokens are seeded through
``INIT_ADMIN_API_TOKENS`` / ``INIT_BACKEND_API_TOKENS`` / ``INIT_FRONTEND_API_TOKENS`` (Unleash's
own bootstrap mechanism), so
no login or UI step is needed. PostgreSQL is reached as ``SEGMUX_UNLEASH_PG_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``): a maintenance database on the server where
the fresh one is created and later dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

VERSION = "8.2.0"
ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "unleash-server"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
START_TIMEOUT = 180.0  # the first start runs ~300 schema migrations

# Connection details come in through the environment so the entry never embeds a secret.
ENTRY_JS = """\
const unleash = require('unleash-server');
unleash.start({
  db: {
    host: process.env.SX_DB_HOST, port: Number(process.env.SX_DB_PORT),
    user: process.env.SX_DB_USER, password: process.env.SX_DB_PASSWORD || undefined,
    database: process.env.SX_DB_NAME, ssl: false,
  },
  server: { host: '127.0.0.1', port: Number(process.env.SX_PORT) },
  authentication: { enableApiToken: true, createAdminUser: true },
  versionCheck: { enable: false },
  telemetry: false,
  logLevel: process.env.LOG_LEVEL || 'warn',
}).catch((err) => { console.error(err); process.exit(1); });
"""

T = TypeVar("T")


@dataclass(frozen=True)
class UnleashServer:
    url: str  # base URL without a trailing slash; the admin API is under {url}/api/admin
    admin_token: str  # "*:*.<secret>": admin API
    client_token: str  # "default:development.<secret>": client (backend SDK) API
    frontend_token: str  # "default:development.<secret>": frontend API (browser SDKs)
    pid: int
    database: str
    log: Path  # the server's own output, kept until it stops: what to show when it dies

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError as exc:
            return f"(no log: {exc})"


def ensure_installed() -> Path:
    """Install unleash-server into the cache if it is not there yet; return its directory."""
    marker = CACHE / "node_modules" / "unleash-server" / "package.json"
    if marker.exists() and f'"version": "{VERSION}"' in marker.read_text():
        return CACHE
    if shutil.which("npm") is None:
        raise RuntimeError("npm is needed to install unleash-server (apt-get install npm)")
    CACHE.mkdir(parents=True, exist_ok=True)
    package = CACHE / "package.json"
    if not package.exists():
        package.write_text('{"name": "segmux-unleash-server", "private": true}\n')
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", f"unleash-server@{VERSION}"],
        cwd=CACHE,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return CACHE


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion even when the caller is inside an event loop."""
    values: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            values.append(asyncio.run(coro))
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return values[0]


def _check_name(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ValueError(f"database name must be a lowercase SQL identifier: {name!r}")
    return name


async def _create_db(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_db(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"unleash-server exited with {proc.returncode}:\n{log.read_text()[-4000:]}"
            )
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(
        f"unleash-server was not healthy within {START_TIMEOUT:.0f}s:\n{log.read_text()[-4000:]}"
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@contextmanager
def unleash_server(
    db_name: str,
    *,
    port: int | None = None,
    pg_url: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[UnleashServer]:
    """Start unleash-server on a freshly (re)created database ``db_name``; stop it and drop
    the database on exit. ``env`` adds Unleash settings, e.g. ``{"UNLEASH_SEGMENTS_LIMIT":
    "1000"}`` (default 300 segments) or ``{"LOG_LEVEL": "info"}``."""
    name = _check_name(db_name)
    admin_url = pg_url or os.environ.get("SEGMUX_UNLEASH_PG_URL", DEFAULT_PG)
    parts = urlsplit(admin_url)
    cache = ensure_installed()
    entry = cache / "segmux-start.js"
    if not entry.exists() or entry.read_text() != ENTRY_JS:
        entry.write_text(ENTRY_JS)
    _run(_create_db(admin_url, name))
    port = port or _free_port()
    admin_token = f"*:*.{secrets.token_hex(24)}"
    client_token = f"default:development.{secrets.token_hex(24)}"
    frontend_token = f"default:development.{secrets.token_hex(24)}"
    child_env = {
        **os.environ,
        "SX_DB_HOST": parts.hostname or "127.0.0.1",
        "SX_DB_PORT": str(parts.port or 5432),
        "SX_DB_USER": parts.username or "postgres",
        "SX_DB_PASSWORD": parts.password or "",
        "SX_DB_NAME": name,
        "SX_PORT": str(port),
        "INIT_ADMIN_API_TOKENS": admin_token,
        "INIT_BACKEND_API_TOKENS": client_token,
        "INIT_FRONTEND_API_TOKENS": frontend_token,
        "SEND_TELEMETRY": "false",
        "CHECK_VERSION": "false",
        "NODE_ENV": "production",
        **(env or {}),
    }
    fd, log_name = tempfile.mkstemp(prefix=f"unleash-{name}-", suffix=".log")
    log = Path(log_name)
    with os.fdopen(fd, "wb") as log_file:
        proc = subprocess.Popen(
            ["node", str(entry)],
            cwd=cache,
            env=child_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield UnleashServer(
            url=url,
            admin_token=admin_token,
            client_token=client_token,
            frontend_token=frontend_token,
            pid=proc.pid,
            database=name,
            log=log,
        )
    finally:
        _stop(proc)
        _run(_drop_db(admin_url, name))
        log.unlink(missing_ok=True)


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.unleash_server", description="Run a real unleash-server until Ctrl-C."
    )
    parser.add_argument("--db", default="unleash_manual", help="database to (re)create")
    parser.add_argument("--port", type=int, help="default: a free port")
    args = parser.parse_args()
    pg = os.environ.get("SEGMUX_UNLEASH_PG_URL", DEFAULT_PG)
    print(
        f"starting unleash-server {VERSION} on database {args.db} ({_redacted(pg)})…",
        file=sys.stderr,
        flush=True,
    )
    with unleash_server(args.db, port=args.port) as srv:
        # Tokens are printed here on purpose: this is a throwaway local server for a person.
        print(
            f"url={srv.url}\nadmin_token={srv.admin_token}\n"
            f"client_token={srv.client_token}\nfrontend_token={srv.frontend_token}\n"
            f"pid={srv.pid}",
            flush=True,
        )
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with suppress(KeyboardInterrupt):
            stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
