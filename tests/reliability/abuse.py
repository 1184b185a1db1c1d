"""Two tenants on one real gateway: A, who abuses it, and B, an ordinary neighbour.

What A does (each abuse bounded in count and in time, stopping by itself; loopback only):

* ``regex`` — segments whose conditions backtrack on a naive engine (``matches("(a+)+$")``,
  ``like "%a%a%a%a%a%!"``), then full ``evaluate:batch`` requests of 1,000 contexts of long
  ``aaaa…!`` strings, with a read-only client token;
* ``cache`` — hundreds of spellings of one large Confidence list (``view=FULL``, page size
  1000, every segment allocated: each body is megabytes), so a cache keyed on the raw query
  would keep each spelling apart;
* ``hal`` — a HAL DYNAMIC segment whose filter ``or``s thousands of atoms (the largest the
  gateway accepts), its members page requested ten times at once, over and over;
* ``slow`` — fifty connections that send a request line and headers a line at a time, slowly,
  and never finish them.

What B does: its segment list, one segment, an evaluate, the Unleash client features and the
HAL individuals page, and ``/healthz``. The reliability suite asserts that B's requests keep
succeeding within generous bounds while A runs each abuse; ``bench.noisy`` measures them.
Tokens are created with the CLI (``segmux tokens create``), as an operator does.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = "prod"
TENANT_A, TENANT_B = "noisy-a", "noisy-b"

BATCH_CONTEXTS = 1000  # a full batch
RUN_LENGTH = 400  # 'a's before the '!': 1,000 contexts of two such strings stay under 1 MiB
CACHE_SEGMENTS = 60  # Confidence segments of A, each allocated (a bitset of 1,000,000 buckets)
SPELLINGS = 200  # spellings of one list query
FILTER_ATOMS = 5000  # the HAL filter's atoms, or the largest count the gateway accepts
A_INDIVIDUALS = 1000  # HAL individuals in A's sandbox that the members query scans
PARALLEL_MEMBERS = 10
SLOW_CONNECTIONS = 50
RSS_CEILING_MB = 512.0  # the cache abuse stops if the gateway grows past this (a bad cache
# would otherwise take the machine's memory: one spelling is megabytes)

ABUSES = ("regex", "cache", "hal", "slow")
HEALTH_BOUND = 5.0  # seconds /healthz may take (it does no work: only a blocked loop delays it)


def cli_token(database_url: str, tenant: str, scope: str, name: str) -> str:
    """``segmux tokens create`` against the store, as an operator runs it."""
    env = {**os.environ, "SEGMUX_DATABASE_URL": database_url}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "tokens",
            "create",
            "--tenant",
            tenant,
            "--scope",
            scope,
            "--name",
            name,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    return out.stdout.strip().splitlines()[0]


@dataclass
class Tokens:
    a_admin: str
    a_client: str
    b_admin: str
    b_client: str

    @classmethod
    def create(cls, database_url: str) -> Tokens:
        # A new store is made by `segmux db upgrade` (or serve): the token commands refuse a
        # SQLite file that does not exist, so that they never write into a stray new store.
        subprocess.run(
            [sys.executable, "-m", "gateway.cli", "db", "upgrade"],
            capture_output=True,
            text=True,
            env={**os.environ, "SEGMUX_DATABASE_URL": database_url},
            cwd=ROOT,
            timeout=120,
            check=True,
        )
        return cls(
            a_admin=cli_token(database_url, TENANT_A, "admin", "noisy-admin"),
            a_client=cli_token(database_url, TENANT_A, "client:development", "noisy-sdk"),
            b_admin=cli_token(database_url, TENANT_B, "admin", "neighbour-admin"),
            b_client=cli_token(database_url, TENANT_B, "client:development", "neighbour-sdk"),
        )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _ok(r: httpx.Response, *statuses: int) -> Any:
    if r.status_code not in (statuses or (200, 201)):
        raise AssertionError(
            f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text[:300]}"
        )
    return r.json() if r.content else None


async def _post(c: httpx.AsyncClient, path: str, *statuses: int, **kw: Any) -> Any:
    """A setup write; a 429 or 503 (a cap on a tenant's concurrent work, a busy store) is
    retried a few times, as a client told to come back does."""
    for attempt in range(20):
        r = await c.post(path, **kw)
        if r.status_code not in (429, 503) or attempt == 19:
            return _ok(r, *statuses)
        await asyncio.sleep(0.25)
    raise AssertionError("unreachable")


# --- setting the two tenants up (through the HTTP API) -----------------------------------------


@dataclass
class Setup:
    """What the abuses and B's requests address, found while setting the tenants up."""

    tokens: Tokens
    b_segment_id: str = ""
    members_path: str = ""
    filter_atoms: int = 0
    """Atoms of the HAL filter A's members requests run (the largest accepted, up to 5,000)."""
    filter_refusal: str = ""
    """The gateway's answer to a 5,000-atom filter when it refused it."""


def big_filter(atoms: int) -> str:
    """``atoms`` equality tests ``or``ed, alternating over two attributes (so no single ``in``
    list stands for them), as short as they can be written: 5,000 of them fit the 64 KiB a
    filter may have. The members query tests every individual against every one."""
    return " or ".join(f"{'ab'[i % 2]} eq {i}" for i in range(atoms))


def person(i: int) -> dict[str, Any]:
    def f(name: str, value: str) -> list[dict[str, str]]:
        return [{"context": "demographics", "name": name, "value": value}]

    return {
        "identifier": f"person-{i:05d}",
        "demographics": {
            "age": f("age", str(20 + i % 50)),
            "city": f("city", f"town-{i % 40}"),
            "email": f("email", f"person-{i}@example.com"),
        },
    }


async def _gather_bounded(calls: list[Callable[[], Awaitable[Any]]], parallel: int) -> list[Any]:
    gate = asyncio.Semaphore(parallel)

    async def one(call: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await call()

    return list(await asyncio.gather(*(one(c) for c in calls)))


async def prepare(base: str, tokens: Tokens) -> Setup:
    """Both tenants' data, through the gateway at ``base``."""
    setup = Setup(tokens=tokens)
    async with httpx.AsyncClient(base_url=base, timeout=120) as c:
        await _prepare_b(c, setup)
        await _prepare_a(c, setup)
    return setup


async def _prepare_b(c: httpx.AsyncClient, setup: Setup) -> None:
    h = bearer(setup.tokens.b_admin)
    made = []
    for i, pql in enumerate(
        [
            'country = "SE"',
            'plan = "pro" and age >= 18',
            'email.endsWith("@example.com")',
            'city like "Mal%"',
        ]
    ):
        made.append(
            await _post(
                c,
                "/segmux/v1/segments",
                headers=h,
                json={
                    "name": f"neighbour-{i}",
                    "condition": {"language": "pql", "expression": pql},
                },
            )
        )
    setup.b_segment_id = made[0]["id"]
    un = {"Authorization": setup.tokens.b_admin}
    seg = await _post(
        c,
        "/api/admin/segments",
        headers=un,
        json={
            "name": "neighbour-flagged",
            "constraints": [{"contextName": "plan", "operator": "IN", "values": ["pro", "team"]}],
        },
    )
    await _post(
        c, "/api/admin/projects/default/features", headers=un, json={"name": "neighbour-feature"}
    )
    strategies = (
        "/api/admin/projects/default/features/neighbour-feature/environments/development/strategies"
    )
    await _post(c, strategies, headers=un, json={"name": "default", "segments": [seg["id"]]})
    await _post(
        c,
        "/api/admin/projects/default/features/neighbour-feature/environments/development/on",
        200,
        204,
        headers=un,
    )
    await _post(c, f"/{SANDBOX}/individuals", headers=h, json=person(0))


async def _prepare_a(c: httpx.AsyncClient, setup: Setup) -> None:
    h = bearer(setup.tokens.a_admin)
    for name, pql in (
        ("backtracking-matches", 'email.matches("(a+)+$")'),
        ("backtracking-like", 'city like "%a%a%a%a%a%!"'),
    ):
        await _post(
            c,
            "/segmux/v1/segments",
            headers=h,
            json={"name": name, "condition": {"language": "pql", "expression": pql}},
        )

    async def allocated(i: int) -> None:
        slug = f"bulky-{i:03d}"
        await _post(
            c,
            "/v1/segments",
            params={"segmentId": slug},
            headers=h,
            json={
                "displayName": f"Bulky {i}",
                "allocation": {"proportion": {"value": "0.5"}},
                "labels": {"team": "noisy"},
            },
        )
        await _post(c, f"/v1/segments/{slug}:allocate", headers=h, json={})

    await _gather_bounded(
        [
            lambda i=i: allocated(i)  # type: ignore[misc]
            for i in range(CACHE_SEGMENTS)
        ],
        4,
    )

    async def individual(i: int) -> None:
        await _post(c, f"/{SANDBOX}/individuals", headers=h, json=person(i))

    await _gather_bounded(
        [
            lambda i=i: individual(i)  # type: ignore[misc]
            for i in range(A_INDIVIDUALS)
        ],
        8,
    )

    segment = await _largest_filter(c, h, setup)
    href: str = segment["_links"]["individuals"]["href"]
    setup.members_path = httpx.URL(href.split("{", 1)[0]).path


async def _largest_filter(c: httpx.AsyncClient, h: dict[str, str], setup: Setup) -> dict[str, Any]:
    """The HAL segment with the biggest filter the gateway accepts, up to 5,000 atoms: what
    an abuser does when the full one is refused (a binary search on the atom count)."""

    async def create(atoms: int) -> httpx.Response:
        for _ in range(20):
            r = await c.post(
                f"/{SANDBOX}/individual-segments",
                headers=h,
                json={
                    "name": f"expensive-{atoms}",
                    "segmentType": "DYNAMIC",
                    "filter": big_filter(atoms),
                },
            )
            if r.status_code not in (429, 503):
                break
            await asyncio.sleep(0.25)
        return r

    r = await create(FILTER_ATOMS)
    if r.status_code == 200:
        setup.filter_atoms = FILTER_ATOMS
        return dict(r.json())
    if r.status_code >= 500:
        raise AssertionError(f"a {FILTER_ATOMS}-atom filter: {r.status_code} {r.text[:300]}")
    setup.filter_refusal = f"{r.status_code} {_why(r)}"
    low, high, best = 1, FILTER_ATOMS - 1, None
    while low <= high:
        mid = (low + high) // 2
        r = await create(mid)
        if r.status_code == 200:
            low, best, setup.filter_atoms = mid + 1, r, mid
        else:
            high = mid - 1
    if best is None:
        raise AssertionError(f"no filter accepted at all: {setup.filter_refusal}")
    return dict(best.json())


async def end_leftover_queries(url: str) -> int:
    """End every session on this PostgreSQL database but ours: after a gateway stops, the
    server goes on with a query whose client is gone, and the next measurement must not share
    the machine with it. Returns how many were ended."""
    conn = await asyncpg.connect(url)
    try:
        ended = await conn.fetchval(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()) t"
        )
        return int(ended or 0)
    finally:
        await conn.close()


# --- B's requests ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    name: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None = None
    expect: bytes = b""
    """What B's answer must hold (its own data), besides a 2xx."""


EVAL_CONTEXT = b'{"context":{"country":"SE","plan":"pro","age":30,"email":"b@example.com"}}'


def neighbour_calls(setup: Setup) -> list[Call]:
    """B's requests, as wrk or an httpx client sends them."""
    t = setup.tokens
    json_ct = {"Content-Type": "application/json"}
    seg = setup.b_segment_id.encode()
    return [
        Call("list", "GET", "/segmux/v1/segments", bearer(t.b_admin), expect=b'"neighbour-3"'),
        Call(
            "get",
            "GET",
            f"/segmux/v1/segments/{setup.b_segment_id}",
            bearer(t.b_admin),
            expect=b'"neighbour-0"',
        ),
        Call(
            "evaluate",
            "POST",
            "/segmux/v1/evaluate",
            {**bearer(t.b_admin), **json_ct},
            EVAL_CONTEXT,
            expect=b'"' + seg + b'":true',
        ),
        Call(
            "client features",
            "GET",
            "/api/client/features",
            {"Authorization": t.b_client, "Unleash-Client-Spec": "5.0.0"},
            expect=b'"neighbour-feature"',
        ),
        Call(
            "hal individuals",
            "GET",
            f"/{SANDBOX}/individuals?size=1",
            bearer(t.b_admin),
            expect=b'"person-00000"',
        ),
        Call("healthz", "GET", "/healthz", {}),
    ]


@dataclass
class Sample:
    call: str
    status: int | None  # None: no answer within the bound, or one without B's data
    seconds: float
    error: str = ""


async def send(c: httpx.AsyncClient, call: Call, bound: float) -> Sample:
    started = time.monotonic()
    try:
        r = await c.request(
            call.method, call.path, headers=call.headers, content=call.body, timeout=bound
        )
    except httpx.HTTPError as exc:
        return Sample(
            call.name, None, time.monotonic() - started, f"{type(exc).__name__}: {exc}"[:200]
        )
    seconds = time.monotonic() - started
    if r.status_code < 300 and call.expect not in r.content:
        return Sample(call.name, None, seconds, f"{r.status_code} without its data: {r.text[:200]}")
    return Sample(call.name, r.status_code, seconds, "" if r.status_code < 300 else r.text[:200])


async def neighbour(
    base: str,
    calls: list[Call],
    seconds: float,
    bound: float,
    abuse: asyncio.Future[Any] | None = None,
) -> list[Sample]:
    """B's requests one after the other, round after round, for ``seconds`` (at least one
    round) and, given ``abuse``, until it has ended too; ``/healthz`` also on a loop of its
    own, so a stall shows even mid-round."""
    samples: list[Sample] = []
    deadline = time.monotonic() + seconds

    def over() -> bool:
        return time.monotonic() >= deadline and (abuse is None or abuse.done())

    health = next(c for c in calls if c.name == "healthz")
    async with httpx.AsyncClient(base_url=base) as c, httpx.AsyncClient(base_url=base) as h:

        async def rounds() -> None:
            while True:
                for call in calls:
                    if call.name != "healthz":
                        samples.append(await send(c, call, bound))
                if over():
                    return

        async def beats() -> None:
            while True:
                samples.append(await send(h, health, min(bound, HEALTH_BOUND)))
                if over():
                    return
                await asyncio.sleep(0.2)

        await asyncio.gather(rounds(), beats())
    return samples


# --- A's abuses ----------------------------------------------------------------------------------


@dataclass
class AbuseReport:
    """What A got: status counts (``None``: transport error or cut off), and notes."""

    name: str
    statuses: Counter[int | None] = field(default_factory=Counter)
    requests: int = 0
    notes: list[str] = field(default_factory=list)
    peak_rss_mb: float = 0.0
    abandoned: int = 0
    """Requests still unanswered when the abuse stopped (given up, not counted above)."""
    cut_off: int = 0
    """Slow connections the gateway closed before the abuse ended."""

    def summary(self) -> str:
        counts = ", ".join(
            f"{k if k is not None else 'no answer'}: {v}"
            for k, v in sorted(self.statuses.items(), key=lambda kv: str(kv[0]))
        )
        text = f"{self.name}: {self.requests} answered" + (f" ({counts})" if counts else "")
        if self.abandoned:
            text += f", {self.abandoned} still unanswered when the abuse stopped"
        return text + ("; " + "; ".join(self.notes) if self.notes else "")


def _why(r: httpx.Response) -> str:
    """The reason an answer gives (each dialect's error has a message or reason field)."""
    try:
        body = r.json()
    except ValueError:
        return r.text[:160]
    if isinstance(body, dict):
        for key in ("message", "reason", "detail", "title"):
            if isinstance(body.get(key), str):
                return str(body[key])[:160]
    return r.text[:160]


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Abuse:
    """One abuse by A against the gateway at ``base`` (serving process ``pid``), running until
    ``stop`` is set or its own count and time bounds are reached."""

    def __init__(
        self, name: str, base: str, pid: int, setup: Setup, *, max_seconds: float = 60.0
    ) -> None:
        assert name in ABUSES, name
        self.name, self.base, self.pid, self.setup = name, base, pid, setup
        self.until = time.monotonic() + max_seconds
        self.stop = asyncio.Event()
        self.report = AbuseReport(name)

    def running(self) -> bool:
        return not self.stop.is_set() and time.monotonic() < self.until

    async def run(self) -> AbuseReport:
        runner = {"regex": self._regex, "cache": self._cache, "hal": self._hal, "slow": self._slow}[
            self.name
        ]
        await runner()
        return self.report

    def _count(self, status: int | None) -> None:
        self.report.requests += 1
        self.report.statuses[status] += 1

    async def _request(
        self, c: httpx.AsyncClient, method: str, path: str, *, wait: float, **kw: Any
    ) -> httpx.Response | None:
        """One request, given up after ``wait`` seconds or when the abuse stops (an abuser that
        stops waiting closes its connection)."""
        task = asyncio.ensure_future(c.request(method, path, timeout=wait, **kw))
        stopped = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if not task.done():  # abandoned when the abuse stopped
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            self.report.abandoned += 1
            return None
        try:
            r = task.result()
        except httpx.HTTPError:
            self._count(None)
            return None
        self._count(r.status_code)
        return r

    async def _regex(self) -> None:
        text = "a" * RUN_LENGTH + "!"
        body = {"contexts": [{"email": text, "city": text, "n": i} for i in range(BATCH_CONTEXTS)]}
        h = bearer(self.setup.tokens.a_client)  # a read-only client token is enough
        async with httpx.AsyncClient(base_url=self.base) as c:

            async def lane() -> None:
                for _ in range(60):  # batches per lane, at most (the time bound comes first)
                    if not self.running():
                        return
                    r = await self._request(
                        c, "POST", "/segmux/v1/evaluate:batch", json=body, headers=h, wait=30
                    )
                    if r is not None and r.status_code != 200:
                        self._note(f"batch {r.status_code}: {_why(r)}")

            await asyncio.gather(lane(), lane())

    async def _cache(self) -> None:
        h = bearer(self.setup.tokens.a_client)
        base_rss = rss_mb(self.pid)
        self.report.peak_rss_mb = base_rss
        spellings = iter(range(SPELLINGS))
        async with httpx.AsyncClient(base_url=self.base) as c:

            async def lane() -> None:
                for n in spellings:
                    if not self.running():
                        return
                    # 1000, 1001, …: every page size above 1000 is read as 1000
                    query = f"view=FULL&pageSize={1000 + n}"
                    r = await self._request(c, "GET", f"/v1/segments?{query}", headers=h, wait=60)
                    if r is not None and r.status_code != 200:
                        self._note(f"list {r.status_code}: {_why(r)}")
                    rss = rss_mb(self.pid)
                    self.report.peak_rss_mb = max(self.report.peak_rss_mb, rss)
                    if rss > RSS_CEILING_MB:
                        self._note(
                            f"stopped at {rss:.0f} MB (from {base_rss:.0f} MB) after "
                            f"{self.report.requests} spellings: memory is not bounded"
                        )
                        self.stop.set()
                        return

            await asyncio.gather(lane(), lane())
        self._note(f"RSS {base_rss:.0f} MB before, peak {self.report.peak_rss_mb:.0f} MB")

    async def _hal(self) -> None:
        h = bearer(self.setup.tokens.a_client)
        async with httpx.AsyncClient(
            base_url=self.base, limits=httpx.Limits(max_connections=PARALLEL_MEMBERS)
        ) as c:

            async def lane() -> None:
                for _ in range(50):  # members requests per lane, at most
                    if not self.running():
                        return
                    r = await self._request(c, "GET", self.setup.members_path, headers=h, wait=60)
                    if r is not None and r.status_code != 200:
                        self._note(f"members {r.status_code}: {_why(r)}")

            await asyncio.gather(*(lane() for _ in range(PARALLEL_MEMBERS)))
        self._note(f"filter of {self.setup.filter_atoms} atoms")

    async def _slow(self) -> None:
        """Fifty connections that never finish their headers: a line every second."""
        port = httpx.URL(self.base).port
        assert port is not None
        cut: list[float] = []
        started = time.monotonic()

        async def connection(n: int) -> None:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                self._note("a connection was refused")
                return
            try:
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                line = 0
                while self.running():
                    await asyncio.sleep(1)
                    line += 1
                    writer.write(f"X-Slow-{line}: {n}\r\n".encode())
                    await writer.drain()
                    try:  # anything from the server (a 408, a close) ends the connection
                        await asyncio.wait_for(reader.read(1), 0.01)
                    except TimeoutError:
                        continue
                    raise ConnectionResetError
            except (OSError, ConnectionResetError):
                cut.append(time.monotonic() - started)
            finally:
                writer.close()
                await asyncio.gather(writer.wait_closed(), return_exceptions=True)

        await asyncio.gather(*(connection(n) for n in range(SLOW_CONNECTIONS)))
        self.report.cut_off = len(cut)
        if cut:
            self._note(
                f"{len(cut)} of {SLOW_CONNECTIONS} cut off by the gateway, after "
                f"{min(cut):.0f}-{max(cut):.0f} s"
            )
        else:
            self._note(f"none of the {SLOW_CONNECTIONS} was cut off")

    def _note(self, text: str) -> None:
        if text not in self.report.notes and len(self.report.notes) < 6:
            self.report.notes.append(text)
