"""CPU per Unleash admin segment create (and update), in process, round after round, to see
whether a write's cost grows with the writes before it.

    PYTHONPATH=<checkout> python -m bench.write_cpu [--backend sqlite|postgres]
        [--creates 50000] [--round 2000] [--concurrency 10] [--updates 2000]

Makes a store (a SQLite file, or a new PostgreSQL database), an admin token of a tenant of its
own, the app (``create_app``), and sends ``POST /api/admin/segments`` (``bench.writes``' body:
a new name each, two constraints) as uvicorn would, ``--concurrency`` at a time, in rounds of
``--round``. Per round it prints the process CPU µs per create (``time.process_time``: every
thread, so the SQLite driver's too), the wall-clock rate (noise on a shared machine) and, on
SQLite, the ``-wal`` file's size and the log's length in frames (``mxFrame`` of the WAL-index
header). Then ``--updates`` ``PUT``s over 200 of those segments, in rounds likewise.

With ``--callgrind``, run it under ``valgrind --tool=callgrind --callgrind-out-file=F``: each
round's counts are zeroed before it and dumped after it (``F.N``, named ``create-<n>``); the
``summary`` of a dump divided by the round's requests is the instructions per write (every
thread's), a figure other load on the machine does not move. The first round includes the
caches' warm-up: compare later ones.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator

from bench.evaluate_cpu import call, scratch_store
from core.store import Store
from core.store.sqlite.wal_index import WalIndex, frames, valid
from core.tokens import TokenService
from gateway import logging as gateway_logging
from gateway.app import create_app
from gateway.settings import Settings


def _body(name: str, values: list[str]) -> bytes:
    constraints = [{"contextName": "userId", "operator": "IN", "values": values}]
    return json.dumps({"name": name, "constraints": constraints}).encode()


def _wal_state(url: str) -> str:
    if not url.startswith("sqlite"):
        return ""
    path = url.removeprefix("sqlite:///")
    size = os.path.getsize(path + "-wal") if os.path.exists(path + "-wal") else 0
    index = WalIndex.open(path)
    header = None if index is None else index.header()
    count = frames(header) if header is not None and valid(header) else -1
    if index is not None:
        index.close()
    return f"  wal {size / 1e6:.1f} MB, {count} frames"


def _callgrind(command: str, *args: str) -> None:
    """Between rounds, when no request is running: nothing else waits on the event loop."""
    subprocess.run(["callgrind_control", command, *args, str(os.getpid())], capture_output=True)


async def _worker(one: Callable[[int], Awaitable[None]], numbers: Iterator[int], stop: int) -> None:
    while (i := next(numbers)) < stop:
        await one(i)


async def _rounds(
    what: str,
    url: str,
    one: Callable[[int], Awaitable[None]],
    total: int,
    per_round: int,
    concurrency: int,
    callgrind: bool,
) -> None:
    done = 0
    while done < total:
        n = min(per_round, total - done)
        numbers = itertools.count(done)  # shared: each worker takes the next request's number
        if callgrind:  # counts of this round alone, dumped after it
            _callgrind("-z")
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(_worker(one, numbers, done + n) for _ in range(concurrency)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        done += n
        if callgrind:
            _callgrind("-d", f"{what}-{done}")
        print(
            f"{what} {done:>6}: {cpu / n * 1e6:6.0f} CPU µs each, {n / wall:6.0f}/s"
            + _wal_state(url),
            flush=True,
        )


async def main(args: argparse.Namespace) -> None:
    gateway_logging.configure("warning")
    async with scratch_store(args.backend, "write_cpu") as (url, store):
        await _run(args, url, store)


async def _run(args: argparse.Namespace, url: str, store: Store) -> None:
    token, _ = await TokenService(store).create(tenant="writes", scope="admin", name="bench")
    settings = Settings(database_url=url, segment_limit=100_000_000)
    app = create_app(settings, store=store)
    headers = [(b"authorization", token.encode()), (b"content-type", b"application/json")]
    ids: list[str] = []

    async def create(i: int) -> None:
        body = _body(f"seg-{i}", ["u1", "u2"])
        sent = await call(app, "POST", "/api/admin/segments", headers, body)
        assert sent[0]["status"] == 201, sent
        if len(ids) < 200:
            ids.append(str(json.loads(sent[-1]["body"])["id"]))

    async def update(i: int) -> None:
        body = _body(f"upd-{i}", [f"u-{i}", "u2"])
        path = f"/api/admin/segments/{ids[i % len(ids)]}"
        sent = await call(app, "PUT", path, headers, body)
        assert sent[0]["status"] == 204, sent

    async with app.router.lifespan_context(app):
        await _rounds(
            "create", url, create, args.creates, args.round, args.concurrency, args.callgrind
        )
        if args.updates:
            await _rounds(
                "update", url, update, args.updates, args.round, args.concurrency, args.callgrind
            )


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--backend", default="sqlite", choices=["sqlite", "postgres"])
    p.add_argument("--creates", type=int, default=50_000)
    p.add_argument("--round", type=int, default=2000)
    p.add_argument("--concurrency", type=int, default=10)
    p.add_argument("--updates", type=int, default=2000)
    p.add_argument("--callgrind", action="store_true")
    return p.parse_args()


def _main() -> None:
    asyncio.run(main(_args()))


if __name__ == "__main__":
    _main()
