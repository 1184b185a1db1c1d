"""Bounded maps: the least-recently-used map every cache of the process is built on, and the
weights its entries are counted in.

It sits below the store and the use cases alike (the store remembers page totals in one, the
use cases' caches are built of them), so it imports nothing of the project.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

import msgspec

V = TypeVar("V")
K = TypeVar("K", bound=Hashable)

MB = 1024 * 1024


class Bounded(Generic[K, V]):
    """A least-recently-used map bounded twice: at most ``capacity`` entries and at most
    ``max_bytes`` of their weights (each ``put`` says what its entry weighs, in bytes, counting
    its key where a caller can choose it). An entry heavier than ``max_entry`` is not kept at all:
    one huge answer would otherwise push out everything else, and keeping it saves little next to
    what building it costs. Every cache of the process is one of these, so its memory is bounded
    by the sum of their ``max_bytes`` whatever requests arrive (``docs/settings-security.md``).

    Weights are the caller's estimate of the memory an entry holds: exact for bytes, a multiple of
    the encoded size for Python objects (they take several times their JSON's size)."""

    def __init__(self, *, capacity: int, max_bytes: int, max_entry: int | None = None) -> None:
        self.capacity = capacity
        self.max_bytes = max_bytes
        self.max_entry = max_bytes if max_entry is None else min(max_entry, max_bytes)
        self._entries: OrderedDict[K, tuple[int, V]] = OrderedDict()
        self.kept_bytes = 0
        """The sum of the kept entries' weights."""

    def get(self, key: K) -> V | None:
        found = self._entries.get(key)
        if found is None:
            return None
        self._entries.move_to_end(key)
        return found[1]

    def put(self, key: K, value: V, weight: int) -> bool:
        """Keep ``value`` (replacing what ``key`` held); False when it weighs too much to keep
        (what ``key`` held is dropped all the same: it was being replaced)."""
        self.pop(key)
        if weight > self.max_entry:
            return False
        self._entries[key] = (weight, value)
        self.kept_bytes += weight
        while len(self._entries) > self.capacity or self.kept_bytes > self.max_bytes:
            _, (old, _) = self._entries.popitem(last=False)
            self.kept_bytes -= old
        return True

    def pop(self, key: K) -> V | None:
        found = self._entries.pop(key, None)
        if found is None:
            return None
        self.kept_bytes -= found[0]
        return found[1]

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries


class Versioned(Generic[K, V]):
    """A :class:`Bounded` map of values built from one version of a thing (a segment): one
    entry per ``key``, stamped with the version it was built from. A value of another version
    is never answered, and a newer version *replaces* the older one instead of being kept
    beside it. Keyed on ``(key, version)``, every update of a segment used to add an entry
    while its older ones stayed until pushed out by the bound: 5,000 updates of 200 segments
    kept 5,200 renderings of each, when 200 are all any reader can use.

    ``stamp`` is anything comparable for equality that changes whenever the value would (the
    version, or the version with the other fields the value is made of)."""

    def __init__(self, *, capacity: int, max_bytes: int, max_entry: int | None = None) -> None:
        self._entries: Bounded[K, tuple[Hashable, V]] = Bounded(
            capacity=capacity, max_bytes=max_bytes, max_entry=max_entry
        )

    def get(self, key: K, stamp: Hashable) -> V | None:
        found = self._entries.get(key)
        if found is None or found[0] != stamp:
            return None
        return found[1]

    def put(self, key: K, stamp: Hashable, value: V, weight: int) -> bool:
        """Keep ``value`` for ``key`` at ``stamp``, in place of what ``key`` held (a reader
        that still holds an older copy of the thing may put its older value back: the next
        reader of the newer one replaces it again, which costs a render, never a stale answer)."""
        return self._entries.put(key, (stamp, value), weight)

    @property
    def kept_bytes(self) -> int:
        return self._entries.kept_bytes

    @property
    def capacity(self) -> int:
        return self._entries.capacity

    @property
    def max_bytes(self) -> int:
        return self._entries.max_bytes

    def __len__(self) -> int:
        return len(self._entries)


OBJECT_FACTOR = 4
"""Python objects (dicts, strings, structs) take roughly this many times their JSON's size."""
ENTRY_OVERHEAD = 256
"""Bytes an entry costs beyond its value: the map's slot, the key tuple, the weight."""


def json_weight(value: object) -> int:
    """An estimate of the memory ``value`` holds: its JSON size times :data:`OBJECT_FACTOR`."""
    return len(msgspec.json.encode(value)) * OBJECT_FACTOR + ENTRY_OVERHEAD


SLOT_BYTES = 160
"""What a :class:`Bounded` entry costs besides its key and value, measured on CPython 3.11: the
ordered dict's slot and link (~100), the ``(weight, value)`` pair (56), and the weight."""

STRING_BYTES = 56
"""What a short ``str`` costs beyond its characters (49 bytes of header, rounded up for the
allocator's 8-byte steps)."""
CONTAINER_BYTES = 240
"""What a small dict (up to 5 keys: 184 to 232 bytes with its hash table) or list costs."""


def shape_weight(value: object) -> int:
    """The memory a value of nested dicts, lists and strings holds, estimated from its JSON:
    the characters, plus per string (a pair of quotes) and per dict or list (an opening
    bracket) what such an object costs beyond them, plus :data:`SLOT_BYTES`. Within 15% of the
    objects counted one by one (``sys.getsizeof`` over their contents) on the projections it
    weighs, at a tenth of that count's cost (three counts over the encoded bytes, in C). A
    multiple of the JSON's size alone is no estimate for small nested objects: a dict costs
    184+ bytes whatever its JSON's length, so the same JSON costs 5 to 10 times its size from
    one projection to another (Confidence's targeting: ~1.4 KB for 144 bytes of JSON)."""
    encoded = msgspec.json.encode(value)
    strings = encoded.count(b'"') // 2
    containers = encoded.count(b"{") + encoded.count(b"[")
    return len(encoded) + strings * STRING_BYTES + containers * CONTAINER_BYTES + SLOT_BYTES
