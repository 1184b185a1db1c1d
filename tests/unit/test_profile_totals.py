"""The remembered totals of pages of individuals (``core.store.profile_totals``): bounded, most
recently used kept, and the plan choice they guide; the counts made outside requests: one per
listing, a bounded number, a refusal remembered at its revision."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from core.errors import ConditionTooCostly, Unavailable
from core.store.profile_totals import Counted, PageTotals, TotalCounts, walks


def test_the_least_recently_used_total_goes_first() -> None:
    totals = PageTotals(max_entries=2)
    totals.put("a", Counted(1, 10, 100))
    totals.put("b", Counted(1, 20, 100))
    assert totals.get("a") == Counted(1, 10, 100)  # now the most recently used
    totals.put("c", Counted(2, 30, 100))
    assert totals.get("b") is None
    assert totals.get("a") == Counted(1, 10, 100) and totals.get("c") == Counted(2, 30, 100)
    totals.put("a", Counted(3, 11, 101))  # a newer count replaces the old one
    assert totals.get("a") == Counted(3, 11, 101)


def test_walking_the_creation_index_is_chosen_when_matches_are_common() -> None:
    # 2,000 of 100,000 match: the first 20 are ~1,000 rows into the index, fewer than the
    # 2,000 or more candidates the GIN index would give
    assert walks(Counted(1, 2_000, 100_000), 20)
    # one in 10,000: the GIN index
    assert not walks(Counted(1, 10, 100_000), 20)
    # deep pages need more matches before they start
    assert not walks(Counted(1, 2_000, 100_000), 2_020)
    # nothing known, or nothing matched: the GIN index
    assert not walks(None, 20)
    assert not walks(Counted(1, 0, 100_000), 20)


async def test_one_count_per_listing_and_a_bounded_number_running() -> None:
    counts = TotalCounts(running=2, at_once=1)
    release = asyncio.Event()
    started: list[str] = []

    def counter(name: str) -> Callable[[], Awaitable[Counted]]:
        async def count() -> Counted:
            started.append(name)
            await release.wait()
            return Counted(1, len(name), 100)

        return count

    a = counts.start("a", counter("a"))
    assert counts.start("a", counter("a again")) is a  # joined, not started again
    b = counts.start("b", counter("bb"))
    with pytest.raises(Unavailable):
        counts.start("c", counter("c"))  # two started and not finished: retry later
    await asyncio.sleep(0)
    assert started == ["a"]  # one at a time: b waits for a place
    release.set()
    assert (await a, await b) == (Counted(1, 1, 100), Counted(1, 2, 100))
    assert started == ["a", "bb"]
    assert counts.outside("a") and not counts.outside("c")  # counted here from now on


def test_a_refused_count_is_remembered_at_its_revision_only() -> None:
    counts = TotalCounts()
    counts.refuse("a", 7, ConditionTooCostly("expression", "too long"))
    again = counts.refused("a", 7)
    assert again is not None and again.reason == "too long"
    assert counts.refused("a", 8) is None and counts.refused("b", 7) is None
