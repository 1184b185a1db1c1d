"""Expression benchmarks: parse time per language, evaluations per second, many segments.

Run: ``python -m bench.expr`` (or ``python bench/expr.py``) from the repository root. Prints a
small table; numbers are medians of several timed runs on this machine.
"""

from __future__ import annotations

import datetime as dt
import functools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import clock
from core.errors import NotExpressible
from core.expr.ast import And, Cmp, Expr, In, Lit, Not, StrOp, encode
from core.expr.evaluate import compile_expr
from core.expr.languages import LANGUAGES
from core.expr.normalize import normalize
from core.expr.pql import parse_pql
from core.expr.segment_set import SegmentSet


def _s(v: str) -> Lit:
    return Lit("string", v)


def ten_atoms(i: int = 0) -> Expr:
    """A conjunction of 10 atoms every language can say (strings, numbers, sets, prefixes)."""
    return And(
        (
            Cmp("eq", ("country",), _s("SE")),
            In(("plan",), (_s("pro"), _s("team"), _s(f"p{i}"))),
            Cmp("ge", ("age",), Lit("number", 18)),
            Cmp("lt", ("age",), Lit("number", 65 + i % 3)),
            StrOp("starts_with", ("email",), ("admin",)),
            StrOp("ends_with", ("email",), (".com",)),
            Not(In(("tier",), (_s("banned"), _s("blocked")))),
            Cmp("eq", ("device", "os"), _s("ios")),
            Cmp("gt", ("visits",), Lit("number", i % 10)),
            StrOp("contains", ("referrer",), ("news",)),
        )
    )


def normal_atoms(i: int = 0) -> Expr:
    """``ten_atoms(i)`` in normal form (a conjunction of atoms never normalises away)."""
    expr = normalize(ten_atoms(i))
    assert expr is not None
    return expr


CONTEXT: dict[str, Any] = {
    "country": "SE",
    "plan": "pro",
    "age": "30",
    "email": "admin@example.com",
    "tier": "gold",
    "device": {"os": "ios"},
    "visits": 12,
    "referrer": "https://news.example",
}


def _timed(fn: Callable[[], object], repeat: int = 5, number: int = 1) -> float:
    """Median seconds for one call of ``fn``."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


NOW = dt.datetime(2024, 2, 29, 13, 45, 30, tzinfo=dt.UTC)
NEW_CONSTRUCTS: list[tuple[str, str, dict[str, Any]]] = [
    ("occurs last week", "a.d occurs last week", {"a": {"d": "2024-02-20T10:00:00Z"}}),
    ("occurs = 3 days before today", "a.d occurs = 3 days before today",
     {"a": {"d": "2024-02-26"}}),
    ("occurs between date and now", "a.d occurs between date(2015, 1, 8) and now",
     {"a": {"d": "2020-01-01T00:00:00Z"}}),
    ("currentMonth()", "a.m = currentMonth()", {"a": {"m": 2}}),
    ("a + b > n", "a.x + a.y > 100", {"a": {"x": 60, "y": 50}}),
    ("a / b <= n", "a.x / a.y <= 2", {"a": {"x": 3, "y": 2}}),
    ("a % n = m", "a.x % 5 = 0", {"a": {"x": 35}}),
    ("getMonth()", "a.d.getMonth() = 2", {"a": {"d": "2024-02-20T10:00:00Z"}}),
    ("includes", 'a.c.includes("red")', {"a": {"c": ["blue", "red"]}}),
    ("distinct().count()", "a.c.distinct().count() > 1", {"a": {"c": ["blue", "red"]}}),
    ("two attributes", "a.x = a.y", {"a": {"x": 3, "y": 3}}),
    ('.get("key")', 'm.get("k-1").v = 1', {"m": {"k-1": {"v": 1}}}),
]  # fmt: skip
"""The PQL constructs of the breadth work, each with a context it matches."""


_INSTANTS = iter(NOW + dt.timedelta(microseconds=i) for i in range(10**12))


def _fresh_clock(fn: Callable[[Any], bool], context: dict[str, Any]) -> bool:
    """One evaluation at an instant no call has seen (what each new request brings)."""
    with clock.one_clock(next(_INSTANTS)):
        return fn(context)


def new_constructs() -> list[tuple[str, str]]:
    """Parse (PQL text → AST) and evaluate (compiled, one context) cost of each construct; a
    condition relative to now is also timed with a new clock per call, as each request brings
    one (the pinned closure is rebuilt once per request)."""
    rows: list[tuple[str, str]] = []
    for name, text, context in NEW_CONSTRUCTS:
        parse_s = _timed(functools.partial(parse_pql, text), number=200)
        fn = compile_expr(parse_pql(text))
        with clock.one_clock(NOW):
            assert fn(context), text
            per_eval = _timed(functools.partial(fn, context), number=20_000)
        result = f"parse {parse_s * 1e6:,.0f} µs, evaluate {1 / per_eval:,.0f} /s"
        if "occurs" in text or "current" in text:
            per_request = _timed(functools.partial(_fresh_clock, fn, context), number=2_000)
            result += f", {1 / per_request:,.0f} /s with a new clock per call"
        rows.append((f"PQL {name}", result))
    return rows


def main() -> None:
    expr = normalize(ten_atoms())
    assert expr is not None
    rows: list[tuple[str, str]] = []
    for name, lang in LANGUAGES.items():
        try:
            text = lang.render(expr)
        except NotExpressible as exc:
            rows.append((f"parse 10 atoms: {name}", f"n/a ({exc.reason})"))
            continue
        except Exception as exc:  # a language still being written must not stop the bench
            rows.append((f"parse 10 atoms: {name}", f"error ({type(exc).__name__})"))
            continue
        seconds = _timed(functools.partial(lang.parse, text), number=200)
        rows.append((f"parse 10 atoms: {name}", f"{seconds * 1e6:,.0f} µs"))

    fn = compile_expr(expr)
    assert fn(CONTEXT)
    compile_s = _timed(lambda: compile_expr(expr), number=500)
    rows.append(("compile 10 atoms", f"{compile_s * 1e6:,.1f} µs"))
    per_eval = _timed(lambda: fn(CONTEXT), number=20_000)
    rows.append(("evaluate 10 atoms (match)", f"{1 / per_eval:,.0f} /s"))
    miss = dict(CONTEXT, country="NO")
    per_miss = _timed(lambda: fn(miss), number=20_000)
    rows.append(("evaluate 10 atoms (no match)", f"{1 / per_miss:,.0f} /s"))

    segments = [compile_expr(normalize(ten_atoms(i))) for i in range(1000)]
    per_all = _timed(lambda: [s(CONTEXT) for s in segments], number=20)
    rows.append(
        (
            "1,000 segments x 1 context",
            f"{per_all * 1e3:,.2f} ms ({1000 / per_all:,.0f} segment evaluations/s)",
        )
    )

    # What /segmux/v1/evaluate runs: the set, each distinct atom once, generated structure code.
    together = SegmentSet((str(i), encode(normal_atoms(i))) for i in range(1000))
    assert together.evaluate(CONTEXT) == {str(i): s(CONTEXT) for i, s in enumerate(segments)}
    per_set = _timed(lambda: together.evaluate(CONTEXT), number=50)
    rows.append(
        (
            "1,000 segments x 1 context (SegmentSet)",
            f"{per_set * 1e3:,.2f} ms ({1000 / per_set:,.0f} segment evaluations/s)",
        )
    )

    rows += new_constructs()

    width = max(len(k) for k, _ in rows)
    print(f"{'benchmark'.ljust(width)}  result")
    print(f"{'-' * width}  ------")
    for key, value in rows:
        print(f"{key.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
