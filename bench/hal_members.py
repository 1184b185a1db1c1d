"""HAL: the first page of a DYNAMIC segment's members with 100,000 individuals in PostgreSQL.

Run: ``python -m bench.hal_members`` from the repository root, with
``SEGMUX_TEST_DATABASE_URL`` (or ``SEGMUX_BENCH_DATABASE_URL``) naming a PostgreSQL server on
which a scratch database may be created (it is dropped afterwards). Options:
``--individuals N`` (default 100,000), ``--requests N`` (default 200).

Individuals are loaded with ``COPY`` (seconds, not minutes); segments are created and their
members read through the HAL API in process (the ASGI app over httpx, as the tests do), so a
figure is the whole request: auth, the segment lookup and the page query. Each request's
statements are counted, so the output also shows that the first page is one query.

Two figures per segment. *warm*: the sandbox's individuals did not change since the last page,
so the page's statement reuses the total it counted then (``core.store.profile_totals``) and
reads only the page. *cold* (``--cold-requests``, default 10): before each request the
sandbox's revision is moved on (as any write to an individual does), so every request counts
all the segment's members again — the cost of the first page after a write.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import httpx
import msgspec

from core.model import now_us
from core.store import open_store
from core.store.postgres import backend as pg_backend
from core.tokens import TokenService
from gateway.app import create_app
from gateway.logging import configure
from gateway.settings import Settings

TENANT, PROJECT = "bench", "bench"
CITIES = ["Madrid", "Malaga", "Sevilla", "Bilbao", "Valencia", "Lisboa", "Porto", "Paris"]
SEGMENTS = {
    "age 30 (2%)": "demographics/age/value eq '30'",
    "over 65 (~23%)": "demographics/age/value gt 65",
    "city starts with 'Ma' (25%)": "startswith(demographics/city/value,'Ma')",
    "Madrid and 30-39 (~2.5%)": "demographics/city/value eq 'Madrid' and "
    "demographics/age/value ge 30 and demographics/age/value lt 40",
    "engineers or over 65 (~20%)": "contains(demographics/jobTitle/value,'Engineer') or "
    "demographics/age/value gt 65",
    "rare: one in 10,000": "demographics/email/value eq 'person-4242@example.com'",
    # A day compared as a date (the values are ISO days, 1940-2006), and a list attribute
    # tested element by element.
    "born 1990 or later (~25%)": "demographics/birthDate/value ge 1990-01-01",
    "interests: golf (array, ~25%)": "interests/any(x: x eq 'golf')",
}
INTERESTS = ["golf", "chess", "cinema", "running", "cooking", "travel"]


def individual(i: int, rng: random.Random) -> dict[str, Any]:
    field = {"context": "demographics", "dataSourceIdentifier": "bench"}
    return {
        "demographics": {
            "age": [{**field, "name": "age", "value": str(rng.randint(18, 80))}],
            "city": [{**field, "name": "city", "value": rng.choice(CITIES)}],
            "email": [{**field, "name": "email", "value": f"person-{i}@example.com"}],
            "jobTitle": [
                {
                    **field,
                    "name": "jobTitle",
                    "value": rng.choice(["Engineer", "Designer", "Manager", "Sales"]),
                }
            ],
            "birthDate": [{**field, "name": "birthDate", "value": _day(rng)}],
        },
        "interests": rng.sample(INTERESTS, rng.randint(0, 3)),
    }


def _day(rng: random.Random) -> str:
    """An ISO day from 1940-01-01 to 2006-12-31."""
    year = rng.randint(1940, 2006)
    return f"{year:04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


async def load(url: str, n: int) -> float:
    rng = random.Random(7)
    enc = msgspec.json.Encoder()
    now = now_us()
    records = [
        (
            TENANT,
            PROJECT,
            f"ind-{i:06d}",
            enc.encode(individual(i, rng)).decode(),
            now + i,
            now + i,
            1,
        )
        for i in range(n)
    ]
    started = time.perf_counter()
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table(
            "profiles",
            records=records,
            columns=[
                "tenant",
                "sandbox",
                "identifier",
                "attributes",
                "created_at",
                "updated_at",
                "version",
            ],
        )
        # what autovacuum does after a bulk insert: statistics, and the GIN index's pending
        # list merged (a search scans that list whole; after a 100,000-row COPY it is ~4 MB)
        await conn.execute("VACUUM ANALYZE profiles")
    finally:
        await conn.close()
    return time.perf_counter() - started


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def bump_revision(url: str) -> None:
    """What any write to one of the sandbox's individuals does to its revision."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "UPDATE profile_revisions SET revision = nextval('profile_revision_seq') "
            "WHERE tenant = $1 AND sandbox = $2",
            TENANT,
            PROJECT,
        )
    finally:
        await conn.close()


async def run(server: str, n: int, requests: int, cold_requests: int) -> None:
    admin = await asyncpg.connect(server)
    name = f"segmux_bench_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = server.rsplit("/", 1)[0] + f"/{name}"
    try:
        store = await open_store(url)
        token, _ = await TokenService(store).create(tenant=TENANT, scope="admin", name="bench")
        print(f"loaded {n:,} individuals with COPY in {await load(url, n):.1f} s")
        app = create_app(Settings(database_url=url), store=store)
        headers = {"Authorization": f"Bearer {token}"}
        counted: list[str] = []
        fetch = pg_backend._Tx.fetch
        fetchrow = pg_backend._Tx.fetchrow

        async def counting_fetch(self: Any, sql: str, *args: Any) -> Any:
            counted.append(sql)
            return await fetch(self, sql, *args)

        async def counting_fetchrow(self: Any, sql: str, *args: Any) -> Any:
            counted.append(sql)
            return await fetchrow(self, sql, *args)

        # Counting wraps the store's own methods for this one run (restored below); mypy
        # forbids assigning to a method, which is the point here.
        pg_backend._Tx.fetch = counting_fetch  # type: ignore[method-assign]
        pg_backend._Tx.fetchrow = counting_fetchrow  # type: ignore[method-assign]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            root = (await client.get("/", headers=headers)).json()
            segments_url = (
                root["_links"]["individual-segments"]["href"]
                .replace("{projectId}", PROJECT)
                .replace("{?filter}", "")
            )
            print(
                f"\nfirst page (size 20) of members, {requests} requests each, through the ASGI app"
            )
            print(
                f"{'segment':30} {'members':>8} {'warm p50':>9} {'warm p99':>9} "
                f"{'cold p50':>9} {'queries':>8}  (ms)"
            )
            for label, odata in SEGMENTS.items():
                r = await client.post(
                    segments_url,
                    headers=headers,
                    json={"name": label, "segmentType": "DYNAMIC", "filter": odata},
                )
                members = r.json()["_links"]["individuals"]["href"].replace("{?filter}", "")
                for _ in range(5):  # warm up: pool connections, plans, caches
                    await client.get(members, headers=headers)
                samples = []
                for _ in range(requests):
                    counted.clear()
                    started = time.perf_counter()
                    page = await client.get(members, headers=headers)
                    samples.append((time.perf_counter() - started) * 1000)
                    assert page.status_code == 200, page.text
                on_profiles = [s for s in counted if "profiles p" in s]
                total = page.json()["page"]["totalElements"]
                cold = []
                for _ in range(cold_requests):
                    await bump_revision(url)
                    started = time.perf_counter()
                    again = await client.get(members, headers=headers)
                    cold.append((time.perf_counter() - started) * 1000)
                    assert again.json()["page"]["totalElements"] == total, again.text
                cold_p50 = f"{statistics.median(cold):>9.1f}" if cold else f"{'-':>9}"
                print(
                    f"{label:30} {total:>8,} {statistics.median(samples):>9.1f} "
                    f"{percentile(samples, 0.99):>9.1f} {cold_p50} {len(on_profiles):>8}"
                )
        pg_backend._Tx.fetch = fetch  # type: ignore[method-assign]
        pg_backend._Tx.fetchrow = fetchrow  # type: ignore[method-assign]
        await store.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    configure("warning")  # one access line per request would drown the figures
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--individuals", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--cold-requests", type=int, default=10)
    args = parser.parse_args()
    server = os.environ.get("SEGMUX_BENCH_DATABASE_URL") or os.environ.get(
        "SEGMUX_TEST_DATABASE_URL"
    )
    if not server:
        sys.exit("set SEGMUX_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test")
    asyncio.run(run(server, args.individuals, args.requests, args.cold_requests))


if __name__ == "__main__":
    main()
