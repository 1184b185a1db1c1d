"""Conditions relative to the clock (``Occurs``, ``NowPart``) pinned to one instant.

Everything that decides such a condition — the evaluator, both SQL compilers — first replaces it
with fixed atoms for the request's instant (``core.clock``): :func:`pin` gives ``Cmp`` atoms on
``datetime`` (or ``number``) literals, so a relative condition means exactly what the fixed
condition at that instant means, on every backend, and one request sees one instant.

The periods (Adobe's PQL documentation names the forms but not their edges; these are segmux's
decisions, also in docs/dialects/adobe.md):

* Time is UTC. A day word (``today``, ``yesterday``, ``tomorrow``) is that whole UTC day;
  ``now`` is the instant itself. Weeks start on Monday (ISO 8601); a decade, century and
  millennium start at a year divisible by 10, 100, 1000.
* ``last|this|next <unit>``: the calendar period (the unit's start at or before now) one before,
  the one holding now, one after.
* ``<cmp> N <unit>s before|after T``: the period P is the ``unit`` N units before (after) T's
  own start, truncated to the unit (``= 3 days before today`` is the UTC day three days ago,
  ``= 2 hours before now`` the whole clock hour). ``=`` is in P, ``!=`` outside it; before T,
  ``>`` is earlier than P ("more than N units before"), ``>=`` earlier than P's end, ``<`` from
  P's end up to T, ``<=`` from P's start up to T; after T they mirror (``>`` after P, ``<``
  from T up to P).
* ``between A and B``: from A's start through B's end, both included.
* Month arithmetic keeps the day of the month, clamped to the month's last day.

An instant outside years 1-9999 is no ``datetime`` literal: a bound past either end is
replaced by what it means over the instants that exist (``v >= before-year-1`` is "is an
instant"; ``v < before-year-1`` is nothing).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Literal, get_args

from core.expr.ast import (
    And,
    Cmp,
    Expr,
    Lit,
    Not,
    NowPart,
    Occurs,
    OccursForm,
    Or,
    Path,
    Quant,
    TimeUnit,
)
from core.expr.kinds import MAX_US, MIN_US, US_PER_DAY, format_datetime_us

__all__ = [
    "DAY_WORDS",
    "MAX_OCCURS_N",
    "TIME_UNITS",
    "TIME_WORDS",
    "has_relative",
    "occurs_problem",
    "occurs_tail",
    "pin",
    "pin_atom",
    "read_occurs_tail",
]

# The units in the order the AST declares them: one list, not a copy to keep in step.
TIME_UNITS: tuple[TimeUnit, ...] = get_args(TimeUnit)
TIME_WORDS = ("now", "today", "yesterday", "tomorrow")
DAY_WORDS = {"yesterday": -1, "today": 0, "tomorrow": 1}
MAX_OCCURS_N = 1_000_000
"""The largest N in ``occurs = N units before …``: more than any calendar holds, small enough
that the arithmetic stays in plain integers."""

_FIXED_US: dict[str, int] = {
    "millisecond": 1_000,
    "second": 1_000_000,
    "minute": 60_000_000,
    "hour": 3_600_000_000,
    "day": US_PER_DAY,
    "week": 7 * US_PER_DAY,
}
_MONTHS: dict[str, int] = {
    "month": 1,
    "year": 12,
    "decade": 120,
    "century": 1200,
    "millennium": 12000,
}
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()

Op = Literal["lt", "le", "gt", "ge", "eq"]


# ------------------------------------------------------------------------ instants


def _date(us: int) -> tuple[dt.date, int]:
    days, rest = divmod(us, US_PER_DAY)
    return dt.date.fromordinal(days + _EPOCH_ORDINAL), rest


def _us(day: dt.date, rest: int = 0) -> int:
    return (day.toordinal() - _EPOCH_ORDINAL) * US_PER_DAY + rest


def truncate(us: int, unit: TimeUnit) -> int:
    """The start of the ``unit`` (UTC calendar) holding the instant ``us``."""
    if unit in _FIXED_US and unit != "week":
        return us - us % _FIXED_US[unit]
    days = us // US_PER_DAY
    if unit == "week":
        return (days - (days + 3) % 7) * US_PER_DAY  # 1970-01-01 was a Thursday
    day, _ = _date(us)
    if unit == "month":
        return _us(day.replace(day=1))
    step = {"year": 1, "decade": 10, "century": 100, "millennium": 1000}[unit]
    return _us(dt.date(max(1, day.year - day.year % step), 1, 1))


def shift(us: int, n: int, unit: TimeUnit) -> int | None:
    """``us`` moved by ``n`` units; None where that leaves years 1-9999."""
    if unit in _FIXED_US:
        moved = us + n * _FIXED_US[unit]
        return moved if MIN_US <= moved <= MAX_US else None
    day, rest = _date(us)
    months = day.year * 12 + day.month - 1 + n * _MONTHS[unit]
    year, month = divmod(months, 12)
    if not 1 <= year <= 9999:
        return None
    last = calendar.monthrange(year, month + 1)[1]
    return _us(dt.date(year, month + 1, min(day.day, last)), rest)


# ------------------------------------------------------------------------ bounds

_Bound = tuple[Op, int | None, int]
"""(op, instant or None, which end of the range an out-of-range instant lies past: -1 or 1)."""


def _word(word: str, now: int) -> tuple[int, int, bool]:
    """(start, end, is an instant) of a time word or an ISO day."""
    if word == "now":
        return now, now, True
    if word in DAY_WORDS:
        start = truncate(now, "day") + DAY_WORDS[word] * US_PER_DAY
        return start, start + US_PER_DAY, False
    start = _us(dt.date.fromisoformat(word))
    return start, start + US_PER_DAY, False


def _moved(base: int, n: int, unit: TimeUnit) -> tuple[_Bound, _Bound]:
    """``v >= start`` and ``v < end`` of the unit ``n`` units from ``base`` (truncated)."""
    start = shift(base, n, unit)
    end = shift(base, n + 1, unit)
    side = -1 if n < 0 else 1
    return ("ge", start, side), ("lt", end, -1 if n + 1 < 0 else 1)


def _bounds(o: Occurs, now: int) -> list[list[_Bound]]:
    """The condition as an OR of ANDs of bounds on the instant."""
    form = o.form
    if form in ("before", "on", "after"):
        lo, hi, point = _word(o.at, now)
        if form == "before":
            return [[("lt", lo, 1)]]
        if form == "after":
            return [[("gt", lo, 1)]] if point else [[("ge", hi, 1)]]
        return [[("eq", lo, 1)]] if point else [[("ge", lo, 1), ("lt", hi, 1)]]
    if form == "between":
        lo, _, _ = _word(o.at, now)
        _, hi, point = _word(o.until, now)
        return [[("ge", lo, 1), ("le", hi, 1) if point else ("lt", hi, 1)]]
    if form in ("last", "this", "next"):
        k = {"last": -1, "this": 0, "next": 1}[form]
        start, end = _moved(truncate(now, o.unit), k, o.unit)
        return [[start, end]]
    lo, hi, point = _word(o.at, now)
    base = truncate(lo, o.unit)
    start, end = _moved(base, o.n if o.after else -o.n, o.unit)
    up_to_t: _Bound = ("le", hi, 1) if point else ("lt", hi, 1)
    from_t: _Bound = ("ge", lo, 1)
    op = form
    if op == "eq":
        return [[start, end]]
    if op == "ne":
        return [[("lt", start[1], start[2])], [("ge", end[1], end[2])]]
    table: dict[str, list[list[_Bound]]]
    if not o.after:
        table = {
            "gt": [[("lt", start[1], start[2])]],
            "ge": [[end]],
            "lt": [[("ge", end[1], end[2]), up_to_t]],
            "le": [[start, up_to_t]],
        }
        return table[op]
    table = {
        "gt": [[("ge", end[1], end[2])]],
        "ge": [[start]],
        "lt": [[from_t, ("lt", start[1], start[2])]],
        "le": [[from_t, end]],
    }
    return table[op]


_MIN_LIT = Lit("datetime", format_datetime_us(MIN_US))


def _cmp(op: Op, path: Path, us: int | None, side: int) -> Expr:
    if us is not None and not MIN_US <= us <= MAX_US:
        side = 1 if us > MAX_US else -1
        us = None
    if us is None:
        # past year 9999 (side 1) or before year 1 (side -1): every instant is below / above
        below = side > 0
        always = (op in ("lt", "le")) == below
        return Cmp("ge", path, _MIN_LIT) if always and op != "eq" else Cmp("lt", path, _MIN_LIT)
    return Cmp(op, path, Lit("datetime", format_datetime_us(us)))


def pin_atom(atom: Occurs | NowPart, now: int) -> Expr:
    """The fixed condition ``atom`` means at the instant ``now`` (µs since the epoch, UTC)."""
    if isinstance(atom, NowPart):
        day, _ = _date(now)
        part = {"year": day.year, "month": day.month, "day": day.day}[atom.part]
        return Cmp(atom.op, atom.path, Lit("number", part))
    alternatives: list[Expr] = []
    for bounds in _bounds(atom, now):
        if len(bounds) == 1:
            op, us, side = bounds[0]
            alternatives.append(_cmp(op, atom.path, us, side))
        else:
            # both ends on one value: a list of instants matches when one element is in range
            inner = tuple(_cmp(op, (), us, side) for op, us, side in bounds)
            alternatives.append(Quant("any", atom.path, And(inner)))
    return alternatives[0] if len(alternatives) == 1 else Or(tuple(alternatives))


def pin(expr: Expr, now: int) -> Expr:
    """``expr`` with every relative atom pinned to ``now``; unchanged (the same object) when it
    holds none."""
    if isinstance(expr, Occurs | NowPart):
        return pin_atom(expr, now)
    if isinstance(expr, And | Or):
        args = tuple(pin(a, now) for a in expr.args)
        if all(a is b for a, b in zip(args, expr.args, strict=True)):
            return expr
        return And(args) if isinstance(expr, And) else Or(args)
    if isinstance(expr, Not):
        arg = pin(expr.arg, now)
        return expr if arg is expr.arg else Not(arg)
    if isinstance(expr, Quant):
        cond = pin(expr.cond, now)
        return expr if cond is expr.cond else Quant(expr.q, expr.path, cond)
    return expr


def has_relative(expr: Expr | None) -> bool:
    """Whether ``expr`` depends on the clock."""
    if expr is None:
        return False
    if isinstance(expr, Occurs | NowPart):
        return True
    if isinstance(expr, And | Or):
        return any(has_relative(a) for a in expr.args)
    if isinstance(expr, Not):
        return has_relative(expr.arg)
    if isinstance(expr, Quant):
        return has_relative(expr.cond)
    return False


def _is_day(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def occurs_problem(o: Occurs) -> str | None:
    """Why ``o`` is no ``occurs`` segmux reads (None when it is one); one rule for every
    language that can write the node."""
    form = o.form
    if form in ("before", "on", "after"):
        ok = o.at in TIME_WORDS and not o.until and o.n == 0 and o.unit == "day" and not o.after
        return None if ok else f"`occurs {form}` takes one of {', '.join(TIME_WORDS)}"
    if form == "between":
        ends = (o.at, o.until)
        if not all(e in TIME_WORDS or _is_day(e) for e in ends) or all(_is_day(e) for e in ends):
            return "`occurs between` takes a time word or a day at each end, at least one a word"
        return None if o.n == 0 and o.unit == "day" and not o.after else "`between` takes two ends"
    if form in ("last", "this", "next"):
        ok = o.at == "today" and not o.until and o.n == 0 and not o.after
        return None if ok else f"`occurs {form}` takes a unit only"
    if o.at not in ("now", "today") or o.until:
        return "`occurs <comparison> N units before|after` counts from now or today"
    if not 0 <= o.n <= MAX_OCCURS_N:
        return f"`occurs` counts 0 to {MAX_OCCURS_N} units"
    return None


# ------------------------------------------------------------------------ PQL words

_PLURALS: dict[str, TimeUnit] = {
    **{u: u for u in TIME_UNITS},
    **{u + "s": u for u in TIME_UNITS if u not in ("century", "millennium")},
    "centuries": "century",
    "millennia": "millennium",
}
_CMP_WORDS: dict[str, OccursForm] = {
    "=": "eq",
    "!=": "ne",
    "<": "lt",
    "<=": "le",
    ">": "gt",
    ">=": "ge",
}
_CMP_SYMBOLS = {form: sym for sym, form in _CMP_WORDS.items()}
_DAY_RE = r"date\(\s*(\d{1,4})\s*,\s*(\d{1,2})\s*,\s*(\d{1,2})\s*\)"
_END = rf"(now|today|yesterday|tomorrow|{_DAY_RE})"
_AT_RE = re.compile(r"(before|on|after)\s+(now|today|yesterday|tomorrow)")
_PERIOD_RE = re.compile(r"(last|this|next)\s+([a-z]+)")
_BETWEEN_RE = re.compile(rf"between\s+{_END}\s+and\s+{_END}")
_COUNT_RE = re.compile(
    r"(!=|<=|>=|=|<|>)\s*(\d{1,7})\s+([a-z]+)\s+(before|after|from)\s+(now|today)"
)


def _end_text(end: str) -> str:
    if end in TIME_WORDS:
        return end
    day = dt.date.fromisoformat(end)
    return f"date({day.year}, {day.month}, {day.day})"


def occurs_tail(o: Occurs) -> str:
    """What follows ``occurs`` in PQL for ``o`` (read back by :func:`read_occurs_tail`)."""
    if o.form in ("before", "on", "after"):
        return f"{o.form} {o.at}"
    if o.form == "between":
        return f"between {_end_text(o.at)} and {_end_text(o.until)}"
    if o.form in ("last", "this", "next"):
        return f"{o.form} {o.unit}"
    unit = o.unit if o.n == 1 else next(w for w, u in _PLURALS.items() if u == o.unit and w != u)
    direction = "after" if o.after else "before"
    return f"{_CMP_SYMBOLS[o.form]} {o.n} {unit} {direction} {o.at}"


def _day_end(match: re.Match[str], group: int) -> str:
    word = match.group(group)
    if word in TIME_WORDS:
        return word
    year, month, day = (int(match.group(group + k)) for k in (1, 2, 3))
    return dt.date(year, month, day).isoformat()  # ValueError: not a day


def read_occurs_tail(path: Path, text: str) -> Occurs:
    """The ``Occurs`` that ``path occurs <text>`` says; ``ValueError`` with the reason."""
    text = " ".join(text.split())
    if m := _AT_RE.fullmatch(text):
        form: OccursForm = "before" if m[1] == "before" else "on" if m[1] == "on" else "after"
        return Occurs(path, form, at=m[2])
    if m := _PERIOD_RE.fullmatch(text):
        unit = _PLURALS.get(m[2])
        if unit is None or unit != m[2]:
            raise ValueError(f"occurs {m[1]} takes one unit: {', '.join(TIME_UNITS)}")
        which: OccursForm = "last" if m[1] == "last" else "this" if m[1] == "this" else "next"
        return Occurs(path, which, unit=unit)
    if m := _BETWEEN_RE.fullmatch(text):
        try:
            low, high = _day_end(m, 1), _day_end(m, 5)
        except ValueError:
            raise ValueError("occurs between: a date(…) end is not a valid date") from None
        found = Occurs(path, "between", at=low, until=high)
    elif m := _COUNT_RE.fullmatch(text):
        unit = _PLURALS.get(m[3])
        if unit is None:
            raise ValueError(f"{m[3]!r} is no time unit: {', '.join(TIME_UNITS)}")
        found = Occurs(
            path, _CMP_WORDS[m[1]], at=m[5], n=int(m[2]), unit=unit, after=m[4] != "before"
        )
    else:
        raise ValueError(
            "occurs takes: before|on|after now|today|yesterday|tomorrow, last|this|next <unit>, "
            "between <time> and <time>, or <comparison> N <units> before|after now|today"
        )
    problem = occurs_problem(found)
    if problem is not None:
        raise ValueError(problem)
    return found
