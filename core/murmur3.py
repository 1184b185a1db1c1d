"""MurmurHash3 (Austin Appleby's public-domain reference): ``MurmurHash3_x64_128`` and
``MurmurHash3_x86_32``, bit for bit.

Confidence's resolver buckets a unit with the first 64-bit half of the 128-bit hash, once per
resolve: pure Python, its keys are short (``"MegaSalt-<account>|<unit>"``), so the per-block loop
costs microseconds. Unleash's SDKs bucket users (rollouts, variants) with the 32-bit one, up to
twice per feature of a per-user answer: that one is ``mmh3``'s C implementation.
"""

from __future__ import annotations

import mmh3

_MASK = (1 << 64) - 1
_C1 = 0x87C37B91114253D5
_C2 = 0x4CF5AD432745937F


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _MASK


def _fmix(k: int) -> int:
    k ^= k >> 33
    k = (k * 0xFF51AFD7ED558CCD) & _MASK
    k ^= k >> 33
    k = (k * 0xC4CEB9FE1A85EC53) & _MASK
    k ^= k >> 33
    return k


def _mix_k1(k1: int) -> int:
    return (_rotl((k1 * _C1) & _MASK, 31) * _C2) & _MASK


def _mix_k2(k2: int) -> int:
    return (_rotl((k2 * _C2) & _MASK, 33) * _C1) & _MASK


def murmur3_x64_128(data: bytes, seed: int = 0) -> tuple[int, int]:
    """The two unsigned 64-bit halves ``(h1, h2)`` of MurmurHash3_x64_128(data, seed)."""
    length = len(data)
    h1 = h2 = seed & _MASK
    end = length - length % 16
    for i in range(0, end, 16):
        k1 = int.from_bytes(data[i : i + 8], "little")
        k2 = int.from_bytes(data[i + 8 : i + 16], "little")
        h1 ^= _mix_k1(k1)
        h1 = (_rotl(h1, 27) + h2) & _MASK
        h1 = (h1 * 5 + 0x52DCE729) & _MASK
        h2 ^= _mix_k2(k2)
        h2 = (_rotl(h2, 31) + h1) & _MASK
        h2 = (h2 * 5 + 0x38495AB5) & _MASK
    tail = data[end:]
    # The reference's fall-through switch reads the tail as two little-endian words.
    if len(tail) > 8:
        h2 ^= _mix_k2(int.from_bytes(tail[8:], "little"))
    if tail:
        h1 ^= _mix_k1(int.from_bytes(tail[:8], "little"))
    h1 ^= length
    h2 ^= length
    h1 = (h1 + h2) & _MASK
    h2 = (h2 + h1) & _MASK
    h1 = _fmix(h1)
    h2 = _fmix(h2)
    h1 = (h1 + h2) & _MASK
    h2 = (h2 + h1) & _MASK
    return h1, h2


def murmur3_x86_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3_x86_32(data, seed), unsigned: what Unleash's SDKs bucket users with. Run by
    ``mmh3`` (C): a per-user answer hashes once per rollout and variant it reaches, and the C
    hash is some 30 times faster than the same loop in Python."""
    return mmh3.hash(data, seed, signed=False)
