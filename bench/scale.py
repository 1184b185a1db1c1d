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
COUNT_OUTSIDE = "SELECT count(*) AS total_count"
"""How the store's count outside a request begins (``core.store.profile_pages``)."""


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


async def explain(url: str, sql: str, args: tuple[Any, ...], *, analyze: bool = True) -> str:
    """The statement's plan; ``analyze`` runs it (a statement the store's timeout cut off is
    only planned: running it would take as long again, for a plan the shape already tells)."""
    # the store's own session settings (core.store.postgres.backend): JIT off, else the plan
    # would show a compile the pages never pay; a count outside a request has its work_mem
    settings = {"jit": "off"}
    if sql.startswith(COUNT_OUTSIDE):
        settings["work_mem"] = pg_backend._COUNT_WORK_MEM
    conn = await asyncpg.connect(url, server_settings=settings)
    try:
        how = "(ANALYZE, BUFFERS)" if analyze else ""
        rows = await conn.fetch(f"EXPLAIN {how} {sql}", *args)
        lines = [str(r[0]) for r in rows]
        return "\n".join(ln if len(ln) <= PLAN_LINE else ln[:PLAN_LINE] + " …" for ln in lines)
    finally:
        await conn.close()


class Recorder:
    """The statements the store sends, with their arguments, to EXPLAIN the very statement a
    page sent. It wraps the store's own methods while installed (``with``); mypy forbids
    assigning to a method, which is the point here."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, tuple[Any, ...]]] = []
        self._saved = (pg_backend._Tx.fetch, pg_backend._Tx.fetchrow)

    def on_profiles(self) -> tuple[str, tuple[Any, ...]] | None:
        """The last statement over the profiles (the page's), if any."""
        found = [(s, a) for s, a in self.seen if "profiles p" in s]
        return found[-1] if found else None

    def counted(self) -> tuple[str, tuple[Any, ...]] | None:
        """The last count made outside a request (``core.store.profile_totals``), if any."""
        found = [(s, a) for s, a in self.seen if s.startswith(COUNT_OUTSIDE)]
        return found[-1] if found else None

    def __enter__(self) -> Recorder:
        fetch, fetchrow = self._saved
        seen = self.seen

        async def recording_fetch(tx: Any, sql: str, *args: Any) -> Any:
            seen.append((sql, args))
            return await fetch(tx, sql, *args)

        async def recording_fetchrow(tx: Any, sql: str, *args: Any) -> Any:
            seen.append((sql, args))
            return await fetchrow(tx, sql, *args)

        pg_backend._Tx.fetch = recording_fetch  # type: ignore[method-assign,assignment]
        pg_backend._Tx.fetchrow = recording_fetchrow  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        fetch, fetchrow = self._saved
        pg_backend._Tx.fetch = fetch  # type: ignore[method-assign]
        pg_backend._Tx.fetchrow = fetchrow  # type: ignore[method-assign]


async def timed(
    client: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> tuple[float, httpx.Response]:
    t = time.perf_counter()
    r = await client.get(path, headers=headers)
    return (time.perf_counter() - t) * 1000, r


RETRY_FOR_S = 900
"""How long a page answered 503 (its total counted outside the request) is asked again, as a
client honouring Retry-After would."""


async def answered(
    client: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> tuple[float, httpx.Response, int]:
    """The first answer that is not 503, the time until it (the waits included) and the 503s
    before it."""
    t = time.perf_counter()
    retries = 0
    while True:
        r = await client.get(path, headers=headers)
        if r.status_code != 503 or time.perf_counter() - t > RETRY_FOR_S:
            return (time.perf_counter() - t) * 1000, r, retries
        retries += 1
        await asyncio.sleep(float(r.headers.get("Retry-After", "1")))


async def segment_row(
    client: httpx.AsyncClient,
    rec: Recorder,
    url: str,
    members: str,
    headers: dict[str, str],
    requests: int,
    cold_requests: int,
) -> dict[str, Any]:
    """One segment's figures and plans. The first page counts the total, in its statement or,
    past the statement timeout, outside the request (the page answered 503 meanwhile, asked
    again after Retry-After: the first page's time includes those waits); when that count is
    refused too, the segment has no warm page at all, so it is reported as refused with the
    planned (not run) statement."""
    rec.seen.clear()
    first_ms, first, retries = await answered(client, members, headers)
    row: dict[str, Any] = {
        "first_ms": round(first_ms, 1),
        "first_status": first.status_code,
        "first_503s": retries,
    }
    if first.status_code != 200:
        stmt = rec.counted() or rec.on_profiles()
        row["refused"] = first.text[:300]
        row["warm_plan"] = (
            "not run (refused): the plan only\n" + await explain(url, *stmt, analyze=False)
            if stmt
            else "-"
        )
        return row
    warm: list[float] = []
    statuses = {first.status_code}
    for _ in range(requests):
        rec.seen.clear()
        ms, page = await timed(client, members, headers)
        warm.append(ms)
        statuses.add(page.status_code)
    stmt = rec.on_profiles()
    row["warm_plan"] = await explain(url, *stmt) if stmt else "-"
    row["members"] = page.json()["page"]["totalElements"] if page.is_success else None
    row["warm_p50_ms"] = round(statistics.median(warm), 2)
    row["warm_p99_ms"] = round(percentile(warm, 0.99), 2)
    cold: list[float] = []
    cold_503s = 0
    for _ in range(cold_requests):
        await bump_revision(url)
        rec.seen.clear()
        ms, again, retries = await answered(client, members, headers)
        cold.append(ms)
        cold_503s += retries
        statuses.add(again.status_code)
    row["cold_p50_ms"] = round(statistics.median(cold), 1) if cold else None
    row["cold_503s"] = cold_503s
    # a cold page's cost is its count: the one made outside the request when there was one
    stmt = rec.counted() or rec.on_profiles()
    if stmt:
        # the revision moves on again so that the plan is a cold page's too
        await bump_revision(url)
        cold_ok = 200 in statuses and len(statuses) == 1
        row["cold_plan"] = await explain(url, *stmt, analyze=cold_ok)
    row["statuses"] = sorted(statuses)
    return row


async def measure(
    url: str, token: str, settings: Settings, requests: int, cold_requests: int
) -> list[dict[str, Any]]:
    """Each segment of ``bench.hal_members`` through the HAL API, the store opened with
    ``segmux serve``'s limits (its statement timeout)."""
    store = await open_store(url, settings.store_limits())
    app = create_app(settings, store=store)
    headers = {"Authorization": f"Bearer {token}"}
    out: list[dict[str, Any]] = []
    try:
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=600) as client,
        ):
            root = (await client.get("/", headers=headers)).json()
            segments_url = (
                root["_links"]["individual-segments"]["href"]
                .replace("{projectId}", PROJECT)
                .replace("{?filter}", "")
            )
            with Recorder() as rec:
                for label, odata in SEGMENTS.items():
                    r = await client.post(
                        segments_url,
                        headers=headers,
                        json={"name": label, "segmentType": "DYNAMIC", "filter": odata},
                    )
                    if r.status_code not in (200, 201):
                        raise RuntimeError(f"{label}: create answered {r.status_code} {r.text}")
                    members = r.json()["_links"]["individuals"]["href"].replace("{?filter}", "")
                    row = {"segment": label, "filter": odata, "selective": label in SELECTIVE}
                    row |= await segment_row(
                        client, rec, url, members, headers, requests, cold_requests
                    )
                    out.append(row)
                    log(
                        f"{label:30} members {row.get('members')!s:>10}  first "
                        f"{row['first_ms']:9.1f} ms ({row['first_status']})  warm p50 "
                        f"{row.get('warm_p50_ms')} ms  p99 {row.get('warm_p99_ms')}  cold p50 "
                        f"{row.get('cold_p50_ms')} ms  statuses {row.get('statuses')}"
                    )
    finally:
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
        url = pg_url(name)
        settings = Settings(database_url=url)
        if args.statement_timeout_ms is not None:
            settings = msgspec.structs.replace(
                settings, statement_timeout_ms=args.statement_timeout_ms
            )
        rows = await measure(url, token, settings, args.requests, args.cold_requests)
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
        "statement_timeout_ms": settings.statement_timeout_ms,
        "count_timeout_ms": settings.count_timeout_ms,
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


def _waited(ms: float, retries: int | None) -> str:
    return f"{ms:,.1f}" + (f" ({retries}× 503)" if retries else "")  # noqa: RUF001


def _row(r: dict[str, Any]) -> str:
    refused = r.get("refused") is not None
    if r["selective"]:
        met = "no" if refused else "yes" if r["warm_p50_ms"] <= TARGET_MS else "no"
    else:
        met = "-"
    members = f"{r['members']:,}" if isinstance(r.get("members"), int) else "-"
    if refused:
        figures = f"refused ({r['first_status']}) | - | -"
    else:
        cold = r.get("cold_p50_ms")
        figures = f"{r['warm_p50_ms']:.2f} | {r['warm_p99_ms']:.2f} | " + (
            "-" if cold is None else _waited(cold, r.get("cold_503s"))
        )
    return (
        f"| {r['segment']} | {'yes' if r['selective'] else 'no'} | {members} "
        f"| {_waited(r['first_ms'], r.get('first_503s'))} | {figures} | {met} |"
    )


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
        "counted again); the store's statement timeout "
        f"{doc['statement_timeout_ms']:,} ms and count timeout "
        f"{doc.get('count_timeout_ms', 0):,} ms (`segmux serve`'s). A first or cold page whose "
        "count does not fit in the statement timeout is answered 503 + Retry-After while the "
        "count goes on outside the request, and asked again as a client would: its time is "
        "until the answer, the 503s before it in brackets (cold: over all its requests). Target: "
        "warm p50 ≤ 20 ms for the selective filters.",
        "",
        "| segment | selective | members | first page ms | warm p50 ms | warm p99 ms "
        "| cold p50 ms | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["rows"]:
        lines.append(_row(r))
    for r in doc["rows"]:
        if r.get("refused"):
            lines.append(
                f"\n`{r['segment']}`: the first page answered {r['first_status']}: {r['refused']}"
            )
        elif r.get("statuses") != [200]:
            lines.append(f"\n`{r['segment']}`: statuses {r.get('statuses')} (not all 200)")
    lines += [
        "",
        "Plans of the page's statement, `EXPLAIN (ANALYZE, BUFFERS)` with the arguments the "
        "last request sent (JIT off, as the store's sessions): warm (the total kept) and cold "
        "(the revision moved on first, so the total is counted again: the page's statement "
        "with its count, or the count made outside the request).",
    ]
    for r in doc["rows"]:
        lines += ["", f"`{r['segment']}` — `{r['filter']}`"]
        for kind in ("warm", "cold"):
            if f"{kind}_plan" in r:
                lines += ["", f"{kind}:", "", "```", r[f"{kind}_plan"], "```"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    configure("warning")  # an access line per request would drown the figures
    p = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    p.add_argument("--individuals", type=int, default=10_000_000)
    p.add_argument("--requests", type=int, default=50)
    p.add_argument("--cold-requests", type=int, default=3)
    p.add_argument(
        "--statement-timeout-ms",
        type=int,
        help="the store's statement timeout (default: segmux serve's, SEGMUX_STATEMENT_TIMEOUT_MS)",
    )
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
