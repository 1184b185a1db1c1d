"""Exact totals of pages of individuals, remembered under the revision they were counted at.

A page of a segment's members is cheap to find (the default order walks an index and stops after
``size`` matches), but its total means testing every individual of the sandbox. PostgreSQL keeps
a revision per sandbox that changes in the same transaction as every write to its individuals or
stored memberships (migration ``0006_profile_revisions``). The page's statement reads that
revision and, when it equals the one a remembered total was counted at, returns the remembered
total instead of counting; otherwise it counts, in the same statement and snapshot, and the
new (revision, total) is remembered. The total is therefore always the exact count of the rows
the page was read from, whichever process wrote them.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import NamedTuple

from core.bounded import ENTRY_OVERHEAD, MB, Bounded

_MAX_ENTRIES = 1_000
_MAX_BYTES = 16 * MB
"""A key holds a condition's SQL and arguments (a HAL filter is up to 64 KB of a client's text):
bounded in bytes as well as in entries."""


class Counted(NamedTuple):
    revision: int
    """The sandbox's revision the count was taken at."""
    total: int
    """The listing's exact total at that revision."""
    individuals: int
    """The sandbox's individuals at that revision (for planning only)."""


def walks(known: Counted | None, rows: int) -> bool:
    """Whether the first ``rows`` matches in creation order are cheaper found by walking the
    creation index (testing about ``rows * individuals / total`` profiles, and stopping) than
    by reading every candidate the GIN index gives for the condition's string equalities (at
    least ``total`` profiles, then sorting them). The last count of the same listing says
    which, stale or not: a wrong guess costs time, never correctness. Unknown: the index."""
    if known is None or known.total == 0:
        return False
    return rows * known.individuals <= known.total * known.total


class PageTotals:
    """A bounded map from a listing's identity (tenant, sandbox, condition SQL and arguments) to
    what was last counted for it; the least recently used entry goes first."""

    def __init__(self, max_entries: int = _MAX_ENTRIES, max_bytes: int = _MAX_BYTES) -> None:
        self._entries: Bounded[Hashable, Counted] = Bounded(
            capacity=max_entries, max_bytes=max_bytes
        )

    def get(self, key: Hashable) -> Counted | None:
        return self._entries.get(key)

    def put(self, key: Hashable, counted: Counted) -> None:
        self._entries.put(key, counted, len(repr(key)) + ENTRY_OVERHEAD)
