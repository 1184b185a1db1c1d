"""Confidence's 1,000,000 buckets: the hash of a unit, proportions, and bitsets of buckets.

A bitset is a Python ``int`` whose bit *i* is bucket *i*: unions, intersections and counts are
single C-level operations on 125,000-byte numbers. On the wire and in the stores it is the
125,000 bytes of ``int.to_bytes(…, "little")``, which is exactly Confidence's LSB-first layout
(bit *i* = ``(bytes[i // 8] >> (i % 8)) & 1``, like Rust ``BitVec<u8, Lsb0>``).

Drawing *k* random buckets out of an allowed set stays fast without a per-bucket Python loop:
every allowed bucket is kept independently with probability ≈ k/m (built from a few random
million-bit numbers with ``&``/``|``), then the few hundred surplus or missing buckets are fixed
up one by one. Every step treats the allowed buckets alike, so the result is a uniformly random
k-subset.
"""

from __future__ import annotations

import functools
import random
import re
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation

from core.errors import Invalid
from core.murmur3 import murmur3_x64_128

BUCKETS = 1_000_000
BITSET_BYTES = BUCKETS // 8
FULL = (1 << BUCKETS) - 1
SALT = "MegaSalt-"

_PROPORTION_RE = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,4})?$")
MAX_PROPORTION_TEXT = 100
_ENUMERATE_LIMIT = 1 << 16
"""Sets this small are listed bucket by bucket; larger ones are sampled by rejection."""
_SMALL_DRAW = 1024
_PRECISION_BITS = 16
_ONE = re.compile("1")
_CHUNK = 1024
_ZERO_CHUNK = bytes(_CHUNK)


@functools.lru_cache(maxsize=4096)
def bucket(account_id: str, unit: str) -> int:
    """The bucket of ``unit`` in account ``account_id``: ``(h1 >>> 4) % 1,000,000`` of
    MurmurHash3_x64_128 (seed 0) over ``"MegaSalt-<account>|<unit>"`` in UTF-8. The last few
    thousand are kept (a pure function): a resolve asks for one unit's bucket once per flag."""
    key = f"{SALT}{account_id}|{unit}".encode("utf-8", "surrogatepass")
    h1, _ = murmur3_x64_128(key)
    return (h1 >> 4) % BUCKETS


# --- proportions -------------------------------------------------------------------------------


def parse_proportion(text: str, field: str = "allocation.proportion") -> Decimal:
    """A ``google.type.Decimal`` string in [0, 1], exactly (no binary floating point)."""
    if len(text) > MAX_PROPORTION_TEXT or not _PROPORTION_RE.match(text):
        raise Invalid(field, f"{text[:40]!r} is not a decimal number")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only numbers
        raise Invalid(field, f"{text[:40]!r} is not a decimal number") from exc
    if not Decimal(0) <= value <= Decimal(1):
        raise Invalid(field, f"{text} is outside [0, 1]")
    return value


def bucket_count(proportion: str | Decimal) -> int:
    """round(p x 1,000,000), half to even, in exact decimal: ``"0.5556"`` → 555,600."""
    value = parse_proportion(proportion) if isinstance(proportion, str) else proportion
    # Enough digits that scaling by 10^6 is exact whatever the input's length.
    ctx = Context(prec=MAX_PROPORTION_TEXT + 20, rounding=ROUND_HALF_EVEN)
    return int(value.scaleb(6, ctx).to_integral_value(rounding=ROUND_HALF_EVEN, context=ctx))


def share(buckets: int) -> str:
    """``buckets`` / 1,000,000 as the shortest exact decimal string (``"0.42"``, ``"1"``)."""
    text = format(Decimal(buckets).scaleb(-6), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


# --- bitsets -----------------------------------------------------------------------------------


def to_bytes(bitset: int) -> bytes:
    return bitset.to_bytes(BITSET_BYTES, "little")


def from_bytes(data: bytes | None) -> int:
    """A stored bitset; ``None`` (nothing stored) is the full set."""
    return FULL if data is None else int.from_bytes(data, "little") & FULL


def has_bucket(data: bytes | None, index: int) -> bool:
    """Whether bucket ``index`` is set, without building the million-bit number; a bitset
    shorter than the index does not hold it."""
    if data is None:
        return True
    byte = index >> 3
    return byte < len(data) and bool(data[byte] >> (index & 7) & 1)


def members(bitset: int) -> list[int]:
    """The buckets of a bitset, ascending (for small sets: one Python step per bucket)."""
    data = bitset.to_bytes((bitset.bit_length() + 7) // 8, "little")
    found: list[int] = []
    for start in range(0, len(data), _CHUNK):
        chunk = data[start : start + _CHUNK]
        if chunk == _ZERO_CHUNK[: len(chunk)]:
            continue  # a C comparison skips empty stretches of sparse sets
        base = start * 8
        bits = format(int.from_bytes(chunk, "little"), "b")[::-1]  # bit i at index i
        found.extend(base + m.start() for m in _ONE.finditer(bits))
    return found


def from_members(indices: list[int]) -> int:
    data = bytearray(BITSET_BYTES)
    for i in indices:
        data[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(data, "little")


def draw(k: int, allowed: int, rng: random.Random) -> int:
    """A uniformly random k-subset of the buckets in ``allowed`` (``ValueError`` if fewer)."""
    size = allowed.bit_count()
    if k < 0 or k > size:
        raise ValueError(f"cannot draw {k} of {size} buckets")
    if k == size:
        return allowed
    if k > size // 2:
        return allowed & ~draw(size - k, allowed, rng)
    if k <= _SMALL_DRAW or size <= _ENUMERATE_LIMIT:
        return _pick(k, allowed, size, rng)
    scale = 1 << _PRECISION_BITS
    q = min(max(round(k * scale / size), 1), scale - 1)
    kept = _bernoulli(q, allowed.bit_length(), rng) & allowed
    count = kept.bit_count()
    if count > k:
        kept &= ~_pick(count - k, kept, count, rng)
    elif count < k:
        kept |= _pick(k - count, allowed & ~kept, size - count, rng)
    return kept


def _bernoulli(q: int, width: int, rng: random.Random) -> int:
    """``width`` independent bits, each 1 with probability q / 2**16: the binary digits of q,
    least significant first, turn a fair random bit into ``p/2`` (``&``) or ``1/2 + p/2``
    (``|``)."""
    bits = _PRECISION_BITS
    while q & 1 == 0:  # trailing zero digits would only AND with an all-zero start
        q >>= 1
        bits -= 1
    x = 0
    for j in range(bits):
        r = rng.getrandbits(width)
        x = (x | r) if q >> j & 1 else (x & r)
    return x


def _pick(k: int, allowed: int, size: int, rng: random.Random) -> int:
    """k of the ``size`` buckets of ``allowed``, one at a time (k small, or the set small)."""
    if k <= 0:
        return 0
    if k >= size:
        return allowed
    if size <= _ENUMERATE_LIMIT:
        return from_members(rng.sample(members(allowed), k))
    if k > size // 2:
        return allowed & ~_pick(size - k, allowed, size, rng)
    # Rejection sampling: a large set holds at least 1 bucket in 16, so tries stay near 16k.
    data = allowed.to_bytes((allowed.bit_length() + 7) // 8, "little")
    limit = allowed.bit_length()
    chosen = bytearray(len(data))
    got = 0
    while got < k:
        i = rng.randrange(limit)
        byte, bit = i >> 3, 1 << (i & 7)
        if data[byte] & bit and not chosen[byte] & bit:
            chosen[byte] |= bit
            got += 1
    return int.from_bytes(chosen, "little")


def grow_or_shrink(current: int, k: int, rng: random.Random, *, free: int = FULL) -> int:
    """``current`` changed to hold ``k`` buckets, keeping what it can: new buckets come at
    random from ``free`` minus ``current``, dropped ones are random."""
    have = current.bit_count()
    if k > have:
        return current | draw(k - have, free & ~current, rng)
    if k < have:
        return current & ~draw(have - k, current, rng)
    return current
