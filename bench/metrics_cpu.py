"""CPU per kept list answer with ``SEGMUX_METRICS`` off and public, in process, alternated:
what the metrics cost a request where they show most, measured where the machine's other load
moves the figures least.

    PYTHONPATH=<checkout> python bench/metrics_cpu.py [--backend postgres|sqlite]
        [--requests 20000] [--rounds 7]

It makes a store (a new PostgreSQL database, or a SQLite file), writes fixture A's 50 segments
through the Unleash admin API, builds two apps on that store with ``create_app`` (metrics off,
metrics public) and sends each list scenario's request (``bench.scenarios``' headers) to each,
one at a time as uvicorn would, alternating off and on round by round. Printed per scenario:
CPU µs per request (``time.process_time``), the median of the rounds, off and on, and the
difference. The same process, the same store and the same requests: what differs is only what
the metrics do. For figures that do not move at all, run it under
``valgrind --tool=callgrind --collect-atstart=no --toggle-collect=<nothing>``… or simply compare
two ``--requests`` counts of one mode (``--only-mode off|public``) and divide the difference of
the instruction counts by the difference of requests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import tempfile
import time
from typing import Any

import asyncpg

from bench.fixtures import SANDBOX, constraints_a
from bench.scenarios import ADOBE
from core.store import open_store
from core.tokens import TokenService
from gateway import logging as gateway_logging
from gateway.app import create_app
from gateway.settings import Settings

PG = "postgresql://postgres@127.0.0.1:5432"
MODES = ("off", "public")


def lists(token: str) -> dict[str, tuple[str, dict[str, str]]]:
    """The list scenarios of ``bench.run --compare-metrics``: path and headers."""
    bearer = {"authorization": f"Bearer {token}"}
    return {
        "adobe list": (
            ADOBE,
            {
                **bearer,
                "x-api-key": "bench",
                "x-gw-ims-org-id": "default@AdobeOrg",
                "x-sandbox-name": SANDBOX,
                "accept": "application/json",
            },
        ),
        "confidence list": ("/v1/segments", bearer),
        "hal list": (f"/{SANDBOX}/individual-segments", bearer),
        "segmux list": ("/segmux/v1/segments", bearer),
        "unleash list": ("/api/admin/segments", {"authorization": token}),
        "v23 list": ("/v2.3/data/segments", {**bearer, "accept": "application/json"}),
    }


async def call(
    app: Any, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> list[dict[str, Any]]:
    """One request through the ASGI app, as uvicorn sends it; the messages it sent."""
    sent: list[dict[str, Any]] = []
    done = asyncio.Event()
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop()
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    raw = [(b"host", b"127.0.0.1:8000")]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if body:
        raw.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "headers": raw,
        "state": {},
    }
    await app(scope, receive, send)
    return sent


async def fixture_a(app: Any, token: str) -> None:
    headers = {"authorization": token, "content-type": "application/json"}
    for i in range(50):
        body = {"name": f"segment-{i:02d}", "description": f"fixture A {i}"}
        body["constraints"] = constraints_a(i)  # type: ignore[assignment]
        sent = await call(app, "POST", "/api/admin/segments", headers, json.dumps(body).encode())
        assert sent[0]["status"] in (200, 201), sent


async def main(args: argparse.Namespace) -> None:
    gateway_logging.configure("warning")
    name = f"segmux_metrics_cpu_{secrets.token_hex(4)}"
    if args.backend == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp(prefix='segmux-metrics-cpu-')}/segmux.db"
    else:
        conn = await asyncpg.connect(f"{PG}/postgres")
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        url = f"{PG}/{name}"
    store = await open_store(url)
    try:
        token, _ = await TokenService(store).create(tenant="default", scope="admin", name="b")
        modes = [args.only_mode] if args.only_mode else list(MODES)
        apps = {m: create_app(Settings(database_url=url, metrics=m), store=store) for m in modes}
        await fixture_a(apps[modes[0]], token)
        scenarios = lists(token)
        if args.only:
            scenarios = {k: v for k, v in scenarios.items() if args.only in k}
        for app in apps.values():
            for path, headers in scenarios.values():
                for _ in range(50):  # keep the answer, fill the caches
                    sent = await call(app, "GET", path, headers)
                assert sent[0]["status"] == 200, sent
        cpu: dict[tuple[str, str], list[float]] = {}
        for n in range(args.rounds):
            for sc, (path, headers) in scenarios.items():
                # off first in even rounds, on first in odd ones: whatever the order itself
                # does (a cache warmed, the other load's rhythm) falls on both alike
                for mode in modes if n % 2 == 0 else modes[::-1]:
                    app = apps[mode]
                    started = time.process_time()
                    for _ in range(args.requests):
                        await call(app, "GET", path, headers)
                    spent = (time.process_time() - started) / args.requests * 1e6
                    cpu.setdefault((sc, mode), []).append(spent)
        print("| scenario | " + " | ".join(f"{m} µs/req" for m in modes) + " | on - off |")
        for sc in scenarios:
            med = {m: statistics.median(cpu[(sc, m)]) for m in modes}
            diff = med["public"] - med["off"] if len(modes) == 2 else 0.0
            shown = " | ".join(f"{med[m]:.2f}" for m in modes)
            print(f"| {sc} | {shown} | {diff:+.2f} ({diff / med[modes[0]]:+.1%}) |")
    finally:
        await store.close()
        if args.backend != "sqlite":
            conn = await asyncpg.connect(f"{PG}/postgres")
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await conn.close()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--backend", default="postgres", choices=["postgres", "sqlite"])
    p.add_argument("--requests", type=int, default=2000, help="per round, scenario and mode")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--only", help="only the scenarios whose name contains this")
    p.add_argument("--only-mode", choices=MODES, help="one app only (for callgrind)")
    asyncio.run(main(p.parse_args()))
