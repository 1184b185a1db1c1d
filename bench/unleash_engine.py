"""The Unleash evaluation engine in process: µs per user for fixture A's shape.

Run: ``python -m bench.unleash_engine`` from the repository root. Fixture A's features (10
features, each a ``flexibleRollout`` at 100% over 2 segments of 2 ``IN`` constraints, the shape
``bench.fixtures.load_fixture_a`` writes) are compiled once, as ``core.flags`` does per tenant
revision; then every call evaluates all 10 features for a user never seen before, which is what
``GET /api/frontend`` pays per request besides HTTP. Three user mixes, because the answer's cost
depends on how far each feature's constraints get: a random user (no segment matches; the first
constraint fails), a user in every segment's ``userId`` list but the wrong country, and a user
every feature is on for (all constraints hold, then the rollout hash and a variant pick).
Prints the median and the best of several timed runs.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fixtures import FIXTURE_A_FEATURES, FIXTURE_A_SEGMENTS, constraints_a
from core.unleash_context import UnleashContext
from core.unleash_eval import FeatureEngine, compile_features

RUNS = 7
USERS_PER_RUN = 5_000


def rollout_feature(name: str, *strategies: list[int]) -> dict[str, Any]:
    """A client-features feature as the fixtures write it: on in the environment, one 100%
    ``flexibleRollout`` strategy over the segments (ids) of each list."""
    return {
        "name": name,
        "enabled": True,
        "impressionData": False,
        "strategies": [
            {
                "name": "flexibleRollout",
                "constraints": [],
                "parameters": {"rollout": "100", "stickiness": "default", "groupId": name},
                "variants": [],
                "segments": segments,
            }
            for segments in strategies
        ],
        "variants": [],
    }


def fixture_a_engine() -> FeatureEngine:
    segments: dict[int, Any] = {i + 1: constraints_a(i) for i in range(FIXTURE_A_SEGMENTS)}
    features = [
        rollout_feature(f"feature-{f:02d}", [2 * f + 1, 2 * f + 2])
        for f in range(FIXTURE_A_FEATURES)
    ]
    return compile_features(features, segments)


def per_user_us(engine: FeatureEngine, contexts: list[UnleashContext]) -> tuple[float, float]:
    """µs per user (all features evaluated) over ``RUNS`` timed passes: the median and the
    best (on a shared machine the best is the closest to the cost itself)."""
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        for context in contexts:
            engine.evaluate(context)
        samples.append((time.perf_counter() - started) / len(contexts) * 1e6)
    return statistics.median(samples), min(samples)


def main() -> None:
    engine = fixture_a_engine()
    mixes = {
        "random user (no segment matches)": [
            UnleashContext(user_id=f"user-{n}", app_name="web", properties={"country": "ES"})
            for n in range(USERS_PER_RUN)
        ],
        "listed user, wrong country (first segment's 2nd constraint fails)": [
            UnleashContext(user_id="u-17", session_id=f"s-{n}", properties={"country": "ES"})
            for n in range(USERS_PER_RUN)
        ],
        "u-17 in SE (every feature on: 4 constraints, a hash)": [
            UnleashContext(user_id="u-17", session_id=f"s-{n}", properties={"country": "SE"})
            for n in range(USERS_PER_RUN)
        ],
    }
    on = sum(a.enabled for a in engine.evaluate(mixes[list(mixes)[-1]][0]))
    assert on == FIXTURE_A_FEATURES, on
    print(f"| fixture A, {FIXTURE_A_FEATURES} features x 2 segments | µs per user: median | best |")
    print("|---|---|---|")
    for label, contexts in mixes.items():
        median, best = per_user_us(engine, contexts)
        print(f"| {label} | {median:.1f} | {best:.1f} |")


if __name__ == "__main__":
    main()
