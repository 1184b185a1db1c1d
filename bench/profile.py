"""Where a scenario's time goes: ``segmux serve`` under wrk with py-spy sampling it.

    python -m bench.profile [--backend postgres] [--scenario "unleash list"] [--seconds 10]
                            [--connections 10] [--top 25] [--segments N] [--individuals N]

Prepares a fresh store exactly as ``make bench`` does (fixture A through the Unleash API,
fixture B and the evaluate tenant in bulk), then for each chosen scenario runs wrk for
``--seconds`` while ``py-spy record --format raw`` samples the gateway process (``pip install
py-spy``; it needs ptrace rights over the process, which root or the same user has). Prints the
top frames by inclusive and by own time (samples aggregated per function), and keeps the
collapsed stacks under ``bench/out/profile/`` (load them in speedscope or flamegraph.pl).

Every scenario of ``bench.run`` can be profiled, the writes too (``"unleash update"``: its
segments to cycle over are made first, as ``bench.run`` does). Over the middle 60% of the wrk
run, the CPU per request of the gateway and of the PostgreSQL server's processes (all of them,
and those connected to this store's database) is printed too: where a write's time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from bench import fixtures, procs, stores, writes, wrk
from bench.resolve import create_resolve_fixture
from bench.run import OUT
from bench.scenarios import Scenario, discover, is_write, probe, segmux_scenarios

OWN = ("core/", "dialects/", "gateway/")
FLOOR = ("starlette/", "uvicorn/", "asyncio/", "httptools/", "anyio/")


def side(frame: str) -> str | None:
    """``segmux``, ``floor`` or None for one py-spy frame (``function (file:line)``, the file
    relative to its package root as py-spy shows it). ``gateway/cli.py`` starts uvicorn, so
    every stack has it at its root: it is not counted."""
    where = frame.rsplit("(", 1)[-1]
    if where.startswith(OWN) and not where.startswith("gateway/cli.py"):
        return "segmux"
    if where.startswith(FLOOR):
        return "floor"
    return None


def shares(raw: Path) -> Counter[str]:
    """Samples per side (``segmux``, ``floor``, ``idle``) of py-spy's collapsed stacks."""
    found: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [f.strip() for f in stack.split(";") if f.strip()]
        kind = next((s for f in reversed(frames) if (s := side(f)) is not None), "idle")
        found[kind] += int(count)
    return found


def summarise(raw: Path, top: int) -> str:
    """Top frames of py-spy's collapsed stacks (``a;b;c N`` per line): inclusive and own."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [f.strip() for f in stack.split(";") if f.strip()]
        for frame in set(frames):
            inclusive[frame] += n
        if frames:
            own[frames[-1]] += n
    if not total:
        return "no samples"
    out = [f"{total} samples", "", "inclusive (frame and everything it calls):"]
    out += [f"  {n / total:6.1%}  {f}" for f, n in inclusive.most_common(top)]
    out += ["", "own time (the frame itself, leaf of the stack):"]
    out += [f"  {n / total:6.1%}  {f}" for f, n in own.most_common(top)]
    return "\n".join(out)


def py_spy() -> str:
    """The py-spy executable (beside this Python's, else on the PATH)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        raise SystemExit("py-spy is not installed: pip install py-spy")
    return spy


def spy_record(
    spy: str, pid: int, seconds: float, raw: Path, *options: str
) -> subprocess.Popen[bytes]:
    """``py-spy record`` of ``pid`` for ``seconds`` at 200 Hz, collapsed stacks into ``raw``,
    without pausing the process; started in the background."""
    return subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(int(seconds)),
            "--rate",
            "200",
            "--format",
            "raw",
            *options,
            "--output",
            str(raw),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def update_keys(base: str, token: str, wanted: list[str]) -> dict[str, tuple[str, ...]]:
    """Per dialect whose update scenario is wanted, the segments it cycles over (made through
    its create on the writes tenant of ``token``)."""
    return {
        w.dialect: asyncio.run(writes.make_keys(base, w))
        for w in writes.segmux_writes(token)
        if f"{w.dialect} update" in wanted
    }


def cpu_groups(backend: str, url: str, gateway: int) -> dict[str, Callable[[], list[int]]]:
    """The processes whose CPU a run is split over: the gateway and, on PostgreSQL, the
    server's processes (every one: WAL writer, checkpointer and other databases' backends too)
    and the backends of this store's database alone (the server is shared)."""
    groups: dict[str, Callable[[], list[int]]] = {"gateway": lambda: [gateway]}
    if backend == "postgres":
        database = urlsplit(url).path.lstrip("/")
        groups["postgres (all)"] = procs.postgres_pids
        groups["postgres (this store)"] = lambda: procs.postgres_pids(database)
    return groups


def print_cpu_split(window: procs.CpuWindow, rps: float) -> None:
    """CPU µs per request of each group over the window, at the run's mean rate."""
    served = rps * window.window
    if not served:
        return
    parts = ", ".join(f"{k} {cpu * 1e6 / served:,.0f} µs" for k, cpu in window.cpu.items())
    print(
        f"\nCPU per request over the middle {window.window:.1f} s of the run (at its mean "
        f"{rps:,.0f} req/s): {parts}"
    )


def scenario_named(by_name: dict[str, Scenario], name: str) -> Scenario:
    if name not in by_name:
        raise SystemExit(f"no scenario {name!r}; there are: {', '.join(sorted(by_name))}")
    return by_name[name]


def main() -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.profile",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--backend", default="postgres", choices=["postgres", "sqlite"])
    p.add_argument(
        "--scenario", action="append", help="scenario name (repeatable); default: unleash list"
    )
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--connections", type=int, default=10)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--segments", type=int, default=fixtures.B_SEGMENTS)
    p.add_argument("--individuals", type=int, default=fixtures.B_INDIVIDUALS)
    args = p.parse_args()
    spy = py_spy()
    wanted = args.scenario or ["unleash list"]
    out = OUT / "profile"
    out.mkdir(parents=True, exist_ok=True)
    with stores.fresh_stores(
        [args.backend], segments=args.segments, individuals=args.individuals
    ) as made:
        url, tokens, _ = made[args.backend]
        admin = tokens.admin
        with procs.segmux_server(
            url, admin, workers=1, log_level="warning", log=out / "segmux.log"
        ) as srv:
            asyncio.run(fixtures.load_fixture_a(srv.url, admin))
            members = asyncio.run(fixtures.create_hal_members_segment(srv.url, tokens.bulk))
            ids = asyncio.run(discover(srv.url, tokens))
            if "confidence resolve 50 flags" in wanted:
                ids["resolve_secret"] = asyncio.run(create_resolve_fixture(srv.url, tokens.resolve))
            keys = update_keys(srv.url, tokens.writes, wanted)
            by_name = {s.name: s for s in segmux_scenarios(tokens, ids, members, keys)}
            for name in wanted:
                sc = scenario_named(by_name, name)
                r = asyncio.run(probe(srv.url, sc.request))
                if r.status_code not in sc.ok:
                    print(f"{name}: the probe answered {r.status_code} {r.text[:200]}")
                    continue
                raw = out / f"{sc.slug}.txt"
                record = spy_record(spy, srv.pid, args.seconds, raw, "--function")
                time.sleep(1)  # py-spy attaches before the load starts
                cpu_before = procs.cpu_seconds(srv.pid)
                window = procs.CpuWindow(args.seconds, cpu_groups(args.backend, url, srv.pid))
                res = wrk.run(
                    srv.url,
                    sc.request,
                    connections=args.connections,
                    seconds=args.seconds,
                    script_dir=out / "lua",
                    name=sc.slug,
                )
                cpu = procs.cpu_seconds(srv.pid) - cpu_before
                window.join()
                _, err = record.communicate(timeout=args.seconds + 60)
                if record.returncode != 0:
                    print(f"py-spy failed: {err.decode()[-500:]}", file=sys.stderr)
                    continue
                print(
                    f"\n## {name} ({args.backend}, {args.connections} connections): "
                    f"{res.rps:,.0f} req/s, p50 {res.p50_ms:.2f} ms, p99 {res.p99_ms:.2f} ms "
                    f"(under py-spy)\n"
                )
                print(summarise(raw, args.top))
                counts = shares(raw)
                busy = counts["segmux"] + counts["floor"]
                per_request = cpu * 1e6 / res.requests if res.requests else 0.0
                if busy:
                    own = counts["segmux"] / busy
                    print(
                        f"\nCPU per request {per_request:,.0f} µs: segmux's own code {own:.1%} "
                        f"of busy samples ({own * per_request:,.0f} µs), the server "
                        f"{1 - own:.1%} (bench.frontend_profile's method)"
                    )
                print_cpu_split(window, res.rps)
                if is_write(sc) and res.errors:
                    print(f"{res.errors} of {res.requests} writes failed: not a write's cost")
                print(f"\ncollapsed stacks: {raw}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
