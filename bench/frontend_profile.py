"""How much of a frontend request is segmux's own code: ``GET /api/frontend`` for a tenant of
100 features over 1,000 segments, under wrk, sampled by py-spy.

    python -m bench.frontend_profile [--seconds 10] [--connections 10]

A fresh PostgreSQL database (``SEGMUX_BENCH_DATABASE_URL``'s server), the features and
segments of ``bench.engine`` written through the Unleash admin API of a ``segmux serve`` (one
worker, log level ``warning``), a frontend token, then wrk asking for another user on every
request (``userId=u-N``: users a few segments list, none every constraint holds for) while
``py-spy record`` samples the process.

The method, per sample: walk the stack from its innermost frame outwards to the first frame
of a file in ``core/``, ``dialects/`` or ``gateway/`` (segmux's own code) or of starlette,
uvicorn, asyncio or httptools (the server's floor); the sample is counted for that side
(library frames called by segmux — msgspec, the standard library — are segmux's, those called
by the server are the server's). A sample with neither (the interpreter idle in the event
loop's ``select``) is idle. µs per request = the CPU time of the process over the run divided
by the requests, times the side's share of the busy samples.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from typing import Any

import asyncpg
import httpx

from bench import procs, stores, wrk
from bench.engine import unleash_features
from bench.profile import py_spy, shares, spy_record
from bench.run import OUT
from bench.wrk import PLACEHOLDER, Request
from core.store import open_store
from core.tokens import TokenService


async def prepare(url: str, admin: str) -> str:
    """Migrate the store and make the tokens; returns the frontend token."""
    store = await open_store(url)
    try:
        svc = TokenService(store)
        await svc.ensure(tenant="default", scope="admin", name="SEGMUX_ADMIN_TOKEN", token=admin)
        token, _ = await svc.create(tenant="default", scope="frontend:development", name="web")
        return token
    finally:
        await store.close()


async def load(base: str, admin: str) -> None:
    """bench.engine's features and segments through the Unleash admin API."""
    features, segments = unleash_features()
    headers = {"Authorization": admin, "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:

        async def post(path: str, body: Any) -> Any:
            r = await client.post(path, json=body)
            if r.status_code not in (200, 201, 204):
                raise RuntimeError(f"POST {path}: {r.status_code} {r.text[:500]}")
            return r.json() if r.content else None

        ids: dict[int, int] = {}
        for n, constraints in segments.items():
            made = await post(
                "/api/admin/segments", {"name": f"segment-{n:04d}", "constraints": constraints}
            )
            ids[n] = int(made["id"])
        project = "/api/admin/projects/default/features"
        for feature in features:
            name = feature["name"]
            await post(project, {"name": name})
            env = f"{project}/{name}/environments/development"
            for strategy in feature["strategies"]:
                await post(
                    f"{env}/strategies",
                    {
                        "name": strategy["name"],
                        "constraints": [],
                        "parameters": strategy["parameters"],
                        "segments": [ids[s] for s in strategy["segments"]],
                    },
                )
            await post(f"{env}/on", None)


async def _database(name: str, create: bool) -> None:
    conn = await asyncpg.connect(stores.pg_server())
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if create:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.frontend_profile", description=__doc__)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--connections", type=int, default=10)
    p.add_argument(
        "--all-on",
        action="store_true",
        help="ask for u-17 in SE, whom every feature is on for (another session each request), "
        "instead of users a few segments list",
    )
    args = p.parse_args()
    spy = py_spy()
    out = OUT / "profile"
    out.mkdir(parents=True, exist_ok=True)
    name = f"segmux_bench_frontend_{secrets.token_hex(4)}"
    asyncio.run(_database(name, create=True))
    url = stores.pg_url(name)
    admin = secrets.token_urlsafe(24)
    try:
        frontend = asyncio.run(prepare(url, admin))
        with procs.segmux_server(
            url, admin, workers=1, log_level="warning", log=out / "frontend-segmux.log"
        ) as srv:
            started = time.perf_counter()
            asyncio.run(load(srv.url, admin))
            print(f"fixture: {time.perf_counter() - started:.1f} s", file=sys.stderr)
            who = (
                f"userId=u-17&sessionId=s-{PLACEHOLDER}"
                if args.all_on
                else f"userId=u-{PLACEHOLDER}"
            )
            req = Request(
                "GET", f"/api/frontend?appName=bench&country=SE&{who}", {"Authorization": frontend}
            )
            check = httpx.get(
                srv.url + "/api/frontend?userId=u-17&country=SE",
                headers={"Authorization": frontend},
            )
            assert check.status_code == 200 and len(check.json()["toggles"]) == 100, check.text
            slug = "unleash-frontend-100x1000" + ("-all-on" if args.all_on else "")
            raw = out / f"{slug}.txt"
            record = spy_record(spy, srv.pid, args.seconds, raw)
            time.sleep(1)  # py-spy attaches before the load starts
            cpu_before = procs.cpu_seconds(srv.pid)
            res = wrk.run(
                srv.url,
                req,
                connections=args.connections,
                seconds=args.seconds,
                script_dir=out / "lua",
                name=slug,
            )
            cpu = procs.cpu_seconds(srv.pid) - cpu_before
            _, err = record.communicate(timeout=args.seconds + 60)
            if record.returncode != 0:
                raise SystemExit(f"py-spy failed: {err.decode()[-500:]}")
    finally:
        asyncio.run(_database(name, create=False))
    counts = shares(raw)
    busy = counts["segmux"] + counts["floor"]
    per_request = cpu * 1e6 / res.requests if res.requests else 0.0
    print(
        f"GET /api/frontend, 100 features x 1,000 segments, {args.connections} connections"
        f"{', every feature on' if args.all_on else ''}: "
        f"{res.rps:,.0f} req/s, p50 {res.p50_ms:.2f} ms, p99 {res.p99_ms:.2f} ms (under py-spy)"
    )
    print(f"CPU per request: {per_request:,.0f} µs")
    for kind in ("segmux", "floor"):
        share = counts[kind] / busy if busy else 0.0
        print(f"  {kind:7s} {share:6.1%} of busy samples, {share * per_request:,.0f} µs/request")
    print(f"  ({counts['idle']} idle samples of {sum(counts.values())}; stacks: {raw})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
