"""``make bench-scale``: HAL members over millions of individuals on PostgreSQL, with the plans.

    python -m bench.scale [--individuals N] [--requests R] [--cold-requests C] [--no-cache]
                          [--write-results]

The first page (20) of each DYNAMIC segment of ``bench.hal_members`` (the same filters and the
same individuals, scaled to ``N``, default 10,000,000), through the HAL API in process (the ASGI
app over httpx, as ``bench.hal_members`` does: auth, the segment lookup and the page query),
``R`` warm requests each (the sandbox unchanged since the last page, so the total counted then
is reused) and ``C`` cold ones (the sandbox's revision moved on first, as a write to any
individual does, so the total is counted again). For each segment the page's statement is then
run again under ``EXPLAIN (ANALYZE, BUFFERS)`` with the same arguments, and the plan goes to the
report. The target (README, Performance): first page p50 ≤ 20 ms, warm, for the selective
filters (:data:`SELECTIVE`).

The individuals are generated in Python and streamed to ``COPY`` in batches, into the store's
own table with its secondary indexes dropped (and built again afterwards, as a restore does:
one sort per index instead of 10⁷ insertions into a GIN index). The loaded database is kept as
a template, ``segmux_scale_tpl_<N>_<key>`` (``<key>`` hashes the store's migrations and this
generator), so a re-run only copies it (``CREATE DATABASE … STRATEGY FILE_COPY``); its token's
secret is kept in ``bench/out/cache/``. ``--no-cache`` builds it again. Each run measures on a
copy, dropped afterwards. PostgreSQL is ``SEGMUX_BENCH_DATABASE_URL`` or
``SEGMUX_TEST_DATABASE_URL``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import random
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec

from bench import report
from bench.hal_members import PROJECT, SEGMENTS, TENANT, bump_revision, individual, percentile
from bench.stores import CACHE, ROOT, pg_server, pg_url
from core.model import now_us
from core.store import open_store
from core.store.postgres import backend as pg_backend
from core.tokens import TokenService
from gateway.app import create_app
from gateway.logging import configure
from gateway.settings import Settings

OUT = Path(__file__).resolve().parent / "out"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
TEMPLATE_PREFIX = "segmux_scale_tpl_"
BATCH = 50_000
TARGET_MS = 20.0
SELECTIVE = ("age 30 (2%)", "Madrid and 30-39 (~2.5%)", "rare: one in 10,000")
"""The filters the ≤ 20 ms target is for: a few percent of the individuals or fewer. The broad
ones (a quarter of everyone) are measured and reported beside them."""
COLUMNS = ["tenant", "sandbox", "identifier", "attributes", "created_at", "updated_at", "version"]
START, END = "<!-- bench:scale:start -->", "<!-- bench:scale:end -->"


def log(msg: str) -> None:
    print(f"[scale {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


FIXTURE_VERSION = 1
"""Moved on when :func:`batches` or :func:`load` change what the template holds (this module
itself is not hashed: an edit to the report must not regenerate 10⁷ individuals)."""
PLAN_LINE = 400
"""Plan lines longer than this are cut (the store's numeric conversion spells out the double's
limits in hundreds of digits; the cut part says nothing about the plan's shape)."""


def template_key(n: int) -> str:
    h = hashlib.sha256(f"{n}/{FIXTURE_VERSION}".encode())
    files = sorted((ROOT / "core" / "store").rglob("*.sql"))
    for path in [*files, ROOT / "bench" / "hal_members.py"]:
        h.update(path.read_bytes())
    return h.hexdigest()[:10]


def batches(n: int) -> Iterator[list[tuple[Any, ...]]]:
    """The individuals of ``bench.hal_members`` (same generator, same seed), ``BATCH`` at a
    time, so 10⁷ never sit in memory at once."""
    rng = random.Random(7)
    enc = msgspec.json.Encoder()
    now = now_us()
    for start in range(0, n, BATCH):
        yield [
            (
                TENANT,
                PROJECT,
                f"ind-{i:08d}",
                enc.encode(individual(i, rng)).decode(),
                now + i,
                now + i,
                1,
            )
            for i in range(start, min(n, start + BATCH))
        ]


async def load(url: str, n: int) -> dict[str, float]:
    """COPY ``n`` individuals into ``url``'s profiles, the secondary indexes built after."""
    timings: dict[str, float] = {}
    conn = await asyncpg.connect(url)
    try:
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'profiles' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        )
        for row in indexes:
            await conn.execute(f'DROP INDEX "{row["indexname"]}"')
        t = time.perf_counter()
        done = 0
        for rows in batches(n):
            await conn.copy_records_to_table("profiles", records=rows, columns=COLUMNS)
            done += len(rows)
            if done % 1_000_000 == 0:
                log(f"{done:,} individuals copied ({time.perf_counter() - t:.0f} s)")
        timings["copy"] = time.perf_counter() - t
        t = time.perf_counter()
        await conn.execute("SET maintenance_work_mem = '256MB'")
        for row in indexes:
            await conn.execute(row["indexdef"])
        timings["indexes"] = time.perf_counter() - t
        t = time.perf_counter()
        await conn.execute("VACUUM ANALYZE profiles")
        timings["vacuum analyze"] = time.perf_counter() - t
    finally:
        await conn.close()
    return timings


async def template(n: int, *, rebuild: bool) -> tuple[str, str, dict[str, float] | None]:
    """The template's name and token secret, building it when missing (None: it was there)."""
    key = template_key(n)
    name = f"{TEMPLATE_PREFIX}{n}_{key}"
    meta = CACHE / f"scale-{n}-{key}.json"
    admin = await asyncpg.connect(pg_server())
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and meta.exists() and not rebuild:
            return name, str(json.loads(meta.read_text())["token"]), None
        # older templates of this size (another key) and a half-built one go
        for row in await admin.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname = $2",
            f"{TEMPLATE_PREFIX}{n}\\_%",
            f"building_scale_{n}",
        ):
            await admin.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
        building = f"building_scale_{n}"
        await admin.execute(f'CREATE DATABASE "{building}"')
        url = pg_url(building)
        t = time.perf_counter()
        store = await open_store(url)  # the store's migrations
        try:
            token, _ = await TokenService(store).create(tenant=TENANT, scope="admin", name="scale")
        finally:
            await store.close()
        timings = await load(url, n)
        await admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
        timings["total"] = time.perf_counter() - t
        CACHE.mkdir(parents=True, exist_ok=True)
        for old in CACHE.glob(f"scale-{n}-*.json"):
            old.unlink()
        meta.write_text(json.dumps({"token": token}))
        return name, token, timings
    finally:
        await admin.close()


async def explain(url: str, sql: str, args: tuple[Any, ...]) -> str:
    # the store's own session settings (core.store.postgres.backend): JIT off, else the plan
    # would show a compile the pages never pay
    conn = await asyncpg.connect(url, server_settings={"jit": "off"})
    try:
        rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)
        lines = [str(r[0]) for r in rows]
        return "\n".join(ln if len(ln) <= PLAN_LINE else ln[:PLAN_LINE] + " …" for ln in lines)
    finally:
        await conn.close()


async def measure(url: str, token: str, requests: int, cold_requests: int) -> list[dict[str, Any]]:
    store = await open_store(url)
    app = create_app(Settings(database_url=url), store=store)
    headers = {"Authorization": f"Bearer {token}"}
    seen: list[tuple[str, tuple[Any, ...]]] = []
    fetch, fetchrow = pg_backend._Tx.fetch, pg_backend._Tx.fetchrow

    async def recording_fetch(self: Any, sql: str, *args: Any) -> Any:
        seen.append((sql, args))
        return await fetch(self, sql, *args)

    async def recording_fetchrow(self: Any, sql: str, *args: Any) -> Any:
        seen.append((sql, args))
        return await fetchrow(self, sql, *args)

    # Recording wraps the store's own methods for this run (restored below), to EXPLAIN the
    # very statement a page sent; mypy forbids assigning to a method, which is the point here.
    pg_backend._Tx.fetch = recording_fetch  # type: ignore[method-assign]
    pg_backend._Tx.fetchrow = recording_fetchrow  # type: ignore[method-assign]
    out: list[dict[str, Any]] = []
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", timeout=600
        ) as client:
            root = (await client.get("/", headers=headers)).json()
            segments_url = (
                root["_links"]["individual-segments"]["href"]
                .replace("{projectId}", PROJECT)
                .replace("{?filter}", "")
            )
            for label, odata in SEGMENTS.items():
                r = await client.post(
                    segments_url,
                    headers=headers,
                    json={"name": label, "segmentType": "DYNAMIC", "filter": odata},
                )
                if r.status_code not in (200, 201):
                    raise RuntimeError(f"{label}: create answered {r.status_code} {r.text[:300]}")
                members = r.json()["_links"]["individuals"]["href"].replace("{?filter}", "")
                t = time.perf_counter()
                first = await client.get(members, headers=headers)  # counts the total once
                first_ms = (time.perf_counter() - t) * 1000
                warm: list[float] = []
                statuses: set[int] = {first.status_code}
                for _ in range(requests):
                    seen.clear()
                    t = time.perf_counter()
                    page = await client.get(members, headers=headers)
                    warm.append((time.perf_counter() - t) * 1000)
                    statuses.add(page.status_code)
                on_profiles = [(s, a) for s, a in seen if "profiles p" in s]
                warm_plan = await explain(url, *on_profiles[-1]) if on_profiles else "-"
                total = (
                    page.json().get("page", {}).get("totalElements") if page.is_success else None
                )
                cold: list[float] = []
                cold_plan = "-"
                for _ in range(cold_requests):
                    await bump_revision(url)
                    seen.clear()
                    t = time.perf_counter()
                    again = await client.get(members, headers=headers)
                    cold.append((time.perf_counter() - t) * 1000)
                    statuses.add(again.status_code)
                cold_statements = [(s, a) for s, a in seen if "profiles p" in s]
                if cold_statements:
                    # the revision moves on again so that the plan is a cold page's too
                    await bump_revision(url)
                    cold_plan = await explain(url, *cold_statements[-1])
                row = {
                    "segment": label,
                    "filter": odata,
                    "selective": label in SELECTIVE,
                    "members": total,
                    "first_ms": round(first_ms, 1),
                    "warm_p50_ms": round(statistics.median(warm), 2),
                    "warm_p99_ms": round(percentile(warm, 0.99), 2),
                    "cold_p50_ms": round(statistics.median(cold), 1) if cold else None,
                    "statements": len(on_profiles),
                    "statuses": sorted(statuses),
                    "warm_plan": warm_plan,
                    "cold_plan": cold_plan,
                }
                out.append(row)
                log(
                    f"{label:30} members {total!s:>10}  warm p50 {row['warm_p50_ms']:8.2f} ms  "
                    f"p99 {row['warm_p99_ms']:8.2f}  cold p50 {row['cold_p50_ms']} ms  "
                    f"statuses {row['statuses']}"
                )
    finally:
        pg_backend._Tx.fetch = fetch  # type: ignore[method-assign]
        pg_backend._Tx.fetchrow = fetchrow  # type: ignore[method-assign]
        await store.close()
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    n = args.individuals
    t = time.perf_counter()
    tpl, token, built = await template(n, rebuild=args.no_cache)
    log(f"template {tpl} " + (f"built: {built}" if built else "reused"))
    name = f"segmux_scale_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg_server())
    try:
        c = time.perf_counter()
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{tpl}" STRATEGY FILE_COPY')
        copied = time.perf_counter() - c
        log(f"copied to {name} in {copied:.1f} s")
        rows = await measure(pg_url(name), token, args.requests, args.cold_requests)
        size = await admin.fetchval("SELECT pg_database_size($1)", name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    pg_version = await admin_version()
    return {
        "kind": "scale",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m bench.scale " + " ".join(sys.argv[1:]),
        "individuals": n,
        "requests": args.requests,
        "cold_requests": args.cold_requests,
        "template": tpl,
        "template_built_s": built,
        "copy_s": round(copied, 1),
        "database_mb": round(size / 2**20),
        "wall_s": round(time.perf_counter() - t),
        "machine": report.machine(),
        "versions": report.versions(pg_version, None),
        "rows": rows,
    }


async def admin_version() -> str:
    conn = await asyncpg.connect(pg_server())
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def markdown(doc: dict[str, Any]) -> str:
    n = doc["individuals"]
    built = doc["template_built_s"]
    how = (
        "built now: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in built.items())
        + " (then kept as a template)"
        if built
        else "copied from the kept template"
    )
    lines = [
        f"## HAL members over {n:,} individuals (`make bench-scale`) — {doc['date']}",
        "",
        f"Machine: {doc['machine'].get('cpu', '?')}, {doc['machine'].get('cores', '?')} cores; "
        f"PostgreSQL {doc['versions'].get('postgresql', '?')}; commit "
        f"{doc['versions'].get('commit', '?')}. Command: `{doc['command']}`. Fixture: {how}; "
        f"the run's copy {doc['copy_s']} s, {doc['database_mb']:,} MB. First page (20) through "
        f"the HAL API in process; warm: {doc['requests']} requests, the total reused; cold: "
        f"{doc['cold_requests']} requests, each after the sandbox's revision moved on (the total "
        "counted again). Target: warm p50 ≤ 20 ms for the selective filters.",
        "",
        "| segment | selective | members | warm p50 ms | warm p99 ms | cold p50 ms | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in doc["rows"]:
        met = ("yes" if r["warm_p50_ms"] <= TARGET_MS else "no") if r["selective"] else "-"
        members = f"{r['members']:,}" if isinstance(r["members"], int) else "error"
        lines.append(
            f"| {r['segment']} | {'yes' if r['selective'] else 'no'} | {members} "
            f"| {r['warm_p50_ms']:.2f} | {r['warm_p99_ms']:.2f} | {r['cold_p50_ms']} | {met} |"
        )
    bad = [r for r in doc["rows"] if r["statuses"] != [200]]
    for r in bad:
        lines.append(f"\n{r['segment']}: statuses {r['statuses']} (not every page answered 200)")
    lines += [
        "",
        "Plans of the page's statement, `EXPLAIN (ANALYZE, BUFFERS)` with the arguments the "
        "last request sent: warm (the total kept) and cold (the revision moved on first).",
    ]
    for r in doc["rows"]:
        lines += ["", f"`{r['segment']}` — `{r['filter']}`"]
        for kind in ("warm", "cold"):
            lines += ["", f"{kind}:", "", "```", r[f"{kind}_plan"], "```"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    configure("warning")  # an access line per request would drown the figures
    p = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    p.add_argument("--individuals", type=int, default=10_000_000)
    p.add_argument("--requests", type=int, default=50)
    p.add_argument("--cold-requests", type=int, default=3)
    p.add_argument("--no-cache", action="store_true", help="build the template again")
    p.add_argument("--write-results", action="store_true", help="replace its RESULTS.md section")
    args = p.parse_args(argv)
    doc = asyncio.run(run(args))
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    (OUT / f"scale-{stamp}.json").write_text(json.dumps(doc, indent=1))
    block = markdown(doc)
    print(block)
    if args.write_results:
        report.write_results(RESULTS, block, START, END)
        log(f"wrote its section of {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
