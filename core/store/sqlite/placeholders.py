"""The shared SQL's ``$n`` placeholders (PostgreSQL's) as SQLite's ``?n``."""

from __future__ import annotations

import re

_PLACEHOLDER = re.compile(r"\$(\d+)")


def positional(text: str) -> str:
    """``text`` with every ``$n`` written ``?n`` (same number: arguments keep their order)."""
    return _PLACEHOLDER.sub(r"?\1", text)
