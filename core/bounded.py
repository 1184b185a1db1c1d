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


OBJECT_FACTOR = 4
"""Python objects (dicts, strings, structs) take roughly this many times their JSON's size."""
ENTRY_OVERHEAD = 256
"""Bytes an entry costs beyond its value: the map's slot, the key tuple, the weight."""


def json_weight(value: object) -> int:
    """An estimate of the memory ``value`` holds: its JSON size times :data:`OBJECT_FACTOR`."""
    return len(msgspec.json.encode(value)) * OBJECT_FACTOR + ENTRY_OVERHEAD
