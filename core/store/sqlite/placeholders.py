"""The shared SQL's ``$n`` placeholders (PostgreSQL's) as SQLite's ``?n``."""

from __future__ import annotations

import re
from functools import lru_cache

_PLACEHOLDER = re.compile(r"\$(\d+)")
_KEPT_LENGTH = 4096
"""The longest text kept rewritten: the code's own statements are shorter; a longer one is
built from a request (a predicate's terms) and is not worth the memory."""


def positional(text: str) -> str:
    """``text`` with every ``$n`` written ``?n`` (same number: arguments keep their order).

    Kept per text: statements are mostly the code's own strings, a few hundred of them, and the
    rewrite cost more than many a statement it rewrote (a segment's insert, 16 placeholders,
    each a template expansion: ~50 µs, against ~1 µs for the lookup)."""
    return _kept(text) if len(text) <= _KEPT_LENGTH else _rewrite(text)


def _rewrite(text: str) -> str:
    return _PLACEHOLDER.sub(r"?\1", text)


_kept = lru_cache(maxsize=1024)(_rewrite)
"""Bounded all the same: some statements are built from a request (a list's filters)."""
