"""``make bench``: segmux under wrk, side by side with the framework floor and the real Unleash.

    python -m bench.run [--runs N] [--duration S] [--backends sqlite,postgres] [--workers N]
                        [--only SUBSTR[,SUBSTR…]] [--no-unleash] [--no-floor] [--write-results]
    python -m bench.run --compare-workers          # 1 vs 2 workers, PostgreSQL, 10 connections
    python -m bench.run --compare-metrics          # SEGMUX_METRICS off vs public, the lists
    python -m bench.run --compare-log              # log level warning vs info, lists + polls
    python -m bench.run --report out/a.json out/b.json [--write-results]   # pool saved runs

Environment: BENCH_RUNS (1), BENCH_DURATION (5 s per wrk run at 10 connections; runs at 1
connection take 60% of it), BENCH_WORKERS (1), BENCH_LOG_LEVEL (warning: the tuned figures;
the scenarios of :data:`DEFAULTS_SCENARIOS` are measured again with segmux's default settings,
log level ``info``, under the backend ``<backend> defaults``, beside a floor of their own),
SEGMUX_TEST_DATABASE_URL (the PostgreSQL server; a fresh database is created and dropped);
SEGMUX_FRESHNESS reaches ``segmux serve`` as any SEGMUX_* does (default ``notify``; ``strict``
reads the tenant revision before every kept answer) and is recorded with the figures.

Order, so that nothing else runs while one server is measured: the real Unleash server starts
first in a thread and gets fixture A through its API while segmux's stores are prepared
(fixture B and the evaluate tenant in bulk); then per backend: ``segmux serve`` starts, gets
fixture A through the Unleash API, each scenario is probed once, the floor starts (answering
each read scenario's path with the body segmux answered), and each scenario is measured on
segmux and at once on the floor, so each ratio compares two runs a few seconds apart; then the
real Unleash server, each run its reads first and then its writes, whose segments are deleted
before the next run (it has no tenants: its admin list answers every segment it holds). Before
each run, both servers' admin lists must hold fixture A alone, else that run's reads are NOT
MEASURED (segmux's writes go to a tenant of their own).
Output: a markdown table on stdout and ``bench/out/bench-<time>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import fixtures, procs, report, stores, writes, wrk
from bench.ofrep import create_ofrep_fixture
from bench.resolve import create_resolve_fixture
from bench.scenarios import (
    CLIENT_FEATURES,
    FLEET_FEATURES,
    Scenario,
    discover,
    fixture_b_requests,
    is_write,
    probe,
    segmux_scenarios,
    selected,
    unleash_scenarios,
    write_scenarios,
)

OUT = Path(__file__).resolve().parent / "out"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
DEFAULT_LOG_LEVEL = "info"
"""``segmux serve``'s own (``SEGMUX_LOG_LEVEL`` unset): an access line per request."""
DEFAULTS_SCENARIOS = (
    "unleash list",
    "confidence list",
    "unleash client features",
    "unleash client features fleet",
    "unleash frontend",
)
"""What is measured again with the default settings: the kept lists, the SDKs' polls (one
instance and a fleet) and the frontend API."""


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


@dataclass
class Run:
    duration: float
    runs: int
    measurements: list[dict[str, Any]] = field(default_factory=list)
    # backend -> scenario -> (body, content type, status) of the probe
    bodies: dict[str, dict[str, tuple[bytes, str, int]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    fixture_b_rss: dict[str, float] = field(default_factory=dict)

    def seconds(self, connections: int, target: str) -> float:
        # The floor's figures are steady (no I/O, constant body): a shorter run is enough.
        scale = 0.6 if connections == 1 or target == "floor" else 1.0
        return max(2.0, self.duration * scale)


def measure(
    run: Run,
    server: procs.Server,
    sc: Scenario,
    connections: int,
    *,
    target: str,
    backend: str,
    workers: int,
    path_prefix: str = "",
) -> dict[str, Any]:
    """One wrk run of a scenario, with the serving processes' peak RSS during it."""
    pids = server.serving_pids()
    for pid in pids:
        procs.reset_peak(pid)
    cpu_before = sum(procs.cpu_seconds(p) for p in pids)
    req = sc.request
    if path_prefix:
        req = wrk.Request(req.method, path_prefix + sc.slug, req.headers, req.body)
    res = wrk.run(
        server.url,
        req,
        connections=connections,
        seconds=run.seconds(connections, target),
        script_dir=OUT / "lua",
        name=f"{target}-{backend}-{sc.slug}-{connections}",
    )
    if is_write(sc) and res.errors:
        # A write refused (or a socket error) is not a write: the figure would measure
        # refusals, so the scenario fails instead of reporting it.
        raise RuntimeError(
            f"{res.errors} of {res.requests} writes failed ({res.non_2xx} answered other "
            f"than 2xx/3xx); no figure"
        )
    rss = max(procs.peak_rss_mb(p) for p in pids)
    cpu = sum(procs.cpu_seconds(p) for p in pids) - cpu_before
    cpu_us = round(cpu * 1e6 / res.requests, 1) if res.requests else None
    drained = procs.wait_idle(server)
    body = run.bodies.get(backend, {}).get(sc.name)
    m = {
        "target": target,
        "backend": backend,
        "workers": workers,
        "scenario": sc.name,
        "fixture": sc.fixture,
        "connections": connections,
        "rps": res.rps,
        "p50_ms": res.p50_ms,
        "p99_ms": res.p99_ms,
        "rss_mb": rss,
        "cpu_us_per_request": cpu_us,
        "errors": res.errors,
        "requests": res.requests,
        "bytes": len(body[0]) if body else None,
        "drain_s": round(drained, 2),
    }
    run.measurements.append(m)
    log(
        f"{target:7} {backend:8} {sc.name:26} c={connections:<2} {res.rps:9,.0f} req/s  "
        f"p50 {res.p50_ms:7.2f} ms  p99 {res.p99_ms:7.2f} ms  rss {rss:5.0f} MB"
        + (f"  cpu {cpu_us:6.0f} us/req" if cpu_us is not None else "")
        + (f"  ERRORS {res.errors}" if res.errors else "")
        + (f"  (drained {drained:.1f} s)" if drained > 0.5 else "")
    )
    return m


class ServerGone(RuntimeError):
    """The server under measurement exited: the rest of its phase cannot be measured."""


def measure_all(
    run: Run,
    server: procs.Server,
    scenarios: list[Scenario],
    *,
    target: str,
    backend: str,
    workers: int,
    path_prefix: str = "",
    floor: procs.Server | None = None,
    runs: range | None = None,
    fixture_check: Callable[[], str | None] | None = None,
) -> None:
    """Every scenario at its connection counts, ``run.runs`` times (or the runs of ``runs``).
    With ``floor``, each read scenario's run is followed at once by the floor's run of the same
    scenario, so the pair shares the machine's state (on a shared VM the CPU steal drifts over
    minutes: a floor measured a phase later compares against another machine). A failing run is
    noted and skipped (other engineers' work in progress must not stop the whole bench); a server
    that exited ends the phase. ``fixture_check`` is asked before each run: a reason it answers
    means the reads would not see fixture A alone, so that run's reads are NOT MEASURED."""
    for n in runs if runs is not None else range(run.runs):
        problem = fixture_check() if fixture_check is not None else None
        if problem:
            note = f"- NOT MEASURED {target} {backend} reads of run {n + 1}: {problem}"
            run.notes.append(note)
            log(note)
        for sc in scenarios:
            if problem and is_read(sc):
                continue
            for conns in connection_counts(sc):
                if not Path(f"/proc/{server.pid}").exists():
                    note = f"- {target} {backend}: the server exited; later runs not measured"
                    run.notes.append(note)
                    log(note)
                    return
                _try_measure(
                    run,
                    server,
                    sc,
                    conns,
                    target=target,
                    backend=backend,
                    workers=workers,
                    path_prefix=path_prefix,
                )
                if floor is not None and is_read(sc) and sc.name in run.bodies.get(backend, {}):
                    _try_measure(
                        run,
                        floor,
                        sc,
                        conns,
                        target="floor",
                        backend=backend,
                        workers=1,
                        path_prefix="/f/",
                    )


def _try_measure(
    run: Run,
    server: procs.Server,
    sc: Scenario,
    conns: int,
    *,
    target: str,
    backend: str,
    workers: int,
    path_prefix: str,
) -> None:
    try:
        measure(
            run,
            server,
            sc,
            conns,
            target=target,
            backend=backend,
            workers=workers,
            path_prefix=path_prefix,
        )
    except (RuntimeError, OSError, httpx.HTTPError, subprocess.SubprocessError) as e:
        run.notes.append(
            f"- NOT MEASURED {target} {backend} {sc.name} c={conns}: "
            f"{type(e).__name__}: {str(e)[:200]}"
        )
        log(f"{target} {backend} {sc.name} c={conns} failed: {e}")


def is_read(sc: Scenario) -> bool:
    """The scenarios the floor answers too (it has no writes to compare with)."""
    return not is_write(sc)


def connection_counts(sc: Scenario) -> list[int]:
    return [1, 10] if sc.one_connection else [10]


# --- the real Unleash server, in a thread of its own -------------------------------------------


UNLIMITED_RATE = {
    "SDK_API_RATE_LIMIT_PER_MINUTE": "1000000000",
    "TOKEN_AUTHENTICATION_RATE_LIMIT_PER_MINUTE": "1000000000",
}
"""Unleash 8.x answers 429 past 20,000 requests a minute on ``/api/client`` and
``/api/frontend`` (per token kind, ``rate-limit-middleware``), which a benchmark passes within
seconds: the 429s then counted as its throughput. A team serving a fleet raises these limits, and
what is measured is the server's speed, so the reference runs without them (segmux has no such
limit: docs/dialects/unleash.md)."""


class UnleashRef:
    """Starts unleash-server and loads fixture A while the segmux stores are being prepared;
    ``wait()`` returns the server, ``close()`` stops it."""

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.server: Any = None
        self.fixture_ids: list[int] = []  # fixture A's segments, all its reads may see
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.thread.start()

    def _main(self) -> None:
        try:
            from bench.unleash_server import unleash_server

            t = time.perf_counter()
            with unleash_server(
                f"unleash_bench_{uuid.uuid4().hex[:8]}",
                env={"UNLEASH_SEGMENTS_LIMIT": writes.SEGMENT_LIMIT, **UNLIMITED_RATE},
            ) as srv:
                log(f"unleash-server up in {time.perf_counter() - t:.0f} s; loading fixture A")
                loaded = asyncio.run(fixtures.load_fixture_a(srv.url, srv.admin_token))
                log(f"fixture A into unleash-server in {loaded['seconds']:.1f} s")
                self.fixture_ids = loaded["segments"]
                self.server = srv
                self.ready.set()
                self.stop.wait()
        except BaseException as exc:  # reported by wait(); the run goes on without it
            self.error = exc
            self.ready.set()

    def wait(self) -> Any:
        self.ready.wait()
        if self.error is not None:
            raise RuntimeError(f"unleash-server: {self.error}") from self.error
        return self.server

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=60)


# --- the phases ---------------------------------------------------------------------------------


def fixture_a_check(base: str, admin: str, ids: list[int]) -> Callable[[], str | None]:
    """For :func:`measure_all`: None while the Unleash admin list of ``admin``'s tenant holds
    fixture A's segments and nothing else (what every run's reads must see, on both servers),
    else what it holds."""
    want = sorted(ids)

    def check() -> str | None:
        try:
            r = httpx.get(
                f"{base}/api/admin/segments", headers={"Authorization": admin}, timeout=60
            )
        except httpx.HTTPError as exc:  # a server gone: measure_all notes it and ends the phase
            return f"the admin segments list: {type(exc).__name__} {exc}"
        if r.status_code != 200:
            return f"the admin segments list answered {r.status_code}"
        got = sorted(int(seg["id"]) for seg in r.json().get("segments", []))
        if got != want:
            return f"the admin segments list holds {len(got)} segments, fixture A {len(want)}"
        return None

    return check


def bench_segmux(
    run: Run,
    backend: str,
    url: str,
    tokens: fixtures.Tokens,
    *,
    workers: int,
    log_level: str,
    only: str | None,
    with_floor: bool = True,
) -> None:
    with procs.segmux_server(
        url, tokens.admin, workers=workers, log_level=log_level, log=OUT / f"segmux-{backend}.log"
    ) as srv:
        loaded = asyncio.run(fixtures.load_fixture_a(srv.url, tokens.admin))
        log(f"{backend}: fixture A through the Unleash API in {loaded['seconds']:.1f} s")
        # The writes go to tenant ``writes`` (tokens.writes), the reads to ``default``: this
        # checks, before every run, that the reads still see fixture A alone.
        check = fixture_a_check(srv.url, tokens.admin, loaded["segments"])
        members = asyncio.run(fixtures.create_hal_members_segment(srv.url, tokens.bulk))
        ids = asyncio.run(discover(srv.url, tokens))
        if selected(only, "confidence resolve 50 flags", False):
            try:
                ids["resolve_secret"] = asyncio.run(create_resolve_fixture(srv.url, tokens.resolve))
            except RuntimeError as exc:  # other work in progress must not stop the run
                run.notes.append(f"- NOT MEASURED {backend} confidence resolve: {exc}")
        if selected(only, "ofrep bulk 50 flags", False):
            try:
                asyncio.run(create_ofrep_fixture(srv.url, tokens.ofrep_admin))
                ids["ofrep"] = "made"
            except RuntimeError as exc:  # other work in progress must not stop the run
                run.notes.append(f"- NOT MEASURED {backend} ofrep bulk: {exc}")
        keys = make_update_keys(run, backend, srv.url, writes.segmux_writes(tokens.writes), only)
        scenarios = [
            s
            for s in segmux_scenarios(tokens, ids, members, keys)
            if selected(only, s.name, is_write(s))
        ]
        bodies = run.bodies.setdefault(backend, {})
        working = []
        for sc in scenarios:
            r = asyncio.run(probe(srv.url, sc.request))
            if r.status_code not in sc.ok:  # other work in progress must not stop the run
                run.notes.append(
                    f"- NOT MEASURED {backend} {sc.name}: the probe answered "
                    f"{r.status_code} {r.text[:200]}"
                )
                log(f"{backend} {sc.name}: probe answered {r.status_code}; skipped")
                continue
            bodies[sc.name] = (r.content, r.headers.get("content-type", ""), r.status_code)
            working.append(sc)
        scenarios = working
        for req in fixture_b_requests(tokens):
            r = asyncio.run(probe(srv.url, req))
            if r.status_code != 200:
                run.notes.append(f"- {backend}: fixture B warm-up {req.path}: {r.status_code}")
        rss = max(procs.peak_rss_mb(p) for p in srv.serving_pids())
        log(f"{backend}: peak RSS after fixture B requests: {rss:.0f} MB")
        run.fixture_b_rss[backend] = rss
        run.notes.append(
            f"- {backend}: peak RSS of a gateway process after one request per "
            f"dialect list over fixture B and the probes: {rss:.0f} MB"
        )
        measure_segmux(run, srv, scenarios, backend, workers, with_floor, check)
    if log_level != DEFAULT_LOG_LEVEL:
        defaults = [s for s in scenarios if s.name in DEFAULTS_SCENARIOS]
        bench_defaults(
            run,
            backend,
            url,
            tokens,
            defaults,
            loaded["segments"],
            workers=workers,
            with_floor=with_floor,
        )


def bench_defaults(
    run: Run,
    backend: str,
    url: str,
    tokens: fixtures.Tokens,
    scenarios: list[Scenario],
    fixture_ids: list[int],
    *,
    workers: int,
    with_floor: bool,
) -> None:
    """``scenarios`` again, on the same store, with ``segmux serve``'s default settings (an
    access line per request), as backend ``<backend> defaults``, each beside the floor."""
    if not scenarios:
        return
    label = f"{backend} defaults"
    run.bodies[label] = run.bodies.get(backend, {})
    with procs.segmux_server(
        url,
        tokens.admin,
        workers=workers,
        log_level=DEFAULT_LOG_LEVEL,
        log=OUT / f"segmux-{backend}-defaults.log",
    ) as srv:
        for sc in scenarios:
            asyncio.run(probe(srv.url, sc.request))  # warms what the server keeps
        check = fixture_a_check(srv.url, tokens.admin, fixture_ids)
        measure_segmux(run, srv, scenarios, label, workers, with_floor, check)


def measure_segmux(
    run: Run,
    srv: procs.Server,
    scenarios: list[Scenario],
    backend: str,
    workers: int,
    with_floor: bool,
    check: Callable[[], str | None],
) -> None:
    """:func:`measure_all` of segmux, each read beside the floor (idle while segmux is
    measured) unless ``with_floor`` is false."""
    floor: AbstractContextManager[procs.Server | None] = (
        floor_for(run, backend, scenarios) if with_floor else nullcontext()
    )
    with floor as up:
        measure_all(
            run,
            srv,
            scenarios,
            target="segmux",
            backend=backend,
            workers=workers,
            floor=up,
            fixture_check=check,
        )


@contextmanager
def floor_for(run: Run, backend: str, scenarios: list[Scenario]) -> Iterator[procs.Server]:
    """The framework floor answering each read scenario with the body this backend answered it
    with (so the same size), at ``/f/<slug>``."""
    bodies = run.bodies[backend]
    manifest: dict[str, dict[str, object]] = {}
    body_dir = OUT / "floor" / backend
    body_dir.mkdir(parents=True, exist_ok=True)
    for sc in scenarios:
        if not is_read(sc) or sc.name not in bodies:
            continue
        body, ctype, status = bodies[sc.name]
        path = body_dir / f"{sc.slug}.body"
        path.write_bytes(body)
        manifest[sc.slug] = {
            "file": str(path),
            "content_type": ctype or "application/json",
            "status": status,
        }
    mpath = body_dir / "manifest.json"
    mpath.write_text(json.dumps(manifest))
    with procs.floor_server(mpath, OUT / f"floor-{backend}.log") as srv:
        yield srv


def make_update_keys(
    run: Run, backend: str, url: str, dialect_writes: list[writes.Write], only: str | None
) -> dict[str, tuple[str, ...]]:
    """Per dialect whose update scenario is selected, the segments it will cycle over."""
    keys: dict[str, tuple[str, ...]] = {}
    for w in dialect_writes:
        if not selected(only, f"{w.dialect} update", True):
            continue
        try:
            keys[w.dialect] = asyncio.run(writes.make_keys(url, w))
        except (RuntimeError, httpx.HTTPError, KeyError) as exc:  # others' work in progress
            run.notes.append(f"- NOT MEASURED {backend} {w.dialect} update: {exc}")
            log(f"{backend} {w.dialect} update: {exc}")
    return keys


def bench_unleash(run: Run, ref: UnleashRef, only: str | None = None) -> None:
    """The real Unleash server, one instance for every run. It has no tenants: its admin list
    answers every segment it holds, so each run measures its reads first, on fixture A alone
    (checked before the run), then its writes (the update keys made just before them), then
    deletes whatever the writes made, so that the next run's reads see fixture A again."""
    srv = ref.wait()
    server = procs.Server(url=srv.url, pid=srv.pid, health="/health")
    admin = srv.admin_token
    check = fixture_a_check(srv.url, admin, ref.fixture_ids)
    reads = [
        s
        for s in unleash_scenarios(admin, srv.client_token, srv.frontend_token)
        if is_read(s) and selected(only, s.name, False)
    ]
    for sc in reads:
        r = asyncio.run(probe(srv.url, sc.request))
        if r.status_code not in sc.ok:
            raise RuntimeError(f"unleash-server {sc.name}: {r.status_code} {r.text[:300]}")
        n = len(r.json().get("segments", []))
        run.notes.append(f"- unleash-server {sc.name}: {len(r.content):,} bytes, {n} segments")
    for n in range(run.runs):
        for sc in reads:  # a cache the last run's writes invalidated is refilled unmeasured
            asyncio.run(probe(srv.url, sc.request))
        measure_all(
            run,
            server,
            reads,
            target="unleash",
            backend="-",
            workers=1,
            runs=range(n, n + 1),
            fixture_check=check,
        )
        keys = make_update_keys(run, "unleash", srv.url, writes.unleash_writes(admin), only)
        scenarios = [
            s
            for s in write_scenarios(writes.unleash_writes(admin), keys)
            if selected(only, s.name, True)
        ]
        measure_all(
            run, server, scenarios, target="unleash", backend="-", workers=1, runs=range(n, n + 1)
        )
        removed = asyncio.run(writes.remove_unleash_segments(srv.url, admin, set(ref.fixture_ids)))
        log(f"unleash-server run {n + 1}: deleted the {removed:,} segments its writes made")


# --- entry points -------------------------------------------------------------------------------


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--runs", type=int, default=env_int("BENCH_RUNS", 1))
    p.add_argument("--duration", type=float, default=float(os.environ.get("BENCH_DURATION") or 5))
    p.add_argument("--backends", default="sqlite,postgres")
    p.add_argument("--workers", type=int, default=env_int("BENCH_WORKERS", 1))
    p.add_argument(
        "--only",
        help="only scenarios whose name contains this (or any of several: a,b); "
        "`writes`: every create and update",
    )
    p.add_argument("--no-unleash", action="store_true")
    p.add_argument("--no-floor", action="store_true")
    p.add_argument(
        "--compare-workers",
        action="store_true",
        help="PostgreSQL, 10 connections, 1 then 2 workers (no references)",
    )
    p.add_argument(
        "--compare-metrics",
        action="store_true",
        help="the list scenarios at 10 connections with SEGMUX_METRICS=off and public, "
        "alternating (off first in even runs, public first in odd ones) on --backends "
        "(the metrics' cost; no references; an even --runs is fairest)",
    )
    p.add_argument(
        "--compare-log",
        action="store_true",
        help="the list scenarios and the SDKs' polls at 10 connections with SEGMUX_LOG_LEVEL="
        "warning and info (an access line per request), alternating (warning first in even "
        "runs) on --backends (the access log's cost; no references; an even --runs is fairest)",
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="prepare fixture B from scratch instead of copying a cached template",
    )
    p.add_argument("--segments", type=int, default=fixtures.B_SEGMENTS)
    p.add_argument("--individuals", type=int, default=fixtures.B_INDIVIDUALS)
    p.add_argument("--report", nargs="+", metavar="JSON", help="pool saved runs, no measuring")
    p.add_argument(
        "--write-results",
        action="store_true",
        help="replace the generated section of bench/RESULTS.md",
    )
    return p.parse_args(argv)


def pooled(paths: list[str]) -> dict[str, Any]:
    docs = [json.loads(Path(p).read_text()) for p in paths]
    doc = dict(docs[-1])
    doc["measurements"] = [m for d in docs for m in d["measurements"]]
    rss: dict[str, float] = {}
    for d in docs:
        for backend, mb in (d.get("fixture_b_rss_mb") or {}).items():
            rss[backend] = max(mb, rss.get(backend, 0.0))
    doc["fixture_b_rss_mb"] = rss
    if len(docs) > 1:
        doc["command"] = f"{docs[-1]['command']}` x {len(docs)} invocations, pooled: `"
        doc["command"] += "python -m bench.run --report " + " ".join(paths)
    return doc


def emit(doc: dict[str, Any], write: bool) -> None:
    med = report.median_table(m for m in doc["measurements"] if m["target"] != "workers")
    block = report.results_block(doc, med)
    print(block)
    if write:
        report.write_results(RESULTS, block)
        log(f"wrote the generated section of {RESULTS}")


def measure_at_10(
    run: Run,
    srv: procs.Server,
    tokens: fixtures.Tokens,
    members: str,
    keep: Callable[[Scenario], bool],
    *,
    target: str,
    backend: str,
    workers: int,
) -> None:
    """Each of segmux's scenarios that ``keep`` keeps, probed then measured at 10
    connections; one that fails is logged and skipped."""
    ids = asyncio.run(discover(srv.url, tokens))
    for sc in segmux_scenarios(tokens, ids, members):
        if not keep(sc):
            continue
        try:
            asyncio.run(probe(srv.url, sc.request))
            measure(run, srv, sc, 10, target=target, backend=backend, workers=workers)
        except (RuntimeError, httpx.HTTPError) as e:
            log(
                f"{target} {backend} {sc.name}: {type(e).__name__} {e}; alive workers: "
                f"{procs.children(srv.pid)}"
            )


def compare_workers(args: argparse.Namespace) -> None:
    run = Run(duration=args.duration, runs=args.runs)
    with stores.fresh_stores(
        ["postgres"], segments=args.segments, individuals=args.individuals, cache=not args.no_cache
    ) as made:
        url, tokens, _ = made["postgres"]
        admin = tokens.admin
        for workers in (1, 2):
            with procs.segmux_server(
                url,
                admin,
                workers=workers,
                log_level=args.log_level,
                log=OUT / f"segmux-workers-{workers}.log",
            ) as srv:
                if workers == 1:
                    asyncio.run(fixtures.load_fixture_a(srv.url, admin))
                    members = asyncio.run(fixtures.create_hal_members_segment(srv.url, tokens.bulk))
                measure_at_10(
                    run,
                    srv,
                    tokens,
                    members,
                    lambda sc: selected(args.only, sc.name, False) and not is_write(sc),
                    target="segmux",
                    backend=f"pg-w{workers}",
                    workers=workers,
                )
    med = report.median_table(run.measurements)
    print("| scenario | 1 worker req/s | p99 ms | 2 workers req/s | p99 ms | x  |")
    print("|---|---|---|---|---|---|")
    for key in sorted(k for k in med if k[1] == "pg-w1"):
        one, two = med[key], med.get(("segmux", "pg-w2", key[2], 10))
        if two:
            print(
                f"| {key[2]} | {one['rps']:,.0f} | {one['p99_ms']:.2f} | {two['rps']:,.0f} "
                f"| {two['p99_ms']:.2f} | {two['rps'] / one['rps']:.2f}x |"
            )
    save(run, args, "workers")


METRICS_BUDGET = 0.05
"""What the metrics may cost of the cached lists' throughput (docs/metrics.md)."""
LOG_BUDGET = 0.10
"""What the access log (one line per request at ``info``) may cost of the throughput of the
cached lists and the SDKs' polls (issue 21)."""


@dataclass(frozen=True)
class Pairing:
    """Two settings of ``segmux serve`` measured against each other on the same store: ``base``
    and ``other`` name the modes, ``serve`` gives a mode's (log level, SEGMUX_* settings),
    ``keep`` the scenarios, ``budget`` what ``other`` may cost of ``base``'s req/s."""

    kind: str
    base: str
    other: str
    serve: Callable[[str], tuple[str, dict[str, str]]]
    keep: Callable[[Scenario], bool]
    budget: float


def metrics_pairing(args: argparse.Namespace) -> Pairing:
    """The cached lists (kept answers: the cheapest requests, so where a fixed cost per request
    shows most) with the metrics off and on."""
    return Pairing(
        "metrics",
        "off",
        "public",
        lambda mode: (args.log_level, {"SEGMUX_METRICS": mode}),
        lambda sc: sc.name.endswith(" list") and selected(args.only, sc.name, False),
        METRICS_BUDGET,
    )


def log_pairing(args: argparse.Namespace) -> Pairing:
    """The cached lists and the SDKs' polls with an access line per request (``info``, the
    default) and without (``warning``): what the access log costs where a request costs least."""
    polls = (CLIENT_FEATURES, FLEET_FEATURES)
    return Pairing(
        "log",
        "warning",
        DEFAULT_LOG_LEVEL,
        lambda mode: (mode, {}),
        lambda sc: (
            (sc.name.endswith(" list") or sc.name in polls) and selected(args.only, sc.name, False)
        ),
        LOG_BUDGET,
    )


def compare_pair(args: argparse.Namespace, pair: Pairing) -> None:
    """Each run starts a server per mode in turn (in alternate orders) and measures the
    pairing's scenarios at 10 connections on it; prints the pooled medians of both modes."""
    run = Run(duration=args.duration, runs=1)
    backends = [b for b in args.backends.split(",") if b]
    with stores.fresh_stores(
        backends, segments=args.segments, individuals=args.individuals, cache=not args.no_cache
    ) as made:
        for backend, (url, tokens, _) in made.items():
            admin = tokens.admin
            members: str | None = None
            for n in range(args.runs):
                # base first in even runs, other first in odd ones: a drift over the minutes of
                # a run (the machine's other load, the store warming) falls on both alike
                order = (pair.base, pair.other) if n % 2 == 0 else (pair.other, pair.base)
                for mode in order:
                    log_level, settings = pair.serve(mode)
                    with procs.segmux_server(
                        url,
                        admin,
                        workers=args.workers,
                        log_level=log_level,
                        log=OUT / f"segmux-{pair.kind}-{backend}-{mode}.log",
                        settings=settings,
                    ) as srv:
                        if members is None:
                            asyncio.run(fixtures.load_fixture_a(srv.url, admin))
                            members = asyncio.run(
                                fixtures.create_hal_members_segment(srv.url, tokens.bulk)
                            )
                        measure_at_10(
                            run,
                            srv,
                            tokens,
                            members,
                            pair.keep,
                            target=f"{pair.kind}-{mode}",
                            backend=backend,
                            workers=args.workers,
                        )
                log(f"{backend}: run {n + 1} of {args.runs} done")
    print_pair(run, pair)
    save(run, args, pair.kind)


def print_pair(run: Run, pair: Pairing) -> None:
    """The pooled medians of both modes: req/s and CPU per request, and what ``other`` costs.
    CPU per request as well as throughput: on a machine doing other work the wall-clock
    figures wander, what the process spent per request much less."""
    med = report.median_table(run.measurements)
    cpu: dict[tuple[str, str, str], list[float]] = {}
    for m in run.measurements:
        if m["cpu_us_per_request"] is not None:
            cpu.setdefault((m["target"], m["backend"], m["scenario"]), []).append(
                m["cpu_us_per_request"]
            )
    base, other = f"{pair.kind}-{pair.base}", f"{pair.kind}-{pair.other}"
    print(
        f"| backend | scenario | {pair.base} req/s | {pair.other} req/s | cost "
        f"| {pair.base} CPU µs/req | {pair.other} CPU µs/req "
        f"| {pair.other} - {pair.base} | cost |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for key in sorted(k for k in med if k[0] == base):
        b, o = med[key], med.get((other, key[1], key[2], 10))
        if not o:
            continue
        cpu_b = statistics.median(cpu.get(key[:3], [0.0]))
        cpu_o = statistics.median(cpu.get((other, key[1], key[2]), [0.0]))
        cpu_cost = f"{cpu_o / cpu_b - 1:+.1%}" if cpu_b else "-"
        print(
            f"| {key[1]} | {key[2]} | {b['rps']:,.0f} | {o['rps']:,.0f} "
            f"| {1 - o['rps'] / b['rps']:+.1%} | {cpu_b:.1f} | {cpu_o:.1f} "
            f"| {cpu_o - cpu_b:+.1f} | {cpu_cost} |"
        )
    print(
        f"(runs per mode: {med[next(iter(med))]['runs'] if med else 0}; budget: "
        f"{pair.other} may cost at most {pair.budget:.0%} of {pair.base}'s throughput)"
    )


def save(
    run: Run, args: argparse.Namespace, kind: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    pg_version = asyncio.run(stores.pg_fetchval("SHOW server_version"))
    unleash_version = None if args.no_unleash or kind != "bench" else "8.2.0"
    doc = {
        "kind": kind,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "make bench"
        if os.environ.get("BENCH_FROM_MAKE")
        else "python -m bench.run " + " ".join(sys.argv[1:]),
        "duration": run.duration,
        "runs": run.runs,
        "workers": args.workers,
        "log_level": args.log_level,
        "machine": report.machine(),
        "freshness": os.environ.get("SEGMUX_FRESHNESS") or "notify",
        "versions": report.versions(pg_version, unleash_version),
        "fixture_b_rss_mb": run.fixture_b_rss,
        "notes": run.notes,
        "measurements": run.measurements,
        **(extra or {}),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    path = OUT / f"{kind}-{stamp}.json"
    path.write_text(json.dumps(doc, indent=1))
    (OUT / f"{kind}-latest.json").write_text(json.dumps(doc, indent=1))
    log(f"saved {path}")
    return doc


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    args.log_level = os.environ.get("BENCH_LOG_LEVEL") or "warning"
    if args.report:
        emit(pooled(args.report), args.write_results)
        return 0
    wrk.require_wrk()
    if args.compare_workers:
        compare_workers(args)
        return 0
    if args.compare_metrics:
        compare_pair(args, metrics_pairing(args))
        return 0
    if args.compare_log:
        compare_pair(args, log_pairing(args))
        return 0
    started = time.perf_counter()
    run = Run(duration=args.duration, runs=args.runs)
    backends = [b for b in args.backends.split(",") if b]
    ref = None if args.no_unleash else UnleashRef()
    try:
        with stores.fresh_stores(
            backends, segments=args.segments, individuals=args.individuals, cache=not args.no_cache
        ) as made:
            for backend, (_, _, how) in made.items():
                log(f"{backend}: store {how} ({time.perf_counter() - started:.0f} s so far)")
                run.notes.append(f"- {backend}: fixture B store {how}")
            if ref is not None:
                ref.wait()  # nothing else may run while segmux is measured
            for backend, (url, tokens, _) in made.items():
                bench_segmux(
                    run,
                    backend,
                    url,
                    tokens,
                    workers=args.workers,
                    log_level=args.log_level,
                    only=args.only,
                    with_floor=not args.no_floor,
                )
        if ref is not None:
            bench_unleash(run, ref, args.only)
    finally:
        if ref is not None:
            ref.close()
    run.notes.append(f"- wall time of this invocation: {time.perf_counter() - started:.0f} s")
    doc = save(run, args, "bench")
    emit(doc, args.write_results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
