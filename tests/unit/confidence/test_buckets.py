"""Proportions in exact decimal, bitsets in Confidence's layout, and uniform random draws."""

from __future__ import annotations

import base64
import random
from decimal import Decimal

import pytest

from core import buckets as b
from core.errors import Invalid


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("0.5556", 555_600),
        ("1", 1_000_000),
        ("1.0", 1_000_000),
        ("0", 0),
        ("0.1", 100_000),
        ("0.0000005", 0),  # half to even: 0.5 -> 0
        ("0.0000015", 2),  # 1.5 -> 2
        ("0.0000025", 2),  # 2.5 -> 2
        ("0.33333333333333333333333333333333333333", 333_333),
        ("5e-1", 500_000),
        (".25", 250_000),
        ("0.12345650000000000000000000000000000001", 123_457),  # exact: just above half
    ],
)
def test_bucket_count_is_exact_half_even(text: str, count: int) -> None:
    assert b.bucket_count(text) == count


@pytest.mark.parametrize(
    "text", ["", "abc", "1.5", "-0.1", "NaN", "Infinity", "1e", "0x1", "0." + "1" * 200, " 0.5"]
)
def test_bad_proportions(text: str) -> None:
    with pytest.raises(Invalid):
        b.parse_proportion(text)


def test_share_is_the_shortest_exact_decimal() -> None:
    assert [b.share(n) for n in (0, 1, 420_000, 1_000_000, 555_600)] == [
        "0",
        "0.000001",
        "0.42",
        "1",
        "0.5556",
    ]
    assert Decimal(b.share(123_457)) * 1_000_000 == 123_457


def test_bitset_layout_is_lsb_first() -> None:
    bitset = b.from_members([0, 9, 999_999])
    data = b.to_bytes(bitset)
    assert len(data) == 125_000
    assert data[0] == 0b0000_0001 and data[1] == 0b0000_0010 and data[-1] == 0b1000_0000
    assert b.has_bucket(data, 9) and not b.has_bucket(data, 8)
    assert not b.has_bucket(data[:1], 9)  # shorter than the index: not a member
    assert b.has_bucket(None, 123)  # nothing stored: every bucket
    assert b.from_bytes(base64.b64decode(base64.b64encode(data))) == bitset
    assert b.members(bitset) == [0, 9, 999_999]


@pytest.mark.parametrize("k", [0, 1, 7, 1024, 1025, 65_536, 250_000, 500_000, 999_999, 10**6])
def test_draw_takes_exactly_k_of_the_allowed(k: int) -> None:
    rng = random.Random(k)
    drawn = b.draw(k, b.FULL, rng)
    assert drawn.bit_count() == k


@pytest.mark.parametrize("k", [0, 3, 2000, 60_000, 150_000, 299_999, 300_000])
def test_draw_stays_inside_the_allowed(k: int) -> None:
    rng = random.Random(k)
    taken = b.draw(700_000, b.FULL, rng)
    drawn = b.draw(k, b.FULL & ~taken, rng)
    assert drawn.bit_count() == k
    assert drawn & taken == 0


def test_draw_refuses_more_than_allowed() -> None:
    with pytest.raises(ValueError, match="cannot draw"):
        b.draw(11, b.from_members(list(range(10))), random.Random(1))


def test_draws_are_scattered_and_uniform() -> None:
    # Not a contiguous range: every tenth of the space gets its share (binomial, within 6 sigma).
    rng = random.Random(42)
    drawn = b.members(b.draw(100_000, b.FULL, rng))
    per_tenth = [0] * 10
    for i in drawn:
        per_tenth[i // 100_000] += 1
    assert all(abs(n - 10_000) < 600 for n in per_tenth)
    # Independent draws overlap about p1 * p2.
    one = b.draw(500_000, b.FULL, rng)
    two = b.draw(500_000, b.FULL, rng)
    assert abs((one & two).bit_count() - 250_000) < 3_000


def test_each_bucket_is_equally_likely_in_a_small_allowed_set() -> None:
    allowed = b.from_members([3, 500_000, 999_998, 77, 1234])
    counts = dict.fromkeys(b.members(allowed), 0)
    rng = random.Random(7)
    for _ in range(5000):
        for i in b.members(b.draw(2, allowed, rng)):
            counts[i] += 1
    assert all(abs(n - 2000) < 200 for n in counts.values())


def test_grow_or_shrink_keeps_what_it_can() -> None:
    rng = random.Random(3)
    current = b.draw(300_000, b.FULL, rng)
    grown = b.grow_or_shrink(current, 450_000, rng)
    assert grown.bit_count() == 450_000 and grown & current == current
    shrunk = b.grow_or_shrink(current, 100_000, rng)
    assert shrunk.bit_count() == 100_000 and shrunk & ~current == 0
    assert b.grow_or_shrink(current, 300_000, rng) == current
