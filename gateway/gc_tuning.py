"""Garbage-collector settings for a serving process.

With CPython's default thresholds (700, 10, 10) a young collection runs every few requests, and
whatever is alive at that moment (the objects of every request in flight) is promoted; enough
promotions trigger a full collection, which walks the whole heap: with fixture B's segments and
their cached projections that is ~100 ms during which no request moves. Under 10 connections
that made p99 ~95 ms against a p50 of ~2 ms (gen0 at 50,000: p99 5 ms, RSS +2 MB;
``bench/RESULTS.md``, ``python -m bench.run --only "unleash list"``).

A larger first generation collects as often per byte of real garbage but promotes far less
in-flight data, so full collections become rare; cycles are still collected by the same
generations, only in larger batches.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 50_000


def tune_gc() -> None:
    """Raise the first generation's threshold, keeping the older generations' ratios."""
    gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(GEN0_THRESHOLD, gen0), gen1, gen2)
