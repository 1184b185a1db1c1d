"""The string matchers evaluation runs in Python: ``Regex`` and ``Like``, both on the RE2 engine.

A backtracking engine (Python's ``re``) takes exponential time on patterns such as ``(a+)+$``
against ``"aaa…!"``, and a ``like`` pattern with several ``%`` compiled to ``.*`` runs in
polynomial time of high degree; segments are written by tenants and contexts by their clients,
so either would let one request hold the process. RE2 (``google-re2``) matches in time linear
in the input, whatever the pattern:

* ``Regex``: the pattern is first checked against the supported RE2 subset
  (``core.expr.re2.parse``: what the PostgreSQL emission also understands), then the *original*
  text is compiled by RE2 itself, so its meaning is RE2's own (Unleash evaluates with RE2 /
  Rust ``regex``). ``ci`` is RE2's ``case_sensitive=False`` (the pattern's own ``(?-i)`` still
  turns it off), and a match is a search anywhere in the text.
* ``Like``: ``%`` any run, ``_`` one character, the rest literal, over the whole text (``ci``:
  both sides casefolded first, as before): literal runs between ``%``s are found in order with
  string searches (linear); a pattern with ``_`` is compiled to RE2, anchored at both ends.

Text is given to RE2 as UTF-8. A Python string may hold a lone surrogate (JSON allows the escape
``"\\ud800"``); it is encoded as its three bytes (``surrogatepass``), which RE2 reads as one
character, so it is one character for ``.``, ``_`` and negated classes, as it is in the string.

RE2's memory per pattern is bounded (``max_mem``): a pattern whose program does not fit (or
that holds a lone surrogate, which is not text RE2 can read) is refused when it is written
(``problem``) and never matches if met anyway; a matching state cache that fills up makes RE2
fall back to a slower automaton, still linear.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import re2 as engine  # type: ignore[import-untyped]  # google-re2: no type information

from core.expr import re2 as subset

MAX_MEM = 1 << 20
"""Bytes one compiled pattern may use (its program and its matching caches). RE2's default is
8 MiB; segment patterns are short (``x{1000}`` over any class still fits), and every pattern of
every tenant whose segments are kept compiled holds its own."""

_NO_MATCH = (-1, -1)
_UNANCHORED = engine._re2.RE2.Anchor.UNANCHORED
_ANCHOR_BOTH = engine._re2.RE2.Anchor.ANCHOR_BOTH

Matcher = Callable[[str], bool]
"""A compiled test of one string."""


class PatternRefused(ValueError):
    """RE2 itself refuses the pattern (e.g. its program is larger than :data:`MAX_MEM`)."""


def _options(ci: bool) -> object:
    options = engine.Options()
    options.max_mem = MAX_MEM
    options.case_sensitive = not ci
    options.never_capture = True  # only whether it matches counts: no submatch bookkeeping
    options.log_errors = False  # a refused pattern is reported to the caller, not to stderr
    return options


def _compile(pattern: str, ci: bool) -> object:
    """The RE2 object (the low-level one: a match is one call, with no offsets decoded)."""
    try:
        compiled = engine.compile(pattern, _options(ci))
    except engine.error as exc:
        reason = exc.args[0] if exc.args else ""
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternRefused(str(reason) or "RE2 refused the pattern") from exc
    except UnicodeEncodeError as exc:  # a lone surrogate: not text RE2 can read
        raise PatternRefused("the pattern is not valid Unicode text") from exc
    return compiled._regexp


def _utf8(text: str) -> bytes:
    try:
        return text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _matcher(rx: object, anchor: object) -> Matcher:
    match = rx.Match  # type: ignore[attr-defined]

    def test(text: str) -> bool:
        data = _utf8(text)
        return bool(match(anchor, data, 0, len(data))[0] != _NO_MATCH)

    return test


@functools.lru_cache(maxsize=1024)
def regex_matcher(pattern: str, ci: bool = False) -> Matcher:
    """A search for the RE2 ``pattern`` anywhere in a string; ``subset.RegexError`` when the
    pattern is outside the supported subset, :class:`PatternRefused` when RE2 refuses it."""
    subset.parse(pattern, ci)
    return _matcher(_compile(pattern, ci), _UNANCHORED)


def regex_problem(pattern: str) -> str | None:
    """Why RE2 cannot run ``pattern`` (in either case mode), or None (the subset is checked by
    ``core.expr.re2.problem``, which calls this)."""
    for ci in (False, True):
        try:
            _compile(pattern, ci)
        except PatternRefused as exc:
            return f"RE2 refuses the pattern: {exc}"
    return None


def _escape(text: str) -> str:
    """``text`` as an RE2 literal: ASCII punctuation and controls escaped, the rest as is."""
    return "".join(c if not c.isascii() or c.isalnum() else f"\\x{{{ord(c):x}}}" for c in text)


def like_pattern(pattern: str) -> str:
    """The RE2 pattern, matched against the whole text, of the ``like`` pattern ``pattern``."""
    parts = ["(?s)"]  # "_" and "%" take newlines too
    literal: list[str] = []
    for c in pattern:
        if c in "%_":
            if literal:
                parts.append(_escape("".join(literal)))
                literal.clear()
            if c == "_":
                parts.append(".")
            elif parts[-1] != ".*":  # "%%" is "%": one ".*" keeps the program small
                parts.append(".*")
        else:
            literal.append(c)
    if literal:
        parts.append(_escape("".join(literal)))
    return "".join(parts)


def _literal_runs(parts: list[str]) -> Matcher:
    """``like`` without ``_``: the literal ``parts`` between ``%``s, in order. The first is a
    prefix, the last a suffix, and each one between is found leftmost after the one before
    (taking the leftmost never loses a match, since what follows may only start later), so
    the text is scanned once per part: linear, with no engine call."""
    head, *middle, tail = parts
    middle = [m for m in middle if m]
    fixed = len(head) + len(tail)

    def test(text: str) -> bool:
        if len(text) < fixed or not text.startswith(head) or not text.endswith(tail):
            return False
        pos, end = len(head), len(text) - len(tail)
        for part in middle:
            found = text.find(part, pos, end)
            if found < 0:
                return False
            pos = found + len(part)
        return True

    return test


@functools.lru_cache(maxsize=1024)
def like_matcher(pattern: str, ci: bool = False) -> Matcher:
    """Whether a whole string is matched by the ``like`` ``pattern`` (``ci``: both casefolded);
    :class:`PatternRefused` if its program is too large for :data:`MAX_MEM`. A pattern without
    ``_`` is literal runs between ``%``s, matched with string searches; one with ``_`` runs
    on RE2."""
    folded = pattern.casefold() if ci else pattern
    if "_" in folded:
        test = _matcher(_compile(like_pattern(folded), False), _ANCHOR_BOTH)
    elif "%" in folded:
        test = _literal_runs(folded.split("%"))
    else:
        test = folded.__eq__
    if not ci:
        return test
    return lambda text: test(text.casefold())


__all__ = [
    "MAX_MEM",
    "Matcher",
    "PatternRefused",
    "like_matcher",
    "like_pattern",
    "regex_matcher",
    "regex_problem",
]
