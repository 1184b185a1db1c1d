"""Hypothesis strategies for random condition ASTs and random JSON profiles that bite: the
literals and the profile values come from overlapping pools (numeric strings, datetimes,
versions, mixed case, lists, nested objects, nulls), so atoms match often enough to matter."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import strategies as st

from core.expr.ast import (
    And,
    Arith,
    Cmp,
    CmpAttr,
    Count,
    DatePart,
    Exists,
    Expr,
    In,
    Like,
    Lit,
    Mod,
    Not,
    Or,
    Path,
    Quant,
    Regex,
    StrOp,
)
from tests.unit.expr.relative_strategies import relative_atoms

STRINGS = [
    "12",
    "12.0",
    "-3.5",
    "1e3",
    "0",
    "abc",
    "ABC",
    "aBc",
    "Straße",
    "STRASSE",
    "",
    "x_y%z",
    "a\nb",
    "café",
    "2024-01-02",
    "2024-01-02T03:04:05Z",
    "2024-01-02T03:04:05+05:00",
    "2024-01-01T23:00:00-02:00",
    "1.2.3",
    "1.2.3-alpha.1",
    "1.2.3-alpha",
    "2.0.0",
    "1.2",
    "1.2.3.4",
    "v1.2.3",
    "true",
    "FALSE",
    "premium",
    "pre",
    "mium",
]
NUMBERS: list[int | float] = [12, 12.5, -3.5, 0, 1000, 1e3, 1668698178, 1668698177200, 3]
SCALARS: list[Any] = [*STRINGS, *NUMBERS, True, False, None]
KEYS = ["a", "b", "c", "tags"]
PATHS: list[Path] = [
    ("a",),
    ("b",),
    ("c",),
    ("tags",),
    ("o", "a"),
    ("o", "b"),
    ("l", "a"),
    ("l", "tags"),
    ("o", "o", "a"),
]
ELEMENT_PATHS: list[Path] = [(), (), ("a",)]

LITERALS: dict[str, list[Any]] = {
    "string": ["12", "abc", "ABC", "straße", "", "1.2.3", "premium", "2024-01-02", "a\nb"],
    "number": [12, -3.5, 0, 1000, 3],
    "bool": [True, False],
    "datetime": ["2024-01-02T03:04:05Z", "2024-01-02T00:00:00Z", "2022-11-17T15:16:17Z"],
    "date": ["2024-01-02", "2024-01-01"],
    "semver": ["1.2.3", "2.0.0-alpha.1", "1.2.3-alpha", "2.0.0"],
    "version": ["1.2", "1.2.3", "1.2.3.4"],
    "null": [None],
}
LIKE_PATTERNS = ["%b%", "a_c", "ABC", "1%", "%.0", "x\\_y%", "%", "_", "stra%"]
REGEX_PATTERNS = [
    "^a",
    "b$",
    "[0-9]+",
    "^(?i)abc$",
    "a.b",
    "(?m)^b$",
    "\\d{2}",
    "^$",
    "é",
    "^[[:alpha:]]+$",
    "(?s)a.b",
    "x_y%",
]


def lits(kind: str | None = None) -> st.SearchStrategy[Lit]:
    kinds = [kind] if kind else list(LITERALS)
    return st.sampled_from(kinds).flatmap(
        lambda k: st.sampled_from(LITERALS[k]).map(lambda v: Lit(k, v))  # type: ignore[arg-type]
    )


def atoms(paths: list[Path]) -> st.SearchStrategy[Expr]:
    path = st.sampled_from(paths)
    ci = st.booleans()
    return st.one_of(
        st.builds(Cmp, st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"]), path, lits(), ci),
        st.builds(
            In,
            path,
            st.sampled_from(list(LITERALS)).flatmap(
                lambda k: st.lists(lits(k), min_size=0, max_size=3).map(tuple)
            ),
            ci,
        ),
        st.builds(
            StrOp,
            st.sampled_from(["starts_with", "ends_with", "contains"]),
            path,
            st.lists(
                st.sampled_from(["a", "b", "1", "", "ß", "pre", "mium", "STR"]),
                min_size=1,
                max_size=2,
            ).map(tuple),
            ci,
        ),
        st.builds(Like, path, st.sampled_from(LIKE_PATTERNS), ci),
        st.builds(Regex, path, st.sampled_from(REGEX_PATTERNS), st.just(False)),
        st.builds(Exists, path),
        st.builds(
            Count,
            st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"]),
            path,
            st.sampled_from([0, 1, 2, 3, 1.5]).map(lambda n: Lit("number", n)),
            st.booleans(),
        ),
        st.builds(
            Mod,
            path,
            st.sampled_from([2, 3, 5, -4, 1000]),
            st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"]),
            st.sampled_from([0, 1, 2, -1, 0.5]).map(lambda n: Lit("number", n)),
        ),
        st.builds(CmpAttr, st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"]), path, path),
        st.builds(
            DatePart,
            st.sampled_from(["year", "month", "day"]),
            st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"]),
            path,
            st.sampled_from([1, 2, 11, 17, 2022, 2024, 2.5]).map(lambda n: Lit("number", n)),
        ),
        relative_atoms(path),
        st.builds(
            Arith,
            st.sampled_from(["add", "sub", "mul", "div"]),
            st.one_of(path, st.sampled_from([0, 2, -1.5, 1e308, 1e-300])),
            path,
            st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"]),
            st.sampled_from([0, 1, 2, 3, -1, 0.5, 1e308]).map(lambda n: Lit("number", n)),
        ),
    )


def exprs(max_leaves: int = 6, paths: list[Path] = PATHS) -> st.SearchStrategy[Expr]:
    def extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        return st.one_of(
            st.lists(children, min_size=2, max_size=3).map(lambda a: And(tuple(a))),
            st.lists(children, min_size=2, max_size=3).map(lambda a: Or(tuple(a))),
            children.map(Not),
            st.builds(
                Quant,
                st.sampled_from(["any", "all"]),
                st.sampled_from(PATHS),
                st.recursive(
                    atoms(ELEMENT_PATHS),
                    lambda c: st.one_of(
                        c.map(Not),
                        st.lists(c, min_size=2, max_size=2).map(lambda a: And(tuple(a))),
                        st.lists(c, min_size=2, max_size=2).map(lambda a: Or(tuple(a))),
                    ),
                    max_leaves=2,
                ),
            ),
        )

    return st.recursive(atoms(paths), extend, max_leaves=max_leaves)


# ----------------------------------------------------------------------------- profiles


def _scalar(rng: random.Random) -> Any:
    return rng.choice(SCALARS)


def _value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if roll < 0.55 or depth > 2:
        return _scalar(rng)
    if roll < 0.75:
        return [_scalar(rng) for _ in range(rng.randint(0, 3))]
    if roll < 0.9:
        return _object(rng, depth + 1)
    return [
        _object(rng, depth + 1) if rng.random() < 0.7 else _scalar(rng)
        for _ in range(rng.randint(0, 3))
    ]


def _object(rng: random.Random, depth: int) -> dict[str, Any]:
    names = [*KEYS, "o", "l"] if depth < 2 else KEYS
    return {k: _value(rng, depth) for k in names if rng.random() < 0.6}


def random_profiles(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """A deterministic corpus of profiles covering missing/null/strings/numbers/lists/objects."""
    rng = random.Random(seed)
    return [_object(rng, 0) for _ in range(count)]


@st.composite
def profiles(draw: st.DrawFn, max_size: int = 6) -> list[dict[str, Any]]:
    seed = draw(st.integers(0, 2**32 - 1))
    size = draw(st.integers(1, max_size))
    return random_profiles(size, seed)
