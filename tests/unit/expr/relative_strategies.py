"""Hypothesis strategies for the conditions relative to the clock (``Occurs``, ``NowPart``):
every form the PQL text reads, so properties over them cover what a client can write."""

from __future__ import annotations

from hypothesis import strategies as st

from core.expr.ast import NowPart, Occurs, Path
from core.expr.relative import TIME_UNITS, TIME_WORDS

CMP_OPS = ("eq", "ne", "lt", "le", "gt", "ge")
DAYS = ("2015-01-08", "2024-02-29", "2024-03-01")


def relative_atoms(path: st.SearchStrategy[Path]) -> st.SearchStrategy[Occurs | NowPart]:
    units = st.sampled_from(TIME_UNITS)
    words = st.sampled_from(TIME_WORDS)
    ends = st.one_of(words, st.sampled_from(DAYS))
    return st.one_of(
        st.builds(
            lambda p, f, w: Occurs(p, f, at=w),
            path,
            st.sampled_from(("before", "on", "after")),
            words,
        ),
        st.builds(
            lambda p, lo, hi: Occurs(p, "between", at=lo, until=hi),
            path,
            words,
            ends,
        ),
        st.builds(
            lambda p, lo, hi: Occurs(p, "between", at=lo, until=hi),
            path,
            st.sampled_from(DAYS),
            words,
        ),
        st.builds(
            lambda p, f, u: Occurs(p, f, unit=u),
            path,
            st.sampled_from(("last", "this", "next")),
            units,
        ),
        st.builds(
            lambda p, op, n, u, after, at: Occurs(p, op, at=at, n=n, unit=u, after=after),
            path,
            st.sampled_from(CMP_OPS),
            st.sampled_from((0, 1, 2, 3, 30, 1000)),
            units,
            st.booleans(),
            st.sampled_from(("now", "today")),
        ),
        st.builds(
            NowPart, st.sampled_from(("year", "month", "day")), st.sampled_from(CMP_OPS), path
        ),
    )
