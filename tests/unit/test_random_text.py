"""Generated slugs and Confidence ids: each character uniform over its alphabet, independently
of the others (one draw of the system's randomness written in the alphabet's base)."""

from __future__ import annotations

from collections import Counter

from core.confidence_rules import new_id, new_secret
from core.model import SLUG_RE, new_slug, random_text


def test_generated_names_have_their_length_and_alphabet() -> None:
    slugs = {new_slug() for _ in range(1000)}
    assert len(slugs) == 1000
    assert all(len(s) == 20 and SLUG_RE.match(s) for s in slugs)
    assert all(len(new_id()) == 20 and new_id().isalnum() for _ in range(100))
    assert all(len(new_id(7)) == 7 for _ in range(100))
    assert all(len(new_secret()) == 32 and new_secret().isalnum() for _ in range(100))


def test_every_position_is_uniform_over_the_alphabet() -> None:
    # 4,000 draws of 16 binary positions: a fair position shows each letter 2,000 +- ~63 (sd
    # 31.6); a skewed one (the top digit of a range that is not a power of the base) would not.
    draws = [random_text("ab", 16) for _ in range(4000)]
    for position in range(16):
        counts = Counter(d[position] for d in draws)
        assert set(counts) == {"a", "b"}
        assert 1800 < counts["a"] < 2200, (position, counts)
    thirds = Counter(c for _ in range(3000) for c in random_text("xyz", 5))
    assert all(4500 < n < 5500 for n in thirds.values()) and set(thirds) == set("xyz")
