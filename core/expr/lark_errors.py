"""Lark's syntax errors in plain words, for the text languages (PQL, OData): what was found,
where (0-based offset), and what would have been accepted there.
"""

from __future__ import annotations

from lark import Lark
from lark.exceptions import UnexpectedInput, UnexpectedToken

from core.errors import Invalid


def lark_syntax_error(
    exc: UnexpectedInput,
    text: str,
    parser: Lark,
    field: str,
    names: dict[str, str],
    what: str = "expression",
) -> Invalid:
    """Plain words for a lark error: what was found, where (0-based offset), what would
    have been accepted there. ``names`` describes the regex terminals."""
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        pos, found = len(text), f"unexpected end of the {what}"
    elif isinstance(exc, UnexpectedToken):
        pos, found = exc.token.start_pos or 0, f"unexpected {exc.token.value!r}"
    else:
        pos = exc.pos_in_stream or 0
        found = f"unexpected character {text[pos]!r}"
    expected = _describe_expected(_expected_terminals(exc), parser, names)
    reason = f"{found} at position {pos}" + (f"; expected {expected}" if expected else "")
    return Invalid(field, reason, pos)


def _expected_terminals(exc: UnexpectedInput) -> set[str]:
    # The LALR state's own set includes lookaheads merged from other contexts; asking the
    # interactive parser what it accepts from here gives the exact set.
    interactive = getattr(exc, "interactive_parser", None)
    if interactive is not None:
        accepted: set[str] = interactive.accepts()
        return accepted
    return set(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())


def _describe_expected(terminals: set[str], parser: Lark, names: dict[str, str]) -> str:
    described = set()
    for name in terminals:
        if name in names:
            described.add(names[name])
            continue
        pattern = parser.get_terminal(name).pattern
        described.add(f"'{pattern.value}'" if pattern.type == "str" else name)
    return ", ".join(sorted(described))
