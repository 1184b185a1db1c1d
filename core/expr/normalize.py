"""The canonical form of a condition: equal conditions serialise equally.

``normalize`` keeps the meaning (the evaluator gives the same answer for every context) and:

* pushes ``Not`` down to the atoms (negation normal form; ``Not(Quant(any…))`` becomes
  ``Quant(all, …, Not …)``) and drops double negation;
* flattens nested ``And``/``Or``, drops duplicate arguments, sorts them by their canonical JSON
  and unwraps single-argument ``And``/``Or``;
* canonicalises literals (numbers as their double, integral ones as int; datetimes as UTC text),
  sorts and deduplicates ``In.values`` and ``StrOp.values``, drops ``ci`` where no string kind
  uses it, turns a one-value ``In`` into ``Cmp eq`` and ``x != true`` into ``x = false``;
* merges what several languages can only say as one construct, so that rendering and parsing back
  gives the normal form: inside an ``Or``, equalities on one path/kind into one ``In`` and string
  tests of one operator into one ``StrOp``, ``x < v or x > v`` into ``x != v``; inside an
  ``And``, the negated forms of both (``Not(In)``, ``Not(StrOp)``: Unleash ``NOT_IN`` lists);
* rewrites ``Like`` patterns that are plain prefix/suffix/substring tests as ``StrOp``, and
  ``Quant(any, p, atom on the element)`` as the atom on ``p`` (the same any-element semantics).

Recursion is bounded by the input's depth, which every parser limits (``Limits.max_depth``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import msgspec

from core.errors import LimitExceeded
from core.expr.ast import (
    And,
    Arith,
    Cmp,
    CmpAttr,
    CmpOp,
    Count,
    DatePart,
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
    encode,
)
from core.expr.kinds import canonical_lit, canonical_number

_MAX_DEPTH = 512
"""A guard against hand-built ASTs far deeper than any parser allows."""

VALUE_ATOMS = (Cmp, In, StrOp, Like, Regex)
"""Atoms that test the value(s) at their path one element at a time."""
_MIRRORED: dict[CmpOp, CmpOp] = {
    "eq": "eq",
    "ne": "ne",
    "lt": "gt",
    "le": "ge",
    "gt": "lt",
    "ge": "le",
}


def normalize(expr: Expr | None) -> Expr | None:
    if expr is None:
        return None
    return _simplify(_nnf(expr, False, 0), 0)


# ----------------------------------------------------------------------------- atoms


def _sorted_lits(values: Iterable[Lit]) -> tuple[Lit, ...]:
    unique = {msgspec.json.encode(v): v for v in (canonical_lit(v) for v in values)}
    return tuple(unique[k] for k in sorted(unique))


def canonical_atom(atom: Expr) -> Expr:
    """One atom in canonical form (may return an ``Or`` for a mixed-kind ``In``)."""
    if isinstance(atom, Cmp):
        lit = canonical_lit(atom.value)
        ci = atom.ci and lit.kind == "string"
        if atom.op == "ne" and lit.kind == "bool" and isinstance(lit.value, bool):
            return Cmp("eq", atom.path, Lit("bool", not lit.value), False)
        return Cmp(atom.op, atom.path, lit, ci)
    if isinstance(atom, In):
        values = _sorted_lits(atom.values)
        kinds = sorted({v.kind for v in values})
        if len(kinds) > 1:  # "all of one kind": a mixed list is an Or of one In per kind
            return Or(
                tuple(
                    canonical_atom(In(atom.path, tuple(v for v in values if v.kind == k), atom.ci))
                    for k in kinds
                )
            )
        ci = atom.ci and kinds == ["string"]
        if len(values) == 1:
            return Cmp("eq", atom.path, values[0], ci)
        return In(atom.path, values, ci)
    if isinstance(atom, StrOp):
        return StrOp(atom.op, atom.path, tuple(sorted(set(atom.values))), atom.ci)
    if isinstance(atom, Like):
        return _like_as_strop(atom) or atom
    if isinstance(atom, Count):
        return Count(atom.op, atom.path, canonical_lit(atom.value), atom.distinct)
    if isinstance(atom, CmpAttr) and atom.right < atom.left:
        # `b = a` is `a = b`, `b < a` is `a > b`: one spelling, the paths in order
        return CmpAttr(_MIRRORED[atom.op], atom.right, atom.left)
    if isinstance(atom, Arith):
        left, right = (
            side if isinstance(side, tuple) else canonical_number(side) or 0
            for side in (atom.left, atom.right)
        )
        return Arith(atom.fn, left, right, atom.op, canonical_lit(atom.value))
    if isinstance(atom, Mod):
        return Mod(atom.path, atom.divisor, atom.op, canonical_lit(atom.value))
    if isinstance(atom, DatePart):
        return DatePart(atom.part, atom.op, atom.path, canonical_lit(atom.value))
    return atom


def _like_as_strop(like: Like) -> StrOp | None:
    """``abc%`` → starts_with, ``%abc`` → ends_with, ``%abc%`` → contains (strings only in both)."""
    pattern = like.pattern
    if "_" in pattern:
        return None
    lead = len(pattern) - len(pattern.lstrip("%"))
    core = pattern.strip("%")
    trail = len(pattern) - lead - len(core) if core else 0
    if "%" in core:
        return None
    if not core:
        return StrOp("starts_with", like.path, ("",), like.ci) if lead else None
    if lead and trail:
        return StrOp("contains", like.path, (core,), like.ci)
    if trail:
        return StrOp("starts_with", like.path, (core,), like.ci)
    if lead:
        return StrOp("ends_with", like.path, (core,), like.ci)
    return None  # a whole-string equality on strings only: no other atom says that


# ----------------------------------------------------------------------------- NNF


def _check_depth(depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise LimitExceeded("expression", f"nesting deeper than {_MAX_DEPTH}")


def _nnf(expr: Expr, negate: bool, depth: int) -> Expr:
    _check_depth(depth)
    if isinstance(expr, Not):
        return _nnf(expr.arg, not negate, depth + 1)
    if isinstance(expr, And | Or):
        args = tuple(_nnf(a, negate, depth + 1) for a in expr.args)
        flip = isinstance(expr, And) == negate  # De Morgan
        return Or(args) if flip else And(args)
    if isinstance(expr, Quant):
        cond = _nnf(expr.cond, negate, depth + 1)
        q = expr.q if not negate else ("all" if expr.q == "any" else "any")
        return Quant(q, expr.path, cond)
    atom = canonical_atom(expr)
    if isinstance(atom, Or):  # a split In
        return _nnf(atom, negate, depth + 1)
    return Not(atom) if negate else atom


# ----------------------------------------------------------------------------- simplify


def _simplify(expr: Expr, depth: int) -> Expr:
    _check_depth(depth)
    if isinstance(expr, And | Or):
        args = [_simplify(a, depth + 1) for a in expr.args]
        return _junction(type(expr), args)
    if isinstance(expr, Quant):
        return _quant(Quant(expr.q, expr.path, _simplify(expr.cond, depth + 1)))
    return expr


def _junction(kind: type[And] | type[Or], args: list[Expr]) -> Expr:
    flat: list[Expr] = []
    for a in args:
        flat.extend(a.args if isinstance(a, kind) else (a,))
    merged = _merge_or(flat) if kind is Or else _merge_and(flat)
    unique = {encode(a): a for a in merged}
    ordered = tuple(unique[k] for k in sorted(unique))
    if len(ordered) == 1:
        return ordered[0]
    return kind(ordered)


def _quant(q: Quant) -> Expr:
    """``any`` element matching an atom on the element is the atom on the path; ``all`` elements
    not matching it is its negation."""
    cond = q.cond
    if q.q == "any" and isinstance(cond, VALUE_ATOMS) and cond.path == ():
        return _with_path(cond, q.path)
    if (
        q.q == "all"
        and isinstance(cond, Not)
        and isinstance(cond.arg, VALUE_ATOMS)
        and cond.arg.path == ()
    ):
        return Not(_with_path(cond.arg, q.path))
    return q


def _with_path(atom: Cmp | In | StrOp | Like | Regex, path: Path) -> Expr:
    if isinstance(atom, Cmp):
        return Cmp(atom.op, path, atom.value, atom.ci)
    if isinstance(atom, In):
        return In(path, atom.values, atom.ci)
    if isinstance(atom, StrOp):
        return StrOp(atom.op, path, atom.values, atom.ci)
    if isinstance(atom, Like):
        return Like(path, atom.pattern, atom.ci)
    return Regex(path, atom.pattern, atom.ci)


def _merge_or(args: list[Expr]) -> list[Expr]:
    out = _merge_groups(args, _eq_group, lambda g: _as_in(g), keep_negation=False)
    out = _merge_groups(out, _strop_group, lambda g: _as_strop(g), keep_negation=False)
    return _merge_ne(out)


def _merge_and(args: list[Expr]) -> list[Expr]:
    out = _merge_groups(args, _eq_group, lambda g: _as_in(g), keep_negation=True)
    out = _merge_groups(out, _strop_group, lambda g: _as_strop(g), keep_negation=True)
    return _merge_ne(out, negated=True)


GroupKey = tuple[object, ...]


def _merge_groups(
    args: list[Expr],
    key_of: Callable[[Expr], GroupKey | None],
    merge: Callable[[list[Expr]], Expr],
    *,
    keep_negation: bool,
) -> list[Expr]:
    """Merge the atoms (under ``Not`` when ``keep_negation``) that share a group key."""
    groups: dict[GroupKey, list[Expr]] = {}
    out: list[Expr | GroupKey] = []
    for a in args:
        atom = a.arg if keep_negation and isinstance(a, Not) else (None if keep_negation else a)
        key = key_of(atom) if atom is not None else None
        if key is None:
            out.append(a)
            continue
        assert atom is not None
        if key not in groups:
            groups[key] = []
            out.append(key)
        groups[key].append(atom)
    result: list[Expr] = []
    for item in out:
        if isinstance(item, tuple):
            members = groups[item]
            merged = members[0] if len(members) == 1 else merge(members)
            result.append(Not(merged) if keep_negation else merged)
        else:
            result.append(item)
    return result


def _eq_group(e: Expr) -> GroupKey | None:
    if isinstance(e, Cmp) and e.op == "eq":
        return ("eq", e.path, e.ci, e.value.kind)
    if isinstance(e, In) and e.values:
        return ("eq", e.path, e.ci, e.values[0].kind)
    return None


def _as_in(group: list[Expr]) -> Expr:
    first = group[0]
    assert isinstance(first, Cmp | In)
    values: list[Lit] = []
    for e in group:
        values.extend(e.values if isinstance(e, In) else (e.value,))  # type: ignore[union-attr]
    return canonical_atom(In(first.path, tuple(values), first.ci))


def _strop_group(e: Expr) -> GroupKey | None:
    if isinstance(e, StrOp):
        return ("str", e.op, e.path, e.ci)
    return None


def _as_strop(group: list[Expr]) -> Expr:
    first = group[0]
    assert isinstance(first, StrOp)
    values = [v for e in group if isinstance(e, StrOp) for v in e.values]
    return StrOp(first.op, first.path, tuple(sorted(set(values))), first.ci)


_ORDERED = frozenset({"number", "string", "datetime", "date", "semver", "version"})


def _merge_ne(args: list[Expr], negated: bool = False) -> list[Expr]:
    """``x < v or x > v`` is ``x != v`` for the totally ordered kinds (both false on missing);
    with ``negated``, ``not x < v and not x > v`` is ``not x != v`` (inside an ``And``)."""

    def cmp_of(e: Expr) -> Cmp | None:
        inner = e.arg if negated and isinstance(e, Not) else e
        if isinstance(inner, Cmp) and inner.op in ("lt", "gt") and inner.value.kind in _ORDERED:
            return inner
        return None

    def key(e: Cmp) -> tuple[Path, Lit, bool]:
        return (e.path, e.value, e.ci)

    ops: dict[tuple[Path, Lit, bool], set[str]] = {}
    for e in args:
        if (hit := cmp_of(e)) is not None and (not negated or isinstance(e, Not)):
            ops.setdefault(key(hit), set()).add(hit.op)
    pairs = {k for k, found in ops.items() if found == {"lt", "gt"}}
    if not pairs:
        return args
    out: list[Expr] = []
    for e in args:
        hit = cmp_of(e) if (not negated or isinstance(e, Not)) else None
        if hit is None or key(hit) not in pairs:
            out.append(e)
        elif hit.op == "gt":  # one ne for the pair, where its "gt" half stood
            ne = Cmp("ne", hit.path, hit.value, hit.ci)
            out.append(Not(ne) if negated else ne)
    return out


__all__ = ["VALUE_ATOMS", "canonical_atom", "normalize"]
