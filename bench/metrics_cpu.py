"""CPU per kept list answer with ``SEGMUX_METRICS`` off and public, in process: what the
metrics cost a request where they show most, measured where the machine's other load moves the
figures least.

    python -m bench.metrics_cpu [--backend postgres|sqlite] [--requests 2000] [--rounds 8]
        [--only SCENARIO] [--only-mode off|public]

It makes a store (``bench.evaluate_cpu.scratch_store``), writes fixture A's 50 segments through
the Unleash admin API, builds two apps on that store with ``create_app`` (metrics off, metrics
public) and sends each list scenario's request (the headers of ``bench.scenarios``) to each, one
at a time as uvicorn would, off first in even rounds and on first in odd ones. Printed per
scenario: CPU µs per request (``time.process_time``), the median of the rounds, off and on, and
the difference. Same process, store and requests: what differs is what the metrics do.

On a shared machine even these move by 10 % or more. For figures that hardly move, count
instructions: run one mode and one scenario, one round, under callgrind, which writes its
counts each time ``time.process_time`` is called, so the measured requests get a file of their
own (the one ending ``.2``; its ``summary`` divided by ``--requests``)::

    PYTHONHASHSEED=0 setarch $(uname -m) -R valgrind --tool=callgrind \
        --dump-before=time_process_time --callgrind-out-file=cg.off.%p \
        python -m bench.metrics_cpu --only-mode off --only "segmux list" --rounds 1

and the same with ``public``. Fixed hashes and addresses (``setarch -R``) keep two runs of one
mode within about 1,000 instructions per request of each other.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

from bench.evaluate_cpu import call, scratch_store
from bench.fixtures import FIXTURE_A_SEGMENTS, SANDBOX, constraints_a
from bench.scenarios import ADOBE
from core.tokens import TokenService
from gateway import logging as gateway_logging
from gateway.app import create_app
from gateway.settings import Settings

MODES = ("off", "public")
Headers = list[tuple[bytes, bytes]]


def lists(token: str) -> dict[str, tuple[str, Headers]]:
    """The list scenarios of ``bench.run --compare-metrics``: path and headers."""
    bearer = [(b"authorization", f"Bearer {token}".encode())]
    json_ = [(b"accept", b"application/json")]
    adobe = [
        (b"x-api-key", b"bench"),
        (b"x-gw-ims-org-id", b"default@AdobeOrg"),
        (b"x-sandbox-name", SANDBOX.encode()),
    ]
    return {
        "adobe list": (ADOBE, [*bearer, *adobe, *json_]),
        "confidence list": ("/v1/segments", bearer),
        "hal list": (f"/{SANDBOX}/individual-segments", bearer),
        "segmux list": ("/segmux/v1/segments", bearer),
        "unleash list": ("/api/admin/segments", [(b"authorization", token.encode())]),
        "v23 list": ("/v2.3/data/segments", [*bearer, *json_]),
    }


async def fixture_a(app: Any, token: str) -> None:
    """Fixture A's segments (``bench.fixtures.load_fixture_a`` without the features)."""
    for i in range(FIXTURE_A_SEGMENTS):
        body = json.dumps(
            {"name": f"segment-{i:02d}", "description": f"fixture A {i}"}
            | {"constraints": constraints_a(i)}
        ).encode()
        headers = [
            (b"authorization", token.encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        sent = await call(app, "POST", "/api/admin/segments", headers, body)
        assert sent[0]["status"] in (200, 201), sent


async def main(args: argparse.Namespace) -> None:
    gateway_logging.configure("warning")
    async with scratch_store(args.backend, "metrics_cpu") as (url, store):
        token, _ = await TokenService(store).create(tenant="default", scope="admin", name="b")
        modes = [args.only_mode] if args.only_mode else list(MODES)
        apps = {m: create_app(Settings(database_url=url, metrics=m), store=store) for m in modes}
        await fixture_a(apps[modes[0]], token)
        scenarios = {k: v for k, v in lists(token).items() if not args.only or args.only in k}
        for app in apps.values():
            for path, headers in scenarios.values():
                for _ in range(50):  # keep the answer, fill the caches
                    sent = await call(app, "GET", path, headers)
                assert sent[0]["status"] == 200, sent
        cpu: dict[tuple[str, str], list[float]] = {}
        for n in range(args.rounds):
            for sc, (path, headers) in scenarios.items():
                # off first in even rounds, on first in odd ones: whatever the order itself
                # does (a cache warmed, the other load's rhythm) falls on both alike
                for mode in modes if n % 2 == 0 else modes[::-1]:
                    app = apps[mode]
                    started = time.process_time()
                    for _ in range(args.requests):
                        await call(app, "GET", path, headers)
                    spent = (time.process_time() - started) / args.requests * 1e6
                    cpu.setdefault((sc, mode), []).append(spent)
        print("| scenario | " + " | ".join(f"{m} CPU µs/req" for m in modes) + " | on - off |")
        print("|---" * (len(modes) + 2) + "|")
        for sc in scenarios:
            med = {m: statistics.median(cpu[(sc, m)]) for m in modes}
            diff = med["public"] - med["off"] if len(modes) == 2 else 0.0
            shown = " | ".join(f"{med[m]:.2f}" for m in modes)
            print(f"| {sc} | {shown} | {diff:+.2f} ({diff / med[modes[0]]:+.1%}) |")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--backend", default="postgres", choices=["postgres", "sqlite"])
    p.add_argument("--requests", type=int, default=2000, help="per round, scenario and mode")
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--only", help="only the scenarios whose name contains this")
    p.add_argument("--only-mode", choices=MODES, help="one app only (for callgrind)")
    asyncio.run(main(p.parse_args()))
