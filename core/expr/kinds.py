"""How each literal kind compares: the *key* of a JSON value under a kind.

The evaluator, the SQL compiler (SQLite calls these very functions; PostgreSQL runs the SQL twins
in ``sql_functions_postgres.sql``) and the renderers all go through these keys, so there is exactly
one definition of "``"12.0"`` is the number 12" or "``2.0.0-rc`` sorts before ``2.0.0``".

A key is ``None`` when the value does not have that kind (the atom is then false for it, like a
missing attribute). Keys of one kind compare with ``==``/``<``; literals get their key from the same
function, so an atom is ``op(key(context value), key(literal))``.

Decisions (the vendor rule each follows is named):

* ``number``: IEEE doubles (JS for Unleash, Rust ``f64`` for Confidence). A JSON number, or a
  string in the decimal grammar ``[+-]?(d+[.d*]|.d+)([eE][+-]?d+)?`` (no ``inf``/``nan``, no
  spaces). Booleans are not numbers. Non-finite results are not numbers.
* ``string``: JSON strings as they are; JSON numbers as their shortest round-trip decimal without
  exponent, integral values without ``.0`` (``12.0`` → ``"12"``: Unleash stringifies, Confidence
  prints ``f64`` the same way). Booleans are *not* stringified (Confidence gives them no string
  form; Unleash context values are strings anyway).
* ``bool``: JSON booleans; the strings ``true``/``TRUE``/``false``/``FALSE`` (Confidence parses
  strings for a bool rule; its "any other string is false" fallback is not mirrored).
* ``datetime``: an instant in whole microseconds since the epoch. Strings ``YYYY-MM-DD``
  (midnight UTC) or ``YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z|±HH:MM]`` (no zone = UTC; digits past
  microseconds are truncated); numbers are epoch seconds, or milliseconds when ``|n| ≥ 1e12``,
  truncated (as Confidence's resolver does). Years 0001-9999 (UTC).
* ``date``: the UTC calendar day of such an instant (days since 1970-01-01).
* ``semver``: strict SemVer 2.0 strings (no ``v``), ordered by precedence (build ignored).
* ``version``: Confidence versions: 2-4 numeric parts, text after the first ``-`` dropped, a
  3-part version whose third part has more than 3 digits reads as ``a.b.0.tag``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from core.expr.ast import Lit

NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
DATETIME_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
    r"([Zz]|([+-])([0-9]{2}):([0-9]{2}))?)?"
)
SEMVER_RE = re.compile(
    r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
_DIGITS_RE = re.compile(r"[0-9]+")
_VERSION_HEAD_RE = re.compile(r"[0-9]{1,10}(?:\.[0-9]{1,10}){1,3}")

US_PER_DAY = 86_400_000_000
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
MIN_US = (dt.date(1, 1, 1).toordinal() - _EPOCH_ORDINAL) * US_PER_DAY
MAX_US = (dt.date(9999, 12, 31).toordinal() - _EPOCH_ORDINAL + 1) * US_PER_DAY - 1
_EPOCH_MS_FROM = 10**12
"""Confidence: numbers with ``|n| >= 1e12`` are epoch milliseconds, smaller ones seconds."""


# ----------------------------------------------------------------------------- numbers


def number_key(value: Any) -> float | None:
    t = type(value)
    if t is float:
        return value if math.isfinite(value) else None
    if t is int:
        try:
            return float(value)
        except OverflowError:
            return None
    if t is str and NUMBER_RE.fullmatch(value):
        f = float(value)
        return f if math.isfinite(f) else None
    return None


def number_text(f: float) -> str:
    """Shortest round-trip decimal of a finite double, no exponent, no trailing ``.0``."""
    if f == 0:
        return "0"  # also -0.0: no vendor prints a negative zero for a context value
    text = repr(f)
    if "e" in text:
        text = format(Decimal(text), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def canonical_number(value: int | float) -> int | float | None:
    """The literal form of a number: its double, as int when integral (``3.0`` → ``3``)."""
    f = number_key(value)
    if f is None:
        return None
    return int(f) if f.is_integer() else f


# ----------------------------------------------------------------------------- strings, bools


def string_key(value: Any) -> str | None:
    t = type(value)
    if t is str:
        return value  # type: ignore[no-any-return]
    if t is int or t is float:
        f = number_key(value)
        return None if f is None else number_text(f)
    return None


def string_key_ci(value: Any) -> str | None:
    s = string_key(value)
    return None if s is None else s.casefold()


_BOOL_STRINGS = {"true": True, "TRUE": True, "false": False, "FALSE": False}


def bool_key(value: Any) -> bool | None:
    if type(value) is bool:
        return bool(value)
    if type(value) is str:
        return _BOOL_STRINGS.get(value)
    return None


# ----------------------------------------------------------------------------- instants


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def parse_datetime_us(text: str) -> int | None:
    """Microseconds since the epoch of an ISO 8601 / RFC 3339 string, or None."""
    m = DATETIME_RE.fullmatch(text)
    if m is None:
        return None
    year, month, day = int(m[1]), int(m[2]), int(m[3])
    if year < 1 or not 1 <= month <= 12 or not 1 <= day <= _days_in_month(year, month):
        return None
    hour = minute = second = micro = offset_min = 0
    if m[4] is not None:
        hour, minute, second = int(m[4]), int(m[5]), int(m[6])
        if hour > 23 or minute > 59 or second > 59:
            return None
        if m[7] is not None:
            micro = int((m[7] + "00000")[:6])  # truncate past microseconds
        if m[9] is not None:
            oh, om = int(m[10]), int(m[11])
            if oh > 23 or om > 59:
                return None
            offset_min = (oh * 60 + om) * (-1 if m[9] == "-" else 1)
    days = dt.date(year, month, day).toordinal() - _EPOCH_ORDINAL
    seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_min * 60
    us = seconds * 1_000_000 + micro
    return us if MIN_US <= us <= MAX_US else None


def epoch_number_us(f: float) -> int | None:
    """Confidence's number → timestamp rule, in microseconds."""
    if abs(f) >= 1e15:  # far outside years 1..9999 either way (and keeps SQL in bigint)
        return None
    t = math.trunc(f)
    us = t * 1_000 if abs(t) >= _EPOCH_MS_FROM else t * 1_000_000
    return us if MIN_US <= us <= MAX_US else None


def datetime_key(value: Any) -> int | None:
    t = type(value)
    if t is str:
        return parse_datetime_us(value)
    if t is int or t is float:
        f = number_key(value)
        return None if f is None else epoch_number_us(f)
    return None


def date_key(value: Any) -> int | None:
    us = datetime_key(value)
    return None if us is None else us // US_PER_DAY


def date_part(value: Any, part: str) -> int | None:
    """``year``, ``month`` (1-12) or ``day`` of the month of the UTC calendar day of a
    ``datetime`` value; None when it is no instant."""
    days = date_key(value)
    if days is None:
        return None
    day = dt.date.fromordinal(days + _EPOCH_ORDINAL)
    return day.year if part == "year" else day.month if part == "month" else day.day


MAX_EXACT = 2**53
"""Integers up to this size are exact doubles: a remainder of them is the same everywhere."""


def remainder(value: Any, divisor: int) -> int | None:
    """``value % divisor`` with the sign of the dividend (Java, C, PostgreSQL's ``bigint``), for
    an integral number below ``MAX_EXACT``; None otherwise."""
    f = number_key(value)
    if f is None or not f.is_integer() or abs(f) >= MAX_EXACT or divisor == 0:
        return None
    return int(math.fmod(int(f), divisor))


def arith(a: float, b: float, fn: str) -> float | None:
    """``a fn b`` for finite doubles as PostgreSQL's ``float8`` computes it, None where it raises
    there: a division by zero, a result that overflows to infinity or underflows to 0 from
    operands that are not 0 (so both backends and the evaluator agree, and none errs)."""
    if fn == "add":
        result = a + b
    elif fn == "sub":
        result = a - b
    elif fn == "mul":
        result = a * b
        if result == 0.0 and a != 0.0 and b != 0.0:
            return None
    else:
        if b == 0.0:
            return None
        result = a / b
        if result == 0.0 and a != 0.0:
            return None
    return result if math.isfinite(result) else None


def strict_number(root: Any, path: tuple[str, ...]) -> float | None:
    """The number at ``path`` reached through objects only (``Arith``'s operand), or None."""
    node = root
    for key in path:
        if type(node) is not dict:
            return None
        node = node.get(key)
    return None if isinstance(node, bool) else number_key(node)


def scalar_key(value: Any) -> tuple[str, Any] | None:
    """A JSON scalar as (its JSON type, a key ordered and equal as PostgreSQL's ``jsonb`` orders
    that type: numbers by exact value, strings by code point), None for null and containers.
    Comparing two attributes (``CmpAttr``) compares these."""
    t = type(value)
    if t is bool:
        return ("boolean", value)
    if t is int:
        return ("number", value)
    if t is float:
        return ("number", Decimal(repr(value))) if math.isfinite(value) else None
    if t is str:
        return ("string", value)
    return None


def format_datetime_us(us: int) -> str:
    """Canonical text of an instant: UTC, ``Z``, fraction only when needed (3 or 6 digits)."""
    when = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=us)
    text = (
        f"{when.year:04d}-{when.month:02d}-{when.day:02d}"
        f"T{when.hour:02d}:{when.minute:02d}:{when.second:02d}"
    )
    if when.microsecond:
        frac = f"{when.microsecond:06d}"
        text += "." + (frac[:3] if frac.endswith("000") else frac)
    return text + "Z"


def canonical_datetime(text: str) -> str | None:
    us = parse_datetime_us(text)
    return None if us is None else format_datetime_us(us)


def parse_date_days(text: str) -> int | None:
    """Days since 1970-01-01 of a ``YYYY-MM-DD`` literal."""
    m = DATE_RE.fullmatch(text)
    if m is None:
        return None
    year, month, day = int(m[1]), int(m[2]), int(m[3])
    if year < 1 or not 1 <= month <= 12 or not 1 <= day <= _days_in_month(year, month):
        return None
    return dt.date(year, month, day).toordinal() - _EPOCH_ORDINAL


# ----------------------------------------------------------------------------- versions


def _num(digits: str) -> str:
    """Length-prefixed digits: byte order of the result is numeric order."""
    return f"{len(digits):010d}{digits}"


def semver_key_text(text: str) -> str | None:
    """A text whose byte order is SemVer 2.0 precedence (build metadata ignored).

    Pre-release identifiers: numeric ones (``1`` + length-prefixed digits) sort below alphanumeric
    ones (``2`` + ASCII + ``!``); ``0`` ends the list, so a shorter list that is a prefix sorts
    first; a release (``1``) sorts after all of its pre-releases (``0``…).
    """
    m = SEMVER_RE.fullmatch(text)
    if m is None:
        return None
    key = _num(m[1]) + _num(m[2]) + _num(m[3])
    if m[4] is None:
        return key + "1"
    parts = [
        "1" + _num(part) if _DIGITS_RE.fullmatch(part) else "2" + part + "!"
        for part in m[4].split(".")
    ]
    return key + "0" + "".join(parts) + "0"


def semver_key(value: Any) -> str | None:
    return semver_key_text(value) if type(value) is str else None


def version_tuple(text: str) -> tuple[int, int, int, int] | None:
    """Confidence's version parsing (resolver ``parse_version``)."""
    head = text.split("-", 1)[0]
    if not _VERSION_HEAD_RE.fullmatch(head):
        return None
    parts = head.split(".")
    nums = [int(p) for p in parts]
    if len(parts) == 2:
        return (nums[0], nums[1], 0, 0)
    if len(parts) == 3:
        if len(parts[2]) > 3:  # a >3-digit "patch" is a build tag
            return (nums[0], nums[1], 0, nums[2])
        return (nums[0], nums[1], nums[2], 0)
    return (nums[0], nums[1], nums[2], nums[3])


def version_key_text(text: str) -> str | None:
    parts = version_tuple(text)
    return None if parts is None else ".".join(f"{p:010d}" for p in parts)


def version_key(value: Any) -> str | None:
    return version_key_text(value) if type(value) is str else None


# ----------------------------------------------------------------------------- literals

KEY_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "string": string_key,
    "number": number_key,
    "bool": bool_key,
    "datetime": datetime_key,
    "date": date_key,
    "semver": semver_key,
    "version": version_key,
}
"""Kind → key of a context value. ``null`` has none: comparisons with null are false."""


def lit_key(lit: Lit, ci: bool = False) -> Any:
    """The key of a literal (None when the literal is not a valid value of its kind)."""
    v = lit.value
    kind = lit.kind
    if kind == "string":
        if type(v) is not str:
            return None
        return v.casefold() if ci else v
    if kind == "number":
        return number_key(v) if type(v) in (int, float) else None
    if kind == "bool":
        return v if type(v) is bool else None
    if type(v) is not str:
        return None
    if kind == "datetime":
        return parse_datetime_us(v)
    if kind == "date":
        return parse_date_days(v)
    if kind == "semver":
        return semver_key_text(v)
    if kind == "version":
        return version_key_text(v)
    return None


def canonical_lit(lit: Lit) -> Lit:
    """The canonical literal (numbers as their double, datetimes in canonical UTC text)."""
    if lit.kind == "number" and type(lit.value) in (int, float):
        number = canonical_number(lit.value)  # type: ignore[arg-type]
        if number is not None and (number != lit.value or type(number) is not type(lit.value)):
            return Lit("number", number)
    elif lit.kind == "datetime" and type(lit.value) is str:
        text = canonical_datetime(lit.value)
        if text is not None and text != lit.value:
            return Lit("datetime", text)
    return lit
