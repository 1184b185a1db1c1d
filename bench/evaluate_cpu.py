"""CPU per ``POST /segmux/v1/evaluate`` over 1,000 segments, in process, for comparing two
commits on a busy machine.

    PYTHONPATH=<checkout> python bench/evaluate_cpu.py [--backend postgres|sqlite]
        [--requests 2000] [--segments 1000]

Run it as a file with ``PYTHONPATH`` naming the checkout to measure (a ``git worktree`` of an
older commit works: this file imports only what every commit since the evaluate endpoint has):
it makes a store (a new PostgreSQL database, or a SQLite file), writes the evaluate tenant's
segments (``bench.fixtures``' shape, written out here so an old checkout needs nothing new),
builds the app with ``create_app`` and calls it as uvicorn would (the body, then
``http.disconnect`` only once the response is sent), one request at a time. Printed: the
process CPU time (``time.process_time``: every thread, so the SQLite driver's too) per request,
median and least of five rounds. CPU time moves far less with other load than req/s does, but
on a shared machine it still moves by 10-20 %: alternate the commits, several times, in the same
minutes. For a figure that does not move at all, run it under ``valgrind --tool=callgrind`` with
``--requests 5`` and ``--requests 505`` and divide the difference of the instruction counts by
500.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from core.expr.ast import And, Cmp, Expr, In, Lit, encode
from core.expr.normalize import normalize
from core.model import NewSegment
from core.store import Store, open_store
from core.tokens import TokenService
from gateway import logging as gateway_logging
from gateway.app import create_app
from gateway.settings import Settings

PG = "postgresql://postgres@127.0.0.1:5432"
CONTEXT = {
    "userId": "u-17",
    "country": "SE",
    "plan": "pro",
    "age": 30,
    "email": "ana@example.com",
    "appName": "web",
}


def _s(v: str) -> Lit:
    return Lit("string", v)


def expression(i: int) -> Expr:
    """``bench.fixtures.eval_expression``, as the evaluate scenario's tenant holds it."""
    atoms: list[Expr] = [
        In(("userId",), (_s(f"u-{i}"), _s(f"u-{i + 1}"), _s("u-17"))),
        In(("country",), (_s("SE"), _s("NO"), _s(f"C{i}"))),
    ]
    if i % 2:
        atoms.append(Cmp("ge", ("age",), Lit("number", i % 60)))
    return And(tuple(atoms))


async def call(
    app: Any,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    body: bytes = b"",
    query_string: bytes = b"",
) -> list[dict[str, Any]]:
    """One request through the ASGI app, as uvicorn sends it; the messages it sent."""
    sent: list[dict[str, Any]] = []
    done = asyncio.Event()
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop()
        await done.wait()  # uvicorn: a disconnect only once the response is complete
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query_string,
        "root_path": "",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
        "state": {},
    }
    await app(scope, receive, send)
    return sent


async def cpu_rounds(request: Callable[[], Awaitable[Any]], per_round: int) -> list[float]:
    """The process CPU µs per request of five rounds of ``per_round`` requests, least first."""
    rounds = []
    for _ in range(5):
        started = time.process_time()
        for _ in range(per_round):
            await request()
        rounds.append((time.process_time() - started) / per_round * 1e6)
    return sorted(rounds)


def evaluate(app: Any, token: str, body: bytes) -> Awaitable[list[dict[str, Any]]]:
    headers = [
        (b"authorization", b"Bearer " + token.encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    return call(app, "POST", "/segmux/v1/evaluate", headers, body)


@asynccontextmanager
async def scratch_store(backend: str, what: str) -> AsyncIterator[tuple[str, Store]]:
    """A new store for one measurement (a PostgreSQL database or a SQLite file), dropped
    after: its URL and the store, open."""
    name = f"segmux_{what}_{secrets.token_hex(4)}"
    if backend == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp(prefix=f'segmux-{what}-')}/segmux.db"
    else:
        conn = await asyncpg.connect(f"{PG}/postgres")
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        url = f"{PG}/{name}"
    store = await open_store(url)
    try:
        yield url, store
    finally:
        await store.close()
        if backend != "sqlite":
            conn = await asyncpg.connect(f"{PG}/postgres")
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await conn.close()


async def main(backend: str, requests: int, segments: int) -> None:
    gateway_logging.configure("warning")
    async with scratch_store(backend, "evaluate_cpu") as (url, store):
        token, _ = await TokenService(store).create(tenant="eval", scope="admin", name="bench")
        for i in range(segments):
            norm = normalize(expression(i))
            assert norm is not None
            new = NewSegment(name=f"eval-{i:04d}", sandbox="prod", expression=encode(norm))
            await store.create_segment("eval", new, "bench")
        app = create_app(Settings(database_url=url), store=store)
        body = json.dumps({"context": CONTEXT}).encode()
        for _ in range(50):  # compile the set, fill the caches
            sent = await evaluate(app, token, body)
        assert sent[0]["status"] == 200, sent
        assert len(json.loads(sent[-1]["body"])["results"]) == segments
        per_round = max(1, requests // 5)
        rounds = await cpu_rounds(lambda: evaluate(app, token, body), per_round)
        print(
            f"{backend}: CPU µs per request: median {rounds[2]:.0f}, least {rounds[0]:.0f} "
            f"(rounds of {per_round}: {', '.join(f'{r:.0f}' for r in rounds)})"
        )


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--backend", default="postgres", choices=["postgres", "sqlite"])
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--segments", type=int, default=1000)
    args = p.parse_args()
    asyncio.run(main(args.backend, args.requests, args.segments))
