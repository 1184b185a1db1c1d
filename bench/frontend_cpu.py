"""CPU per frontend poll (``GET /api/frontend?userId=<another user per request>``) over fixture A,
in process, for comparing two commits on a busy machine.

    PYTHONPATH=<checkout> python -m bench.frontend_cpu [--backend sqlite|postgres]
        [--requests 5000] [--callgrind]

Makes a store (a SQLite file, or a new PostgreSQL database), fixture A (50 segments, 10 features
using 2 segments each: ``bench.fixtures.load_fixture_a``) through the Unleash admin API of the
app in process, a frontend token, then calls the app as uvicorn would with the bench scenario's
path (``bench.scenarios.FRONTEND_PATH``), another user on every request, at log level
``info`` to a file (a serving process's access log). Prints the process CPU time per request
(median and least of five rounds). With ``--callgrind``, run it under
``valgrind --tool=callgrind --callgrind-out-file=F``: the counts are zeroed before the measured
requests and dumped after them, so ``summary`` in ``F.1`` divided by ``--requests`` is the
instructions per request.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import tempfile
from typing import Any, TextIO

import httpx

from bench import evaluate_cpu, kept_cpu
from bench.fixtures import load_fixture_a
from bench.scenarios import FRONTEND_PATH
from bench.wrk import PLACEHOLDER
from core.tokens import TokenService
from gateway import logging as gateway_logging
from gateway.app import create_app
from gateway.settings import Settings

_users = itertools.count(1_000_000)


async def poll(app: Any, headers: list[tuple[bytes, bytes]]) -> list[dict[str, Any]]:
    """One poll through the ASGI app, for a user no request asked for before."""
    path, _, query = FRONTEND_PATH.replace(PLACEHOLDER, str(next(_users))).partition("?")
    return await evaluate_cpu.call(app, "GET", path, headers, query_string=query.encode())


async def main(args: argparse.Namespace, log: TextIO) -> None:
    gateway_logging.configure("info", log, "json", serving=True)
    async with evaluate_cpu.scratch_store(args.backend, "frontend_cpu") as (url, store):
        tokens = TokenService(store)
        admin, _ = await tokens.create(tenant="default", scope="admin", name="admin")
        frontend, _ = await tokens.create(
            tenant="default", scope="frontend:development", name="web"
        )
        app = create_app(Settings(database_url=url), store=store)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            await load_fixture_a("http://segmux", admin, transport=transport)
            headers = [(b"authorization", frontend.encode()), (b"user-agent", b"wrk")]
            for _ in range(200):  # compiled, caches filled
                sent = await poll(app, headers)
                assert sent[0]["status"] == 200, sent
            await kept_cpu.measure(lambda: poll(app, headers), args, "info json", "frontend poll")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--backend", default="sqlite", choices=["sqlite", "postgres"])
    p.add_argument("--requests", type=int, default=5000)
    p.add_argument("--callgrind", action="store_true")
    arguments = p.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="segmux-frontend-cpu-") as tmp,
        open(os.path.join(tmp, "access.log"), "w") as access_log,
    ):
        asyncio.run(main(arguments, access_log))
