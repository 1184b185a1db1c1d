"""The RE2 subset of ``Regex`` patterns: parsed once, checked, and emitted for PostgreSQL.

``Regex`` patterns are RE2 syntax (Unleash evaluates with RE2 / Rust ``regex``); in Python they
are run by RE2 itself (``core.expr.matchers``), and this parse decides which patterns are
accepted at all. PostgreSQL's ARE differs from RE2 in ways that change results (``$`` before a
final newline, Unicode ``\\d``, global flags only at the start, ``.`` matching newlines…), so a
pattern is parsed into a small tree and re-emitted with RE2's meaning spelled out explicitly:
``\\d`` → ``[0-9]``, ``.`` → ``[^\\n]``, classes as explicit code-point ranges, flags as scoped
groups. Supported: literals, escapes, ``.``, classes (ranges, negation, Perl and ASCII POSIX
classes), ``^ $ \\A \\z \\b \\B``, groups (plain, ``?:``, named), flags ``i m s U`` (also mid
pattern), alternation, ``* + ? {n} {n,} {n,m}`` (lazy too; counts ≤ 1000). Refused, as in RE2:
lookaround, back-references, possessive quantifiers; left out of the accepted language (RE2
has them, but no other engine here would say the same): ``\\p{…}`` classes, ``\\C``, octal
escapes.

Only the match/no-match outcome matters (a *search*), so laziness is dropped on the PostgreSQL
side. What PostgreSQL cannot say exactly (``\\b``, case-insensitive cased text, counts > 255)
raises :class:`SqlUnsupported`.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass, field

MAX_REPEAT = 1000
_PG_MAX_REPEAT = 255
_MAX_CP = 0x10FFFF
_SURROGATES = (0xD800, 0xDFFF)


class RegexError(ValueError):
    """The pattern is not in the supported RE2 subset."""


class SqlUnsupported(ValueError):
    """The pattern has no exact PostgreSQL ARE equivalent."""


Ranges = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Flags:
    i: bool = False
    m: bool = False
    s: bool = False


@dataclass(frozen=True)
class Chars:
    """A set of characters (one literal or a class), matched case-insensitively when ``ci``."""

    ranges: Ranges
    ci: bool


@dataclass(frozen=True)
class Dot:
    dotall: bool


@dataclass(frozen=True)
class Anchor:
    kind: str  # "^", "$" (line-aware when multiline), "A", "z", "b", "B"
    multiline: bool = False


@dataclass(frozen=True)
class Repeat:
    node: Node
    lo: int
    hi: int | None


@dataclass(frozen=True)
class Concat:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Alt:
    branches: tuple[Node, ...]


Node = Chars | Dot | Anchor | Repeat | Concat | Alt


# ----------------------------------------------------------------------------- char sets


def _normalize(ranges: list[tuple[int, int]]) -> Ranges:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return tuple(out)


def _complement(ranges: Ranges) -> Ranges:
    out: list[tuple[int, int]] = []
    prev = 0
    for lo, hi in ranges:
        if lo > prev:
            out.append((prev, lo - 1))
        prev = hi + 1
    if prev <= _MAX_CP:
        out.append((prev, _MAX_CP))
    return _minus_surrogates(tuple(out))


def _minus_surrogates(ranges: Ranges) -> Ranges:
    s_lo, s_hi = _SURROGATES
    out: list[tuple[int, int]] = []
    for lo, hi in ranges:
        if hi < s_lo or lo > s_hi:
            out.append((lo, hi))
            continue
        if lo < s_lo:
            out.append((lo, s_lo - 1))
        if hi > s_hi:
            out.append((s_hi + 1, hi))
    return tuple(out)


def _r(*pairs: str) -> Ranges:
    return _normalize([(ord(p[0]), ord(p[-1])) for p in pairs])


_PERL = {
    "d": _r("09"),
    "s": _r("\t\n", "\f\r", " "),
    "w": _r("09", "AZ", "az", "__"),
}
_POSIX = {
    "alnum": _r("09", "AZ", "az"),
    "alpha": _r("AZ", "az"),
    "ascii": ((0, 0x7F),),
    "blank": _r("\t", " "),
    "cntrl": ((0, 0x1F), (0x7F, 0x7F)),
    "digit": _r("09"),
    "graph": ((0x21, 0x7E),),
    "lower": _r("az"),
    "print": ((0x20, 0x7E),),
    "punct": _normalize([(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)]),
    "space": _r("\t\r", " "),
    "upper": _r("AZ"),
    "word": _r("09", "AZ", "az", "__"),
    "xdigit": _r("09", "AF", "af"),
}
_SIMPLE_ESCAPES = {"a": 7, "f": 12, "t": 9, "n": 10, "r": 13, "v": 11}


# ----------------------------------------------------------------------------- parser


@dataclass
class _Parser:
    text: str
    pos: int = 0
    groups: int = 0
    flags: Flags = field(default_factory=Flags)

    def error(self, reason: str) -> RegexError:
        return RegexError(f"{reason} at position {self.pos}")

    def peek(self, k: int = 0) -> str | None:
        j = self.pos + k
        return self.text[j] if j < len(self.text) else None

    def parse(self) -> Node:
        node = self.alternation()
        if self.pos < len(self.text):
            raise self.error("unmatched ')'")
        return node

    def alternation(self) -> Node:
        saved = self.flags  # flags set inside a group end with it
        branches = [self.concat()]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.concat())
        self.flags = saved
        return branches[0] if len(branches) == 1 else Alt(tuple(branches))

    def concat(self) -> Node:
        items: list[Node] = []
        while (ch := self.peek()) is not None and ch not in "|)":
            atom = self.atom()
            if atom is None:
                continue  # a flag group: no node
            items.append(self.repeat(atom))
        return items[0] if len(items) == 1 else Concat(tuple(items))

    def repeat(self, node: Node) -> Node:
        ch = self.peek()
        if ch in ("*", "+", "?"):
            self.pos += 1
            lo, hi = {"*": (0, None), "+": (1, None), "?": (0, 1)}[ch]
        elif ch == "{" and (bounds := self.bounds()) is not None:
            lo, hi = bounds
        else:
            return node
        if self.peek() == "?":
            self.pos += 1  # lazy: same outcome for a search
        if self.peek() in ("*", "+", "?") or (self.peek() == "{" and self.bounds(probe=True)):
            raise self.error("bad repetition operator")
        if isinstance(node, Anchor):
            # an assertion repeated: zero times matches the empty string, more is the assertion
            return Concat(()) if lo == 0 else node
        return Repeat(node, lo, hi)

    def bounds(self, probe: bool = False) -> tuple[int, int | None] | None:
        m = re.compile(r"\{([0-9]+)(,([0-9]*))?\}").match(self.text, self.pos)
        if m is None:
            return None  # a literal "{"
        if probe:
            return (0, 0)
        lo = int(m[1])
        hi = lo if m[2] is None else (int(m[3]) if m[3] else None)
        if lo > MAX_REPEAT or (hi is not None and (hi > MAX_REPEAT or hi < lo)):
            raise self.error("bad repetition count")
        self.pos = m.end()
        return lo, hi

    def atom(self) -> Node | None:
        ch = self.text[self.pos]
        if ch in "*+?":
            raise self.error("missing argument to repetition operator")
        if ch == "(":
            return self.group()
        self.pos += 1
        if ch == ".":
            return Dot(self.flags.s)
        if ch == "^":
            return Anchor("^", self.flags.m)
        if ch == "$":
            return Anchor("$", self.flags.m)
        if ch == "[":
            return self.char_class()
        if ch == "\\":
            return self.escape()
        return self.literal(ord(ch))

    def literal(self, cp: int) -> Chars:
        return Chars(((cp, cp),), self.flags.i)

    def group(self) -> Node | None:
        self.pos += 1
        if self.peek() == "?":
            nxt = self.peek(1)
            if nxt in ("=", "!") or (nxt == "<" and self.peek(2) in ("=", "!")):
                raise self.error("lookaround is not supported (RE2)")
            if nxt == ":":
                self.pos += 2
                return self.subgroup()
            if nxt == "P" or nxt == "<":
                m = re.compile(r"\?P?<([A-Za-z0-9_]+)>").match(self.text, self.pos)
                if m is None:
                    raise self.error("invalid named group")
                self.pos = m.end()
            else:
                return self.flag_group()
        return self.subgroup()

    def subgroup(self) -> Node:
        self.groups += 1
        inner = self.alternation()
        if self.peek() != ")":
            raise self.error("missing ')'")
        self.pos += 1
        return inner

    def flag_group(self) -> Node | None:
        m = re.compile(r"\?([imsU]*)(?:-([imsU]*))?([:)])").match(self.text, self.pos)
        if m is None or (not m[1] and not m[2]) or (m[2] is not None and not m[2]):
            raise self.error("invalid or unsupported group flags")
        on, off = set(m[1]), set(m[2] or "")
        new = Flags(
            i=("i" in on) or (self.flags.i and "i" not in off),
            m=("m" in on) or (self.flags.m and "m" not in off),
            s=("s" in on) or (self.flags.s and "s" not in off),
        )
        self.pos = m.end()
        if m[3] == ")":
            self.flags = new  # applies to the rest of the enclosing group
            return None
        saved, self.flags = self.flags, new
        inner = self.alternation()
        self.flags = saved
        if self.peek() != ")":
            raise self.error("missing ')'")
        self.pos += 1
        return inner

    def escape(self) -> Node:
        ch = self.peek()
        if ch is None:
            raise self.error("trailing backslash")
        self.pos += 1
        # RE2 folds case in Perl classes too: (?i)\w matches the long s and the Kelvin sign
        if ch in _PERL:
            return Chars(_PERL[ch], self.flags.i)
        if ch.lower() in _PERL and ch.isupper():
            return Chars(_complement(_PERL[ch.lower()]), self.flags.i)
        if ch in "AzbB":
            return Anchor(ch)
        if ch == "Q":
            end = self.text.find("\\E", self.pos)
            quoted = self.text[self.pos :] if end < 0 else self.text[self.pos : end]
            self.pos = len(self.text) if end < 0 else end + 2
            return Concat(tuple(self.literal(ord(c)) for c in quoted))
        return self.literal(self.escaped_char(ch))

    def escaped_char(self, ch: str) -> int:
        """The code point of a single-character escape (``ch`` already consumed)."""
        if ch in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[ch]
        if ch == "x":
            m = re.compile(r"\{([0-9A-Fa-f]{1,6})\}|([0-9A-Fa-f]{2})").match(self.text, self.pos)
            if m is None:
                raise self.error("invalid \\x escape")
            self.pos = m.end()
            cp = int(m[1] or m[2], 16)
            if cp > _MAX_CP or _SURROGATES[0] <= cp <= _SURROGATES[1]:
                raise self.error("invalid code point")
            return cp
        if ch.isdigit():
            raise self.error("back-references and octal escapes are not supported")
        if ch.isascii() and not ch.isalnum():
            return ord(ch)
        raise self.error(f"invalid escape \\{ch}")

    def char_class(self) -> Chars:
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        ranges: list[tuple[int, int]] = []
        first = True
        while True:
            ch = self.peek()
            if ch is None:
                raise self.error("missing ']'")
            if ch == "]" and not first:
                self.pos += 1
                break
            first = False
            if ch == "[" and self.peek(1) == ":":
                m = re.compile(r"\[:(\^?)([a-z]+):\]").match(self.text, self.pos)
                if m is None or m[2] not in _POSIX:
                    raise self.error("invalid POSIX class")
                self.pos = m.end()
                cls = _POSIX[m[2]]
                ranges.extend(_complement(cls) if m[1] else cls)
                continue
            lo = self.class_char()
            if isinstance(lo, tuple):
                ranges.extend(lo)
                continue
            if self.peek() == "-" and self.peek(1) not in ("]", None):
                self.pos += 1
                hi = self.class_char()
                if isinstance(hi, tuple) or hi < lo:
                    raise self.error("invalid class range")
                ranges.append((lo, hi))
            else:
                ranges.append((lo, lo))
        merged = _normalize(ranges)
        return Chars(_complement(merged) if negated else merged, self.flags.i)

    def class_char(self) -> int | Ranges:
        ch = self.text[self.pos]
        self.pos += 1
        if ch != "\\":
            return ord(ch)
        esc = self.peek()
        if esc is None:
            raise self.error("trailing backslash")
        self.pos += 1
        if esc in _PERL:
            return _PERL[esc]
        if esc.lower() in _PERL and esc.isupper():
            return _complement(_PERL[esc.lower()])
        return self.escaped_char(esc)


@functools.lru_cache(maxsize=4096)
def parse(pattern: str, ci: bool = False) -> Node:
    """Parse an RE2 pattern; ``ci`` sets the ``i`` flag for the whole pattern."""
    parser = _Parser(pattern, flags=Flags(i=ci))
    return parser.parse()


def problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a supported RE2 pattern (outside the subset, or refused by RE2
    itself, e.g. too large), or None."""
    from core.expr.matchers import regex_problem  # matchers parses with this module

    try:
        parse(pattern)
    except RegexError as exc:
        return str(exc)
    return regex_problem(pattern)


# ----------------------------------------------------------------------------- PostgreSQL


def _pg_cp(cp: int) -> str:
    if cp == 0:
        raise SqlUnsupported("NUL cannot appear in PostgreSQL text")
    if cp < 0x80 and chr(cp).isalnum():
        return chr(cp)
    return f"\\U{cp:08X}" if cp > 0xFFFF else f"\\u{cp:04X}"


@functools.lru_cache(maxsize=1)
def _cased_points() -> list[int]:
    """Code points that case-insensitive matching can equate with another one."""
    out = []
    for cp in range(_MAX_CP + 1):
        if _SURROGATES[0] <= cp <= _SURROGATES[1]:
            continue
        c = chr(cp)
        if c.lower() != c or c.upper() != c or c.casefold() != c:
            out.append(cp)
    return out


def _has_cased(ranges: Ranges) -> bool:
    points = _cased_points()
    for lo, hi in ranges:
        j = bisect.bisect_left(points, lo)
        if j < len(points) and points[j] <= hi:
            return True
    return False


def _pg_chars(node: Chars) -> str:
    if node.ci and _has_cased(node.ranges):
        raise SqlUnsupported("case-insensitive matching of cased characters")
    ranges = [(max(lo, 1), hi) for lo, hi in node.ranges if hi >= 1]
    if not ranges:
        return "[^\\u0001-\\U0010FFFF]"  # only NUL, which PostgreSQL text never holds
    if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
        return _pg_cp(ranges[0][0])
    body = "".join(_pg_cp(lo) if lo == hi else f"{_pg_cp(lo)}-{_pg_cp(hi)}" for lo, hi in ranges)
    return f"[{body}]"


def to_postgres(node: Node) -> str:
    if isinstance(node, Chars):
        return _pg_chars(node)
    if isinstance(node, Dot):
        return "." if node.dotall else "[^\\n]"  # ARE's "." matches newlines by default
    if isinstance(node, Anchor):
        if node.kind in "bB":
            raise SqlUnsupported("word boundaries differ in PostgreSQL")
        if node.kind == "^":
            return "(?:^|(?<=\\n))" if node.multiline else "^"
        if node.kind == "$":
            return "(?:$|(?=\\n))" if node.multiline else "$"
        return "^" if node.kind == "A" else "$"
    if isinstance(node, Repeat):
        if node.lo > _PG_MAX_REPEAT or (node.hi is not None and node.hi > _PG_MAX_REPEAT):
            raise SqlUnsupported("repetition counts above 255")
        hi = "" if node.hi is None else str(node.hi)
        return f"(?:{to_postgres(node.node)}){{{node.lo},{hi}}}"
    if isinstance(node, Concat):
        return "".join(to_postgres(n) for n in node.items) if node.items else "(?:)"
    return "(?:" + "|".join(to_postgres(b) for b in node.branches) + ")"


def postgres_pattern(pattern: str, ci: bool = False) -> str:
    """The ARE pattern for ``~`` with the same outcome; RegexError / SqlUnsupported otherwise."""
    return to_postgres(parse(pattern, ci))
