"""``make bench-noisy``: tenant B's latency alone, and while tenant A abuses the gateway.

    python -m bench.noisy [--duration S] [--connections N] [--backends sqlite,postgres]
                          [--only ABUSE,...] [--write-results]

Per backend: a fresh store; both tenants set up as the reliability suite sets them up
(``tests/reliability/abuse.py``: tokens from the CLI, data through the API); then, for "alone"
and for each abuse, a fresh ``segmux serve`` process: B's requests are probed once, A's abuse
starts (in a thread of its own, bounded in count and time), and each of B's requests is driven
by wrk in turn (``--duration`` seconds each, ``--connections``), while the abuse runs. A
request that takes longer than wrk's 10 s timeout is not in the latency figures: it is counted
in ``errors``, which is what to read first. After each process stops, the store's queries it
left behind (PostgreSQL goes on with a query whose client is gone) are ended, so the next
condition starts on an idle database.

Output: a markdown table on stdout, ``bench/out/noisy-<time>.json``, and with
``--write-results`` the noisy-neighbour section of ``bench/RESULTS.md`` (between its own
markers; the ``make bench`` section is left as it is).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from bench import procs, report, stores, wrk
from tests.reliability.abuse import (
    ABUSES,
    Abuse,
    AbuseReport,
    Call,
    Setup,
    Tokens,
    end_leftover_queries,
    neighbour,
    neighbour_calls,
    prepare,
)

OUT = Path(__file__).resolve().parent / "out"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
ADMIN = "smx_noisy-bench-admin"
CONDITIONS = ("alone", *ABUSES)
START, END = "<!-- bench:noisy:start -->", "<!-- bench:noisy:end -->"
WHAT = {
    "regex": '`matches("(a+)+$")` and `like "%a%a%a%a%a%!"` segments, 2 lanes of '
    "`evaluate:batch` of 1,000 contexts of 400 `a`s + `!` (client token)",
    "cache": "Confidence `view=FULL&pageSize=1000+n` over 60 allocated segments (~10 MB "
    "each), up to 200 spellings, 2 lanes (client token)",
    "hal": "HAL DYNAMIC members page, 10 at once, filter of the largest accepted number of "
    "`or`ed atoms up to 5,000, over 1,000 individuals",
    "slow": "50 connections sending a header line a second, never finishing",
}


def log(msg: str) -> None:
    print(f"[noisy {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- stores and processes ------------------------------------------------------------------------


@contextmanager
def fresh_store(backend: str) -> Iterator[str]:
    name = f"segmux_noisy_{uuid.uuid4().hex[:8]}"
    if backend == "sqlite":
        path = OUT / "db" / f"{name}.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    else:
        asyncio.run(stores.pg_fetchval(f'CREATE DATABASE "{name}"'))
        url = stores.pg_url(name)
    try:
        yield url
    finally:
        stores._drop(backend, url)


@contextmanager
def server(url: str, backend: str, tag: str, log_level: str) -> Iterator[procs.Server]:
    with procs.segmux_server(
        url, ADMIN, workers=1, log_level=log_level, log=OUT / f"noisy-{backend}-{tag}.log"
    ) as srv:
        yield srv
    if backend == "postgres":
        ended = asyncio.run(end_leftover_queries(url))
        if ended:
            log(f"{backend} {tag}: ended {ended} store session(s) the process left behind")


class AbuseThread:
    """An abuse on an event loop of its own, so wrk and the abuse run side by side."""

    def __init__(self, name: str, srv: procs.Server, setup: Setup, max_seconds: float) -> None:
        self.abuse = Abuse(name, srv.url, srv.serving_pids()[0], setup, max_seconds=max_seconds)
        self.loop = asyncio.new_event_loop()
        self.result: AbuseReport | BaseException | None = None
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.thread.start()

    def _main(self) -> None:
        try:
            self.result = self.loop.run_until_complete(self.abuse.run())
        except BaseException as exc:  # reported by stop()
            self.result = exc
        finally:
            self.loop.close()

    def stop(self, timeout: float = 90) -> AbuseReport:
        if self.thread.is_alive():
            with suppress(RuntimeError):  # the loop may have finished meanwhile
                self.loop.call_soon_threadsafe(self.abuse.stop.set)
        self.thread.join(timeout)
        if isinstance(self.result, AbuseReport):
            return self.result
        raise RuntimeError(f"abuse {self.abuse.name}: {self.result!r}")


# --- measuring -----------------------------------------------------------------------------------


def _request(call: Call) -> wrk.Request:
    return wrk.Request(
        call.method, call.path, call.headers, call.body.decode() if call.body is not None else None
    )


def measure_condition(
    url: str,
    backend: str,
    condition: str,
    setup: Setup,
    *,
    duration: float,
    connections: int,
    log_level: str,
) -> tuple[list[dict[str, Any]], str]:
    calls = neighbour_calls(setup)
    rows: list[dict[str, Any]] = []
    with server(url, backend, condition, log_level) as srv:
        warm = asyncio.run(neighbour(srv.url, calls, 0, 30))
        bad = [s for s in warm if s.status is None or s.status >= 300]
        if bad:
            raise RuntimeError(f"B's requests fail before any abuse: {bad}")
        abuse = None
        if condition != "alone":
            abuse = AbuseThread(condition, srv, setup, max_seconds=len(calls) * (duration + 5) + 60)
            time.sleep(1.0)  # A's first requests are in the gateway
        try:
            for call in calls:
                try:
                    res = wrk.run(
                        srv.url,
                        _request(call),
                        connections=connections,
                        seconds=duration,
                        script_dir=OUT / "lua",
                        name=f"noisy-{backend}-{condition}-{call.name.replace(' ', '-')}",
                    )
                except RuntimeError as exc:
                    log(f"{backend} {condition} {call.name}: {exc}")
                    rows.append(
                        {
                            "backend": backend,
                            "condition": condition,
                            "call": call.name,
                            "requests": 0,
                            "rps": 0.0,
                            "p50_ms": None,
                            "p99_ms": None,
                            "errors": -1,
                        }
                    )
                    continue
                rows.append(
                    {
                        "backend": backend,
                        "condition": condition,
                        "call": call.name,
                        "requests": res.requests,
                        "rps": res.rps,
                        "p50_ms": res.p50_ms,
                        "p99_ms": res.p99_ms,
                        "errors": res.errors,
                    }
                )
                log(
                    f"{backend:8} {condition:6} {call.name:16} {res.rps:9,.0f} req/s  "
                    f"p99 {res.p99_ms:8.2f} ms" + (f"  ERRORS {res.errors}" if res.errors else "")
                )
        finally:
            summary = abuse.stop().summary() if abuse is not None else ""
    if summary:
        log(f"{backend}: A's {summary}")
    return rows, summary


# --- the table -----------------------------------------------------------------------------------


def _cell(m: dict[str, Any] | None) -> str:
    if m is None:
        return "-"
    if m["errors"] < 0:
        return "wrk failed"
    if not m["requests"]:
        return "none answered" + (f" ({m['errors']} errors)" if m["errors"] else "")
    cell = f"{m['p99_ms']:,.1f} ms · {m['rps']:,.0f}/s"
    return cell + (f" · **{m['errors']} errors**" if m["errors"] else "")


def table(rows: list[dict[str, Any]]) -> str:
    conditions = [c for c in CONDITIONS if any(r["condition"] == c for r in rows)]
    lines = [
        "| backend | B's request | " + " | ".join(conditions) + " |",
        "|---|---|" + "---|" * len(conditions),
    ]
    by = {(r["backend"], r["call"], r["condition"]): r for r in rows}
    seen: list[tuple[str, str]] = []
    for r in rows:
        if (r["backend"], r["call"]) not in seen:
            seen.append((r["backend"], r["call"]))
    for backend, call in seen:
        lines.append(
            f"| {backend} | {call} | "
            + " | ".join(_cell(by.get((backend, call, c))) for c in conditions)
            + " |"
        )
    return "\n".join(lines)


def results_block(doc: dict[str, Any]) -> str:
    m, v = doc["machine"], doc["versions"]
    lines = [
        f"## Noisy neighbours (`make bench-noisy`) — {doc['date']}",
        "",
        f"Command: `{doc['command']}` ({doc['duration']:g} s per wrk run, "
        f"{doc['connections']} connection(s); one `segmux serve` process per condition).",
        f"Machine: {m['cores']} cores, {m['cpu']}, {m['ram']} RAM, Linux {m['kernel']}; "
        f"load average at start {m['loadavg']}."
        + (
            " The machine was busy with other work (load above its core count): every figure, "
            "alone ones included, is noisy."
            if report._busy(m)
            else ""
        ),
        "Versions: "
        + ", ".join(f"{k} {val}" for k, val in v.items() if k not in ("node", "unleash-server"))
        + ".",
        "",
        "Tenant B's p99 and req/s for each of its requests, alone and while tenant A runs each "
        "abuse on the same process and store (cells: p99 · req/s · errors; an error is a "
        "non-2xx answer or no answer within wrk's 10 s, and such requests are not in the "
        "p99; *none answered*: not one request came back within the run, the gateway stalled "
        "for B). The abuses:",
        "",
        *[f"- **{name}**: {what}" for name, what in WHAT.items()],
        "",
        table(doc["rows"]),
        "",
        "What A got, per backend and abuse:",
        "",
        *[f"- {line}" for line in doc["notes"]],
    ]
    return "\n".join(lines)


def write_results(path: Path, block: str) -> None:
    """Replace this harness's section of RESULTS.md (between its markers), or append it."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    section = f"{START}\n{block}\n{END}"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


# --- entry point ---------------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.noisy",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--duration", type=float, default=float(os.environ.get("BENCH_DURATION") or 5))
    p.add_argument("--connections", type=int, default=2)
    p.add_argument("--backends", default="sqlite,postgres")
    p.add_argument("--only", help="comma-separated abuses (default: all of them)")
    p.add_argument(
        "--write-results",
        action="store_true",
        help="replace the noisy-neighbour section of bench/RESULTS.md",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    wrk.require_wrk()
    log_level = os.environ.get("BENCH_LOG_LEVEL") or "warning"
    only = [a for a in (args.only or ",".join(ABUSES)).split(",") if a]
    unknown = set(only) - set(ABUSES)
    if unknown:
        raise SystemExit(f"unknown abuse(s): {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    machine = report.machine()
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for backend in [b for b in args.backends.split(",") if b]:
        with fresh_store(backend) as url:
            tokens = Tokens.create(url)
            with server(url, backend, "setup", log_level) as srv:
                setup = asyncio.run(prepare(srv.url, tokens))
            if setup.filter_refusal:
                notes.append(
                    f"{backend}: a 5,000-atom HAL filter was refused "
                    f"({setup.filter_refusal[:160]}); the abuse used "
                    f"{setup.filter_atoms} atoms, the largest accepted"
                )
            log(f"{backend}: tenants ready ({time.perf_counter() - started:.0f} s so far)")
            for condition in ("alone", *only):
                got, summary = measure_condition(
                    url,
                    backend,
                    condition,
                    setup,
                    duration=args.duration,
                    connections=args.connections,
                    log_level=log_level,
                )
                rows += got
                if summary:
                    notes.append(f"{backend}, {summary}")
    notes.append(f"wall time of this invocation: {time.perf_counter() - started:.0f} s")
    doc = {
        "kind": "noisy",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "make bench-noisy"
        if os.environ.get("BENCH_FROM_MAKE")
        else "python -m bench.noisy " + " ".join(sys.argv[1:]),
        "duration": args.duration,
        "connections": args.connections,
        "machine": machine,
        "versions": report.versions(asyncio.run(stores.pg_fetchval("SHOW server_version")), None),
        "rows": rows,
        "notes": notes,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    (OUT / f"noisy-{stamp}.json").write_text(json.dumps(doc, indent=1))
    block = results_block(doc)
    print(block)
    if args.write_results:
        write_results(RESULTS, block)
        log(f"wrote the noisy-neighbour section of {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
