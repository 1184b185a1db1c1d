"""The benchmark's data: fixture A through the public Unleash API (the same code loads segmux
and the real Unleash server, so both hold the same data), fixture B and the evaluate tenant in
bulk through the store (10,000 segments and 100,000 individuals over HTTP would take minutes).

Tenants of one segmux store:

* ``default`` — fixture A: 50 segments of 2 constraints, 10 features whose strategy in
  ``development`` uses 2 of them (loaded over HTTP after the gateway starts).
* ``writes`` — empty; the create scenarios write here so they never grow fixture A's lists.
* ``resolve`` — the Confidence resolve fixture (``bench.resolve``), made over HTTP: its three
  segments would otherwise stand in fixture A's lists, which must hold fixture A alone.
* ``eval`` — 1,000 segments of 2-3 atoms: the tenant ``/segmux/v1/evaluate`` runs against.
* ``bulk`` — fixture B: 10,000 segments of every dialect's flavour and 100,000 individuals in
  sandbox (HAL project) ``prod``.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import msgspec

from core.expr.ast import And, Cmp, Expr, In, Lit, Not, Or, Regex, StrOp, encode
from core.expr.normalize import normalize
from core.model import NewSegment, SegmentKind, now_us
from core.store import Store, open_store
from core.tokens import TokenService

FIXTURE_A_SEGMENTS = 50
FIXTURE_A_FEATURES = 10
EVAL_SEGMENTS = 1_000
B_SEGMENTS = 10_000
B_INDIVIDUALS = 100_000
SANDBOX = "prod"
CITIES = ["Madrid", "Malaga", "Sevilla", "Bilbao", "Valencia", "Lisboa", "Porto", "Paris"]
JOBS = ["Engineer", "Designer", "Manager", "Sales"]
# The HAL DYNAMIC segment whose first members page is measured: a string equality and a numeric
# range (~2.5% of the individuals), the shape of a real audience rather than a lookup by key.
HAL_MEMBERS_FILTER = (
    "demographics/city/value eq 'Madrid' and demographics/age/value ge 30 "
    "and demographics/age/value lt 40"
)
EVAL_CONTEXT: dict[str, Any] = {
    "userId": "u-17",
    "country": "SE",
    "plan": "pro",
    "age": 30,
    "email": "ana@example.com",
    "appName": "web",
}


@dataclass(frozen=True)
class Tokens:
    """Secrets of the tokens the scenarios send (created through the store, as the CLI does)."""

    admin: str  # tenant default, admin (also SEGMUX_ADMIN_TOKEN)
    client: str  # tenant default, client:development
    writes: str  # tenant writes, admin
    eval: str  # tenant eval, admin
    bulk: str  # tenant bulk, admin
    frontend: str  # tenant default, frontend:development (browser SDKs)
    ofrep_admin: str  # tenant ofrep, admin (makes the OFREP fixture)
    ofrep: str  # tenant ofrep, ofrep:development (OpenFeature providers)
    resolve: str  # tenant resolve, admin (makes the Confidence resolve fixture)


def constraints_a(i: int) -> list[dict[str, Any]]:
    """Fixture A's two constraints of segment ``i`` (Unleash wire form)."""
    return [
        {
            "contextName": "userId",
            "operator": "IN",
            "values": [f"u-{i}", f"u-{i + 1}", "u-17"],
            "inverted": False,
            "caseInsensitive": False,
        },
        {
            "contextName": "country",
            "operator": "IN",
            "values": ["SE", "NO", f"C{i}"],
            "inverted": False,
            "caseInsensitive": False,
        },
    ]


async def load_fixture_a(
    base: str, admin_token: str, transport: httpx.AsyncBaseTransport | None = None
) -> dict[str, Any]:
    """50 segments x 2 constraints and 10 features (each strategy using 2 segments, enabled in
    development) through the Unleash admin API; works against segmux and the real server (or,
    with ``transport``, an app in process)."""
    headers = {"Authorization": admin_token, "Content-Type": "application/json"}
    started = time.perf_counter()
    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=60, transport=transport
    ) as client:

        async def post(path: str, body: Any, ok: tuple[int, ...] = (200, 201)) -> Any:
            r = await client.post(path, json=body)
            if r.status_code not in ok:
                raise RuntimeError(f"POST {path}: {r.status_code} {r.text[:500]}")
            return r.json() if r.content else None

        ids: list[int] = []
        for i in range(FIXTURE_A_SEGMENTS):
            made = await post(
                "/api/admin/segments",
                {
                    "name": f"segment-{i:02d}",
                    "description": f"fixture A {i}",
                    "constraints": constraints_a(i),
                },
            )
            ids.append(int(made["id"]))
        project = "/api/admin/projects/default/features"
        for f in range(FIXTURE_A_FEATURES):
            name = f"feature-{f:02d}"
            await post(project, {"name": name, "description": f"fixture A feature {f}"})
            env = f"{project}/{name}/environments/development"
            await post(
                f"{env}/strategies",
                {
                    "name": "flexibleRollout",
                    "constraints": [],
                    "parameters": {"rollout": "100", "stickiness": "default", "groupId": name},
                    "segments": [ids[2 * f], ids[2 * f + 1]],
                },
            )
            await post(f"{env}/on", None, ok=(200, 201, 204))
    return {"segments": ids, "seconds": time.perf_counter() - started}


def _s(v: str) -> Lit:
    return Lit("string", v)


def b_expression(i: int) -> tuple[SegmentKind, Expr | None]:
    """Segment ``i`` of fixture B: a rotation over what each dialect creates (kind, condition)."""
    shape = i % 6
    if shape == 0:  # Unleash: a conjunction of constraints
        return "dynamic", And(
            (
                In(("userId",), (_s(f"u-{i}"), _s(f"u-{i + 7}"))),
                StrOp("starts_with", ("email",), (f"a{i % 97}",)),
            )
        )
    if shape == 1:  # Adobe PQL: an OR Unleash cannot say
        return "dynamic", Or(
            (
                Cmp("eq", ("workAddress", "country"), _s(f"C{i % 50}")),
                Cmp("ge", ("age",), Lit("number", i % 90)),
            )
        )
    if shape == 2:  # Confidence targeting
        return "dynamic", And(
            (Cmp("eq", ("country",), _s("SE")), Not(In(("plan",), (_s("free"), _s(f"p{i}")))))
        )
    if shape == 3:  # HAL OData over demographics
        return "dynamic", Cmp("eq", ("demographics", "city", "value"), _s(CITIES[i % 8]))
    if shape == 4:  # a regex only some languages say
        return "dynamic", Regex(("email",), f"^user{i}@")
    return ("static" if i % 12 == 5 else "dynamic"), None  # v2.3: a name only; HAL STATIC


def eval_expression(i: int) -> Expr:
    """Segment ``i`` of the evaluate tenant: 2-3 atoms, a few of which match EVAL_CONTEXT."""
    atoms: list[Expr] = [
        In(("userId",), (_s(f"u-{i}"), _s(f"u-{i + 1}"), _s("u-17"))),
        In(("country",), (_s("SE"), _s("NO"), _s(f"C{i}"))),
    ]
    if i % 2:
        atoms.append(Cmp("ge", ("age",), Lit("number", i % 60)))
    return And(tuple(atoms))


def _new(name: str, kind: SegmentKind, expr: Expr | None) -> NewSegment:
    norm = normalize(expr) if expr is not None else None
    return NewSegment(
        name=name, sandbox=SANDBOX, kind=kind, expression=encode(norm) if norm is not None else None
    )


async def _create_many(store: Store, tenant: str, news: list[NewSegment], parallel: int) -> None:
    gate = asyncio.Semaphore(parallel)

    async def one(new: NewSegment) -> None:
        async with gate:
            await store.create_segment(tenant, new, "bench")

    await asyncio.gather(*(one(n) for n in news))


def individual(i: int, rng: random.Random) -> dict[str, Any]:
    """A HAL individual (Pulpo's demographics: property -> list of fields)."""
    field = {"context": "demographics", "dataSourceIdentifier": "bench"}

    def f(name: str, value: str) -> list[dict[str, str]]:
        return [{**field, "name": name, "value": value}]

    return {
        "demographics": {
            "age": f("age", str(rng.randint(18, 80))),
            "city": f("city", rng.choice(CITIES)),
            "email": f("email", f"person-{i}@example.com"),
            "jobTitle": f("jobTitle", rng.choice(JOBS)),
        }
    }


def _profile_rows(n: int) -> list[tuple[Any, ...]]:
    rng = random.Random(7)
    enc = msgspec.json.Encoder()
    now = now_us()
    return [
        (
            "bulk",
            SANDBOX,
            f"ind-{i:06d}",
            enc.encode(individual(i, rng)).decode(),
            now + i,
            now + i,
            1,
            False,
        )
        for i in range(n)
    ]


PROFILE_COLUMNS = [
    "tenant",
    "sandbox",
    "identifier",
    "attributes",
    "created_at",
    "updated_at",
    "version",
    "wide_ints",
]


async def _load_profiles(url: str, n: int) -> None:
    """Individuals in bulk: COPY on PostgreSQL, one executemany transaction on SQLite, into the
    store's own table (the columns ``create_profile`` writes)."""
    rows = _profile_rows(n)
    if url.startswith("sqlite"):
        path = url.split("sqlite://", 1)[1]
        path = path[1:] if path.startswith("/") else path
        db = sqlite3.connect(path)
        try:
            marks = ", ".join("?" * len(PROFILE_COLUMNS))
            with db:
                db.executemany(
                    f"INSERT INTO profiles ({', '.join(PROFILE_COLUMNS)}) VALUES ({marks})", rows
                )
            db.execute("ANALYZE")
        finally:
            db.close()
        return
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table("profiles", records=rows, columns=PROFILE_COLUMNS)
        await conn.execute("ANALYZE profiles")
    finally:
        await conn.close()


async def prepare_store(
    url: str, admin_token: str, *, segments: int = B_SEGMENTS, individuals: int = B_INDIVIDUALS
) -> tuple[Tokens, dict[str, float]]:
    """Migrate a fresh store, create the tenants and tokens, load the evaluate tenant and
    fixture B. Returns the tokens and the seconds each step took."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    store = await open_store(url)
    try:
        svc = TokenService(store)
        await svc.ensure(
            tenant="default", scope="admin", name="SEGMUX_ADMIN_TOKEN", token=admin_token
        )
        client, _ = await svc.create(tenant="default", scope="client:development", name="sdk")
        writes, _ = await svc.create(tenant="writes", scope="admin", name="bench")
        ev, _ = await svc.create(tenant="eval", scope="admin", name="bench")
        bulk, _ = await svc.create(tenant="bulk", scope="admin", name="bench")
        frontend, _ = await svc.create(
            tenant="default", scope="frontend:development", name="browser"
        )
        ofrep_admin, _ = await svc.create(tenant="ofrep", scope="admin", name="bench")
        ofrep, _ = await svc.create(tenant="ofrep", scope="ofrep:development", name="provider")
        resolve, _ = await svc.create(tenant="resolve", scope="admin", name="bench")
        timings["migrate + tokens"] = time.perf_counter() - started
        parallel = 1 if url.startswith("sqlite") else 8
        t = time.perf_counter()
        await _create_many(
            store,
            "eval",
            [_new(f"eval-{i:04d}", "dynamic", eval_expression(i)) for i in range(EVAL_SEGMENTS)],
            parallel,
        )
        news = []
        for i in range(segments):
            kind, expr = b_expression(i)
            news.append(_new(f"b-{i:05d}", kind, expr))
        await _create_many(store, "bulk", news, parallel)
        timings["eval + fixture B segments"] = time.perf_counter() - t
    finally:
        await store.close()
    t = time.perf_counter()
    await _load_profiles(url, individuals)
    timings["fixture B individuals"] = time.perf_counter() - t
    tokens = Tokens(
        admin=admin_token,
        client=client,
        writes=writes,
        eval=ev,
        bulk=bulk,
        frontend=frontend,
        ofrep_admin=ofrep_admin,
        ofrep=ofrep,
        resolve=resolve,
    )
    return tokens, timings


async def create_hal_members_segment(base: str, token: str) -> str:
    """The DYNAMIC segment of the members scenario, through the HAL API; its members path."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        r = await client.post(
            f"/{SANDBOX}/individual-segments",
            json={"name": "Madrid, 30-39", "segmentType": "DYNAMIC", "filter": HAL_MEMBERS_FILTER},
        )
        if r.status_code not in (200, 201):
            raise RuntimeError(f"HAL segment: {r.status_code} {r.text[:300]}")
        href: str = r.json()["_links"]["individuals"]["href"]
        # HAL links are absolute; wrk and the other servers of a run need the path only
        return urlsplit(href.split("{", 1)[0]).path
