"""Hypothesis strategies for canonical ASTs (``core.expr.ast``), shared by every language's tests.

``exprs(profile)`` draws conditions of bounded depth in the *flat* form parsers produce: And /
Or have at least two arguments and never a direct child of their own type. ``AstProfile``
narrows the draw to what a language can say (literal kinds, node types, ``ci``, values per
test), so round-trip properties are not drowned in ``NotExpressible``.

Paths are short tuples of simple identifiers, with keywords of several languages mixed in
(``not``, ``in``, ``true``, ``eq``, ``exists`` …) to exercise renderers' escaping. The empty
path (the list element itself) is only drawn inside a ``Quant``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import get_args

from hypothesis import strategies as st

from core.expr.ast import (
    And,
    Cmp,
    CmpAttr,
    CmpOp,
    Count,
    DatePart,
    Exists,
    Expr,
    In,
    Like,
    Lit,
    LitKind,
    Mod,
    Not,
    Or,
    Path,
    Quant,
    Regex,
    SegmentRef,
    StrOp,
    StrOpName,
)
from core.expr.kinds import canonical_datetime

ALL_KINDS: tuple[LitKind, ...] = get_args(LitKind)
ALL_NODES: frozenset[str] = frozenset(
    {
        "cmp",
        "in",
        "str",
        "like",
        "regex",
        "exists",
        "count",
        "datepart",
        "cmpattr",
        "mod",
        "segment",
        "and",
        "or",
        "not",
        "quant",
    }
)
"""Node names as in the AST's ``t`` tags."""

KEYWORD_NAMES = (
    "not", "and", "or", "in", "notIn", "like", "true", "false", "null", "date", "exists",
    "forall", "from", "where", "select", "now", "eq", "ne", "any", "all", "contains",
)  # fmt: skip


@dataclass(frozen=True)
class AstProfile:
    """What ``exprs`` may draw."""

    kinds: tuple[LitKind, ...] = tuple(k for k in ALL_KINDS if k != "null")
    nodes: frozenset[str] = ALL_NODES
    cmp_ops: tuple[CmpOp, ...] = get_args(CmpOp)
    ci: bool = True
    """Draw ``ci=True`` (only on string-valued atoms, where it means something)."""
    max_str_values: int = 3
    max_in_values: int = 4
    empty_sets: bool = True
    """Allow ``In``/``StrOp`` with no values."""
    max_args: int = 3
    flat: bool = True
    """And/Or never directly under their own kind (what parsers produce); False draws nested
    same-kind junctions too (inputs for ``normalize``)."""
    max_path: int = 3
    keyword_names: bool = True
    segment_refs: tuple[str, ...] = field(default=("seg-a", "seg-b"))
    refs_in_quant: bool = True
    """Draw ``SegmentRef`` inside a quantifier too (PQL's ``inSegment`` is only at the top)."""


def names(profile: AstProfile = AstProfile()) -> st.SearchStrategy[str]:
    plain = st.from_regex(r"[a-z][a-zA-Z0-9_]{0,5}", fullmatch=True)
    if not profile.keyword_names:
        return plain
    return st.one_of(plain, st.sampled_from(KEYWORD_NAMES))


def paths(
    profile: AstProfile = AstProfile(), *, allow_empty: bool = False
) -> st.SearchStrategy[Path]:
    return st.lists(
        names(profile), min_size=0 if allow_empty else 1, max_size=profile.max_path
    ).map(tuple)


def format_instant(value: dt.datetime) -> str:
    """The canonical text parsers give ``datetime`` literals (``core.expr.kinds``)."""
    text = canonical_datetime(value.isoformat())
    assert text is not None
    return text


def _numbers() -> st.SearchStrategy[int | float]:
    floats = st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer())
    return st.one_of(st.integers(-(10**12), 10**12), floats)


_VALUES: dict[LitKind, st.SearchStrategy[object]] = {
    "string": st.text(st.characters(exclude_categories=["Cs"]), max_size=8),
    "number": _numbers(),
    "bool": st.booleans(),
    "datetime": st.datetimes(
        min_value=dt.datetime(1, 1, 2),
        max_value=dt.datetime(9999, 12, 30),
        timezones=st.just(dt.UTC),
    ).map(format_instant),
    "date": st.dates().map(dt.date.isoformat),
    "semver": st.from_regex(
        r"(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]?)\.(0|[1-9])(-rc\.[0-9])?", fullmatch=True
    ),
    "version": st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){1,3}", fullmatch=True),
    "null": st.none(),
}


def lits(kind: LitKind) -> st.SearchStrategy[Lit]:
    return _VALUES[kind].map(lambda value: Lit(kind, value))  # type: ignore[arg-type]


def _ci(profile: AstProfile, kind: LitKind | None = "string") -> st.SearchStrategy[bool]:
    return st.booleans() if profile.ci and kind == "string" else st.just(False)


def _cmp(profile: AstProfile, path: st.SearchStrategy[Path]) -> st.SearchStrategy[Expr]:
    def build(kind: LitKind) -> st.SearchStrategy[Expr]:
        return st.builds(
            Cmp, st.sampled_from(profile.cmp_ops), path, lits(kind), _ci(profile, kind)
        )

    return st.sampled_from(profile.kinds).flatmap(build)


def _in(profile: AstProfile, path: st.SearchStrategy[Path]) -> st.SearchStrategy[Expr]:
    low = 0 if profile.empty_sets else 1

    def build(kind: LitKind) -> st.SearchStrategy[Expr]:
        values = st.lists(lits(kind), min_size=low, max_size=profile.max_in_values).map(tuple)
        return st.builds(In, path, values, _ci(profile, kind))

    return st.sampled_from(profile.kinds).flatmap(build)


def _text_atom(
    profile: AstProfile, path: st.SearchStrategy[Path], kind: str
) -> st.SearchStrategy[Expr]:
    text = _VALUES["string"]
    if kind == "str":
        low = 0 if profile.empty_sets else 1
        values = st.lists(text, min_size=low, max_size=profile.max_str_values).map(tuple)
        ops = st.sampled_from(get_args(StrOpName))
        return st.builds(StrOp, ops, path, values, _ci(profile))
    if kind == "like":
        pattern = st.from_regex(r"[a-z%_]{0,6}", fullmatch=True)
        return st.builds(Like, path, pattern, _ci(profile))
    pattern = st.sampled_from(("^a", "b$", "a.c", "[0-9]+", "(?i)x", "a|b", "^$"))
    return st.builds(Regex, path, pattern, _ci(profile))


def atoms(profile: AstProfile = AstProfile(), *, in_quant: bool = False) -> st.SearchStrategy[Expr]:
    path = paths(profile, allow_empty=in_quant)
    choices: list[st.SearchStrategy[Expr]] = []
    if "cmp" in profile.nodes and profile.kinds:
        choices.append(_cmp(profile, path))
    if "in" in profile.nodes and profile.kinds:
        choices.append(_in(profile, path))
    for kind in ("str", "like", "regex"):
        if kind in profile.nodes:
            choices.append(_text_atom(profile, path, kind))
    if "exists" in profile.nodes:
        choices.append(st.builds(Exists, path))
    if "count" in profile.nodes:
        choices.append(
            st.builds(Count, st.sampled_from(profile.cmp_ops), path, lits("number"), st.booleans())
        )
    if "cmpattr" in profile.nodes:
        choices.append(st.builds(CmpAttr, st.sampled_from(profile.cmp_ops), path, path))
    if "mod" in profile.nodes:
        divisors = st.integers(-(2**53) + 1, 2**53 - 1).filter(lambda d: d != 0)
        ops = st.sampled_from(profile.cmp_ops)
        choices.append(st.builds(Mod, path, divisors, ops, lits("number")))
    if "datepart" in profile.nodes:
        parts = st.sampled_from(("year", "month", "day"))
        ops = st.sampled_from(profile.cmp_ops)
        choices.append(st.builds(DatePart, parts, ops, path, lits("number")))
    if "segment" in profile.nodes and (profile.refs_in_quant or not in_quant):
        choices.append(st.builds(SegmentRef, st.sampled_from(profile.segment_refs)))
    if not choices:
        raise ValueError("the profile allows no atom")
    return st.one_of(choices)


def _junction(
    profile: AstProfile, sub: st.SearchStrategy[Expr], kind: type[And] | type[Or]
) -> st.SearchStrategy[Expr]:
    """``kind`` over 2..max_args arguments, none of them a ``kind`` itself (the flat form)."""

    def flat(expr: Expr) -> bool:
        return not isinstance(expr, kind)

    def build(args: list[Expr]) -> Expr:
        return kind(tuple(args))

    args = sub.filter(flat) if profile.flat else sub
    return st.lists(args, min_size=2, max_size=profile.max_args).map(build)


def exprs(
    profile: AstProfile = AstProfile(), *, depth: int = 3, in_quant: bool = False
) -> st.SearchStrategy[Expr]:
    """A condition at most ``depth`` levels deep, in flat n-ary form."""
    leaf = atoms(profile, in_quant=in_quant)
    if depth <= 1:
        return leaf
    sub = exprs(profile, depth=depth - 1, in_quant=in_quant)
    choices: list[st.SearchStrategy[Expr]] = [leaf]
    if "and" in profile.nodes:
        choices.append(_junction(profile, sub, And))
    if "or" in profile.nodes:
        choices.append(_junction(profile, sub, Or))
    if "not" in profile.nodes:
        choices.append(sub.map(Not))
    if "quant" in profile.nodes:
        body = exprs(profile, depth=depth - 1, in_quant=True)
        path = paths(profile, allow_empty=in_quant)
        choices.append(st.builds(Quant, st.sampled_from(("any", "all")), path, body))
    return st.one_of(choices)
