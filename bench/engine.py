"""The evaluation engines in process: p50 and p99 of one call, per engine.

Run: ``python -m bench.engine [--calls N]`` from the repository root. Three engines, each
built once as the gateway builds it per tenant revision, then called for a new context each
time (another user id, so no answer can be a repeat):

* **core evaluate, 1,000 segments**: the evaluate tenant's segments (``bench.fixtures``, 2-3
  atoms each, most of them true for the context) as one ``SegmentSet``: what
  ``POST /segmux/v1/evaluate`` runs per context.
* **Unleash engine, 100 features x 1,000 segments**: 100 features, each two 100% rollouts over 5
  segments of fixture A's two ``IN`` constraints (Unleash allows 5 segments a strategy), every
  segment used once (``compile_features``, what the client and frontend APIs evaluate). Two
  users: one no segment matches (each strategy's first constraint fails), and one every feature
  is on for (the first strategy's 10 constraints hold, then a hash).
* **Confidence resolver, 50 flags**: ``bench.resolve``'s fixture (three rules a flag, a bucketed
  segment, variants) made through the admin API of an in-process gateway on SQLite, then
  ``core.resolver.resolve`` over the tenant's compiled state for a new unit each call.

Each figure is the wall time of single calls (``perf_counter_ns``), so on a busy machine the
p99 is mostly other processes; the p50 is the engine.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.fixtures import EVAL_CONTEXT, EVAL_SEGMENTS, constraints_a, eval_expression
from bench.resolve import create_resolve_fixture
from bench.unleash_engine import rollout_feature
from core.expr.ast import encode
from core.expr.normalize import normalize
from core.expr.segment_set import SegmentSet
from core.resolver import resolve
from core.resolver_service import ResolverService
from core.store import open_store
from core.tokens import TokenService
from core.unleash_context import UnleashContext
from core.unleash_eval import FeatureEngine, compile_features

UNLEASH_FEATURES = 100
UNLEASH_SEGMENTS = 1_000
SEGMENTS_PER_FEATURE = UNLEASH_SEGMENTS // UNLEASH_FEATURES


def percentiles(samples_ns: list[int]) -> tuple[float, float]:
    """p50 and p99 in microseconds."""
    ordered = sorted(samples_ns)
    p99 = ordered[min(len(ordered) - 1, round(len(ordered) * 0.99))]
    return statistics.median(ordered) / 1000, p99 / 1000


def timed(calls: int, make: Callable[[int], Any], run: Callable[[Any], object]) -> list[int]:
    """Each call's nanoseconds; ``make(n)`` builds the n-th argument outside the timing."""
    args = [make(n) for n in range(calls)]
    out = []
    clock = time.perf_counter_ns
    for arg in args:
        started = clock()
        run(arg)
        out.append(clock() - started)
    return out


def core_set() -> SegmentSet:
    conditions = []
    for i in range(EVAL_SEGMENTS):
        norm = normalize(eval_expression(i))
        assert norm is not None
        conditions.append((f"segment-{i:04d}", encode(norm)))
    return SegmentSet(conditions)


def unleash_features() -> tuple[list[dict[str, Any]], dict[int, Any]]:
    """100 features over 1,000 segments (client-features shape, segments by id): each feature
    two strategies of 5 segments (Unleash's limit per strategy), every segment used once."""
    segments: dict[int, Any] = {i + 1: constraints_a(i) for i in range(UNLEASH_SEGMENTS)}
    features = []
    for f in range(UNLEASH_FEATURES):
        first = f * SEGMENTS_PER_FEATURE + 1
        half = SEGMENTS_PER_FEATURE // 2
        features.append(
            rollout_feature(
                f"feature-{f:03d}",
                list(range(first, first + half)),
                list(range(first + half, first + SEGMENTS_PER_FEATURE)),
            )
        )
    return features, segments


def unleash_engine() -> FeatureEngine:
    return compile_features(*unleash_features())


async def resolver_call() -> Callable[[dict[str, Any]], object]:
    """The resolve fixture in a fresh SQLite store, and a call of the resolver over it."""
    from gateway import logging as gateway_logging
    from gateway.app import create_app
    from gateway.settings import Settings

    gateway_logging.configure("warning")  # not an access line per fixture request

    url = f"sqlite:///{tempfile.mkdtemp(prefix='segmux-bench-engine-')}/segmux.db"
    store = await open_store(url)
    token, _ = await TokenService(store).create(tenant="default", scope="admin", name="bench")
    app = create_app(Settings(database_url=url, log_level="warning"), store=store)
    transport = httpx.ASGITransport(app=app)
    secret = await create_resolve_fixture("http://segmux.bench", token, transport=transport)
    service = ResolverService(store, token_key=bytes(32))  # no resolve token is signed
    client = await service.client_for(secret)
    state = await service.state(client.tenant)
    await store.close()

    def call(context: dict[str, Any]) -> object:
        return resolve(state, client, context)

    return call


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.engine", description=__doc__)
    p.add_argument("--calls", type=int, default=2000, help="timed calls per engine")
    args = p.parse_args(argv)
    n = args.calls
    rows: list[tuple[str, list[int]]] = []

    evaluate = core_set().evaluate
    rows.append(
        (
            f"core evaluate, {EVAL_SEGMENTS:,} segments",
            timed(n, lambda i: {**EVAL_CONTEXT, "userId": f"u-{i}"}, evaluate),
        )
    )
    engine = unleash_engine()
    everyone_on = engine.evaluate(UnleashContext(user_id="u-17", properties={"country": "SE"}))
    assert all(a.enabled for a in everyone_on), "the fixture should turn every feature on"
    for label, make in (
        ("a user no segment matches", lambda i: UnleashContext(user_id=f"user-{i}")),
        (
            "a user every feature is on for",
            lambda i: UnleashContext(
                user_id="u-17", session_id=f"s-{i}", properties={"country": "SE"}
            ),
        ),
    ):
        rows.append(
            (
                f"Unleash engine, {UNLEASH_FEATURES} features x {UNLEASH_SEGMENTS:,} segments, "
                + label,
                timed(n, make, engine.evaluate),
            )
        )
    call = asyncio.run(resolver_call())
    rows.append(
        (
            "Confidence resolver, 50 flags, a new unit",
            timed(n, lambda i: {"targeting_key": f"unit-{i}", "country": "SE"}, call),
        )
    )
    print(f"| engine ({n:,} calls each) | p50 µs | p99 µs |")
    print("|---|---|---|")
    for label, samples in rows:
        p50, p99 = percentiles(samples)
        print(f"| {label} | {p50:,.0f} | {p99:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
