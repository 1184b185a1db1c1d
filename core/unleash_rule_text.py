"""Yggdrasil compiles each strategy to rule text and parses that: a value its rule text cannot
carry breaks the feature there (``Broken``: off for every context), and so here. These are the
checks of the values it writes quoted.
"""

from __future__ import annotations


class Broken(Exception):
    """Yggdrasil could not compile the feature: it is off for every context."""


def escaped(value: str) -> str:
    """A value Yggdrasil quotes with its quotes escaped: only a trailing backslash (which
    escapes the closing quote) breaks its rule."""
    if value.endswith("\\"):
        raise Broken("a value ends with a backslash")
    return value


def quoted(value: str) -> str:
    """A value Yggdrasil quotes as it is (group ids, property names, addresses, host names):
    a quote not escaped by a backslash, or a trailing backslash, breaks its rule; ``\\"``
    reads as ``"``."""
    i = 0
    while i < len(value):
        if value.startswith('\\"', i):
            i += 2
        elif value[i] == '"':
            raise Broken("a quote in a name")
        else:
            i += 1
    if value.endswith("\\") and not value.endswith('\\"'):
        raise Broken("a name ends with a backslash")
    return value.replace('\\"', '"')
