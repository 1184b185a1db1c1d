"""The access line's cost under ``segmux serve``: CPU per request at log level ``warning`` (no
access line) and ``info`` (the default), measured in short alternating rounds.

    PYTHONPATH=<checkout> python -m bench.log_cpu [--backend sqlite|postgres] [--rounds 8]
        [--seconds 4] [--scenario "unleash client features"] [--format json|console]

Two servers run at once on one fixture B store (``bench.stores``), one per level, each with one
worker. Each round runs wrk (10 connections) on the scenario against one server, then the other,
first one then the other in turn (A B, B A, A B, …), and reads each server's CPU time from
``/proc/<pid>/stat`` before and after: the CPU µs per request of each run, and per round their
difference and ratio. Two servers side by side instead of one restarted: a round's two runs
are seconds apart, so a change of the machine's other load falls on both. Prints each round
and the medians; the figures of ``docs/logs.md`` come from it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench import fixtures, procs, stores, wrk
from bench.scenarios import discover, probe, segmux_scenarios

LEVELS = ("warning", "info")


def _run(
    server: procs.Server, request: wrk.Request, seconds: float, out: Path
) -> tuple[float, float]:
    """One wrk run: (CPU µs per request, requests per second)."""
    before = procs.cpu_seconds(server.pid)
    res = wrk.run(
        server.url, request, connections=10, seconds=seconds, script_dir=out, name="log-cpu"
    )
    used = procs.cpu_seconds(server.pid) - before
    procs.wait_idle(server)
    return used * 1e6 / res.requests, res.rps


def main(args: argparse.Namespace) -> None:
    wrk.require_wrk()
    out = Path(tempfile.mkdtemp(prefix="segmux-log-cpu-"))
    with (
        stores.fresh_stores(
            [args.backend], segments=fixtures.B_SEGMENTS, individuals=fixtures.B_INDIVIDUALS
        ) as made,
        ExitStack() as stack,
    ):
        url, tokens, _ = made[args.backend]
        servers = {
            level: stack.enter_context(
                procs.segmux_server(
                    url,
                    tokens.admin,
                    workers=1,
                    log=out / f"segmux-{level}.log",
                    log_level=level,
                    settings={"SEGMUX_LOG_FORMAT": args.format},
                )
            )
            for level in LEVELS
        }
        first = servers[LEVELS[0]].url
        asyncio.run(fixtures.load_fixture_a(first, tokens.admin))
        members = asyncio.run(fixtures.create_hal_members_segment(first, tokens.bulk))
        ids = asyncio.run(discover(first, tokens))
        (scenario,) = [
            sc for sc in segmux_scenarios(tokens, ids, members) if sc.name == args.scenario
        ]
        for server in servers.values():
            asyncio.run(probe(server.url, scenario.request))
            _run(server, scenario.request, 2, out)  # warm: the answer kept, the code hot
        cpu: dict[str, list[float]] = {level: [] for level in LEVELS}
        rps: dict[str, list[float]] = {level: [] for level in LEVELS}
        for n in range(args.rounds):
            order = LEVELS if n % 2 == 0 else LEVELS[::-1]
            for level in order:
                us, per_second = _run(servers[level], scenario.request, args.seconds, out)
                cpu[level].append(us)
                rps[level].append(per_second)
            w, i = cpu["warning"][-1], cpu["info"][-1]
            print(
                f"round {n + 1}: warning {w:6.1f} µs/req {rps['warning'][-1]:7,.0f} req/s | "
                f"info {i:6.1f} µs/req {rps['info'][-1]:7,.0f} req/s | "
                f"info - warning {i - w:+5.1f} µs ({i / w - 1:+.1%})",
                flush=True,
            )
    diffs = [i - w for w, i in zip(cpu["warning"], cpu["info"], strict=True)]
    ratios = [w / i for w, i in zip(rps["warning"], rps["info"], strict=True)]
    w_med, i_med = statistics.median(cpu["warning"]), statistics.median(cpu["info"])
    print(
        f"{args.backend} {args.format} {args.scenario}, {args.rounds} rounds of {args.seconds} s: "
        f"CPU µs/req median warning {w_med:.1f}, info {i_med:.1f}; median of the rounds' "
        f"differences {statistics.median(diffs):+.1f} µs ({statistics.median(diffs) / w_med:+.1%}"
        f" of warning's); median req/s ratio warning/info {statistics.median(ratios):.3f}"
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--backend", default="sqlite", choices=["sqlite", "postgres"])
    p.add_argument("--format", default="json", choices=["json", "console"])
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--seconds", type=float, default=4)
    p.add_argument("--scenario", default="unleash client features")
    main(p.parse_args())
