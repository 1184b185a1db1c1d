"""CPU per kept answer (``GET /api/client/features``), in process, at a log level and format.

    PYTHONPATH=<checkout> python bench/kept_cpu.py [--backend sqlite|postgres] [--level info]
        [--format json|console] [--requests 5000] [--callgrind]

Makes a store (a SQLite file, or a new PostgreSQL database), a client token, the app
(``create_app``), and calls it as uvicorn would, one request at a time, after enough requests to
keep the answer; the log goes to a file, buffered as a serving process's. Prints the process CPU
time per request (median and least of five rounds). With ``--callgrind``, run it under
``valgrind --tool=callgrind --callgrind-out-file=F``: the counts are zeroed before the measured
requests and dumped after them (``callgrind_control``), so ``summary`` in ``F.1`` divided by
``--requests`` is the instructions per request, a figure other load on the machine does not move
(``docs/logs.md`` has the ones measured).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import tempfile
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

import asyncpg

from bench import evaluate_cpu
from core.store import open_store
from core.tokens import TokenService
from gateway import logging as gateway_logging
from gateway.app import create_app
from gateway.settings import Settings

PG = "postgresql://postgres@127.0.0.1:5432"
PATH = "/api/client/features"


async def call(app: Any, headers: list[tuple[bytes, bytes]]) -> int:
    """One GET of :data:`PATH` through the ASGI app (``bench.evaluate_cpu.call``); its status."""
    sent = await evaluate_cpu.call(app, "GET", PATH, headers)
    status: int = sent[0]["status"]
    return status


def _callgrind(command: str, *args: str) -> None:
    subprocess.run(["callgrind_control", command, *args, str(os.getpid())], capture_output=True)


async def measure(
    request: Callable[[], Awaitable[Any]], args: argparse.Namespace, what: str, per: str
) -> None:
    """``--requests`` requests: under callgrind (``--callgrind``) counted alone, else timed in
    five rounds (``bench.evaluate_cpu.cpu_rounds``), printed as CPU µs ``per`` request."""
    if args.callgrind:
        _callgrind("-z")
        for _ in range(args.requests):
            await request()
        _callgrind("-d", "measured")
        return
    rounds = await evaluate_cpu.cpu_rounds(request, max(1, args.requests // 5))
    print(f"{args.backend} {what}: CPU µs per {per}: median {rounds[2]:.1f}, least {rounds[0]:.1f}")


async def main(args: argparse.Namespace, directory: str, log: TextIO) -> None:
    gateway_logging.configure(args.level, log, args.format, serving=True)
    name = f"segmux_kept_cpu_{secrets.token_hex(4)}"
    if args.backend == "sqlite":
        url = f"sqlite:///{directory}/segmux.db"
    else:
        conn = await asyncpg.connect(f"{PG}/postgres")
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        url = f"{PG}/{name}"
    store = await open_store(url)
    try:
        tokens = TokenService(store)
        token, _ = await tokens.create(tenant="default", scope="client:development", name="sdk")
        app = create_app(Settings(database_url=url), store=store)
        headers = [
            (b"host", b"127.0.0.1:8000"),
            (b"authorization", token.encode()),
            (b"unleash-client-spec", b"5.2.0"),
            (b"unleash-appname", b"bench"),
            (b"user-agent", b"unleash-client-node"),
        ]
        async with app.router.lifespan_context(app):
            for _ in range(200):  # built, then kept
                assert await call(app, headers) == 200
            await measure(
                lambda: call(app, headers), args, f"{args.level} {args.format}", "kept answer"
            )
    finally:
        await store.close()
        if args.backend != "sqlite":
            conn = await asyncpg.connect(f"{PG}/postgres")
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await conn.close()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--backend", default="sqlite", choices=["sqlite", "postgres"])
    p.add_argument("--level", default="info")
    p.add_argument("--format", default="json", choices=["json", "console"])
    p.add_argument("--requests", type=int, default=5000)
    p.add_argument("--callgrind", action="store_true")
    arguments = p.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="segmux-kept-cpu-") as tmp,
        open(os.path.join(tmp, "access.log"), "w") as access_log,
    ):
        asyncio.run(main(arguments, tmp, access_log))
