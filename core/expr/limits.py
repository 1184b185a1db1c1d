"""Limits applied by every parser, so hostile input is refused early with ``Invalid``."""

from __future__ import annotations

import msgspec


class Limits(msgspec.Struct, frozen=True):
    max_text: int = 64 * 1024
    """Characters of expression text (or of the JSON text of a structured expression)."""
    max_depth: int = 64
    """Nesting depth of the resulting AST and of the input's brackets / JSON nesting."""
    max_values: int = 10_000
    """Values in one set (``in`` lists, Unleash ``values``, Confidence ``setRule``)."""


DEFAULT_LIMITS = Limits()
