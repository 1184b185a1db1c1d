"""The remembered totals of pages of individuals (``core.store.profile_totals``): bounded, most
recently used kept, and the plan choice they guide."""

from __future__ import annotations

from core.store.profile_totals import Counted, PageTotals, walks


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
