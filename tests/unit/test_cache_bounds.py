"""``core.cache.Bounded``: every cache's two bounds (entries and bytes) and its size threshold."""

from __future__ import annotations

from core.cache import Bounded


def test_the_least_recently_used_go_first_when_bytes_run_out() -> None:
    cache: Bounded[str, bytes] = Bounded(capacity=100, max_bytes=30)
    assert cache.put("a", b"a", 10) and cache.put("b", b"b", 10) and cache.put("c", b"c", 10)
    assert cache.get("a") == b"a"  # now the most recently used
    assert cache.put("d", b"d", 10)  # 40 > 30: the least recently used ("b") goes
    assert "b" not in cache and cache.get("a") == b"a" and len(cache) == 3
    assert cache.kept_bytes == 30


def test_the_entry_count_is_bounded_too() -> None:
    cache: Bounded[int, int] = Bounded(capacity=3, max_bytes=10**9)
    for n in range(10):
        cache.put(n, n, 1)
    assert len(cache) == 3 and cache.kept_bytes == 3 and cache.get(9) == 9 and 0 not in cache


def test_an_entry_over_the_threshold_is_not_kept_and_drops_what_it_replaces() -> None:
    cache: Bounded[str, str] = Bounded(capacity=10, max_bytes=100, max_entry=40)
    assert cache.put("k", "small", 5)
    assert not cache.put("k", "huge", 41)
    assert "k" not in cache and cache.kept_bytes == 0
    assert not cache.put("x", "over the whole bound", 101)


def test_replacing_an_entry_counts_only_the_new_weight() -> None:
    cache: Bounded[str, str] = Bounded(capacity=10, max_bytes=100)
    cache.put("k", "v1", 60)
    cache.put("k", "v2", 70)
    assert cache.kept_bytes == 70 and cache.get("k") == "v2"
    assert cache.pop("k") == "v2" and cache.kept_bytes == 0 and cache.pop("k") is None
