"""``ListSegments.filter``: the documented "Lucene query string format", the [project] subset.

``field:value`` terms joined by ``AND`` / ``OR`` / ``NOT`` (also ``&&``, ``||``, ``!``), with
parentheses. A value is a bare word (``*`` and ``?`` are wildcards, ``\\`` escapes) or a quoted
phrase (literal); ``field:*`` means the field has a value. Terms must be joined by an operator:
Lucene's default operator differs between installations, so an implicit one is refused rather
than guessed. Fields: ``name``, ``displayName``, ``state``, ``allocation.exclusivityTags``,
``allocation.exclusiveTo``, ``labels.<key>``, ``flag``, ``owner`` (snake_case accepted); a list
field matches when any element does. Matching is exact and case-sensitive.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from core.errors import Invalid, LimitExceeded
from core.model import Segment
from dialects.confidence.translate import EXT, PREFIX, identity
from dialects.confidence.wire import to_camel

MAX_FILTER = 2000
MAX_DEPTH = 32

Predicate = Callable[[Any], bool]
Values = Callable[[Any], list[str]]
FieldOf = Callable[[str], Values]
"""A field name of a filter -> what that field holds for one item (``Invalid`` if none)."""


def _ext(segment: Segment, key: str) -> list[str]:
    conf = segment.extensions.get(EXT)
    value = conf.get(key) if isinstance(conf, dict) else None
    return [value] if isinstance(value, str) and value else []


_FIELDS: dict[str, Values] = {
    "name": lambda s: [PREFIX + s.slug, s.slug],
    "displayName": lambda s: [s.name],
    "state": lambda s: [s.state],
    "allocation.exclusivityTags": lambda s: list(s.allocation.exclusivity_tags),
    "allocation.exclusiveTo": lambda s: list(s.allocation.exclusive_to),
    "flag": lambda s: _ext(s, "flag"),
    "owner": lambda s: [s.owner or identity(s.created_by)] if s.owner or s.created_by else [],
}

_TOKEN = re.compile(
    r"\s*(?:(?P<open>\()|(?P<close>\))|(?P<and>&&)|(?P<or>\|\|)|(?P<bang>!)"
    r'|(?P<quoted>"(?:[^"\\]|\\.)*")|(?P<word>(?:[^\s()"\\]|\\.)+))'
)


def _invalid(reason: str) -> Invalid:
    return Invalid("filter", reason)


def _field(name: str) -> Values:
    head, _, rest = name.partition(".")
    head = to_camel(head)
    if head == "labels" and rest:
        return lambda s: [s.labels[rest]] if rest in s.labels else []
    key = f"{head}.{to_camel(rest)}" if rest else head
    found = _FIELDS.get(key)
    if found is None:
        raise _invalid(f"cannot filter on {name!r}")
    return found


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _matcher(value: str, quoted: bool) -> Callable[[str], bool]:
    if quoted:
        literal = _unescape(value)
        return lambda v: v == literal
    if value == "*":
        return lambda v: True
    pattern = ""
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            pattern += re.escape(value[i + 1])
            i += 2
            continue
        pattern += ".*" if ch == "*" else "." if ch == "?" else re.escape(ch)
        i += 1
    regex = re.compile(pattern, re.S)
    return lambda v: regex.fullmatch(v) is not None


class _Parser:
    def __init__(self, text: str, field_of: FieldOf) -> None:
        self.field_of = field_of
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN.match(text, pos)
            if m is None or m.lastgroup is None:
                raise _invalid(f"cannot read the filter at position {pos}")
            kind, value = m.lastgroup, m.group(m.lastgroup)
            if kind == "word" and value in ("AND", "OR", "NOT"):
                kind = value.lower()
            elif kind == "bang":
                kind = "not"
            self.tokens.append((kind, value))
            pos = m.end()
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at][0] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def parse(self) -> Predicate:
        if not self.tokens:
            return lambda s: True
        pred = self.disjunction(0)
        if self.peek() is not None:
            raise _invalid("join terms with AND or OR")
        return pred

    def disjunction(self, depth: int) -> Predicate:
        parts = [self.conjunction(depth)]
        while self.peek() == "or":
            self.take()
            parts.append(self.conjunction(depth))
        return parts[0] if len(parts) == 1 else (lambda s: any(p(s) for p in parts))

    def conjunction(self, depth: int) -> Predicate:
        parts = [self.unary(depth)]
        while self.peek() == "and":
            self.take()
            parts.append(self.unary(depth))
        return parts[0] if len(parts) == 1 else (lambda s: all(p(s) for p in parts))

    def unary(self, depth: int) -> Predicate:
        if depth > MAX_DEPTH:
            raise LimitExceeded("filter", f"nested deeper than {MAX_DEPTH}")
        kind = self.peek()
        if kind == "not":
            self.take()
            inner = self.unary(depth + 1)
            return lambda s: not inner(s)
        if kind == "open":
            self.take()
            inner = self.disjunction(depth + 1)
            if self.peek() != "close":
                raise _invalid("unbalanced parentheses")
            self.take()
            return inner
        if kind == "word":
            return self.term()
        raise _invalid("expected a field:value term")

    def term(self) -> Predicate:
        _, word = self.take()
        field, colon, value = word.partition(":")
        if not colon or not field:
            raise _invalid(f"{word!r} is not a field:value term")
        quoted = False
        if not value:
            if self.peek() != "quoted":
                raise _invalid(f"{field}: needs a value")
            value = self.take()[1][1:-1]
            quoted = True
        values = self.field_of(field)
        match = _matcher(value, quoted)
        return lambda s: any(match(v) for v in values(s))


def parse_filter(text: str | None, field_of: FieldOf = _field) -> Predicate:
    """A predicate over segments (or, with another ``field_of``, over other resources: the
    flags list has its own fields) for a filter (None or blank: every item)."""
    if text is None:
        return lambda s: True
    if len(text) > MAX_FILTER:
        raise LimitExceeded("filter", f"longer than {MAX_FILTER} characters")
    return _Parser(text, field_of).parse()


# --- ListFlags.filter ------------------------------------------------------------------------

_FLAG_FIELDS: dict[str, Values] = {
    "name": lambda f: [f.name, f.name.removeprefix("flags/")],
    "state": lambda f: [f.state],
    "description": lambda f: [f.description] if f.description else [],
    "owner": lambda f: [f.owner or identity(f.creator)] if f.owner or f.creator else [],
    "creator": lambda f: [identity(f.creator)] if f.creator else [],
    "clients": lambda f: list(f.clients),
    "variants": lambda f: [v.name for v in f.variants],
    "rules.segment": lambda f: [r.segment for r in f.rules],
}


def flag_field(name: str) -> Values:
    """The fields ``ListFlags.filter`` knows: ``name``, ``state``, ``description``, ``owner``,
    ``creator``, ``clients``, ``variants``, ``rules.segment`` and ``labels.<key>``."""
    head, _, rest = name.partition(".")
    head = to_camel(head)
    if head == "labels" and rest:
        return lambda f: [f.labels[rest]] if rest in f.labels else []
    key = f"{head}.{to_camel(rest)}" if rest else head
    found = _FLAG_FIELDS.get(key)
    if found is None:
        raise _invalid(f"cannot filter flags on {name!r}")
    return found
