"""A strategy's constraints (and its segments') compiled as Yggdrasil compiles them: each
checked against what its rule text can carry, a constant where Yggdrasil writes one, the rest
parsed (``core.constraints.to_expression``) and evaluated (``core.expr.evaluate``) by the same
code as every other condition of segmux, read as the SDKs read a context.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from core.constraints import to_expression
from core.errors import Invalid, LimitExceeded, NotExpressible
from core.expr import ast
from core.expr.evaluate import compile_expr
from core.expr.kinds import SEMVER_RE, parse_datetime_us
from core.expr.unleash import OPERATORS
from core.unleash_context import STANDARD_FIELDS, Check, Prepared
from core.unleash_rule_text import Broken, escaped, quoted

# The grammar of Yggdrasil's rule text for the values it writes unquoted.
_YGG_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?")
_YGG_DATE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{3})?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
_FULL_INSTANT = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
"""A context date the SDKs' engine reads (RFC 3339): a subset of the shared evaluator's."""
_STRINGY = frozenset(("IN", "NOT_IN", "STR_STARTS_WITH", "STR_ENDS_WITH", "STR_CONTAINS"))
_STR_OPS = frozenset(("STR_STARTS_WITH", "STR_ENDS_WITH", "STR_CONTAINS"))
_SEMVER_OPS = frozenset(("SEMVER_EQ", "SEMVER_GT", "SEMVER_GTE", "SEMVER_LT", "SEMVER_LTE"))
_NUM_OPS = frozenset(("NUM_EQ", "NUM_GT", "NUM_GTE", "NUM_LT", "NUM_LTE"))
_DATE_OPS = frozenset(("DATE_AFTER", "DATE_BEFORE"))
_KNOWN_OPERATORS = frozenset(OPERATORS)


def compile_constraints(raw: list[Mapping[str, Any]]) -> Check | bool:
    """The conjunction of a strategy's and its segments' constraints: True (none), False (one
    can never hold) or a test; ``Broken`` where Yggdrasil's rule would not compile."""
    kept: list[dict[str, Any]] = []
    never = False
    for c in raw:
        constant = _constant(c)
        if constant is None:
            kept.append(dict(c))
        elif constant is False:
            never = True
    if never:
        return False
    if not kept:
        return True
    try:
        expr = to_expression(kept)
    except (Invalid, LimitExceeded, NotExpressible) as exc:
        raise Broken(str(exc)) from exc
    if expr is None:
        return True
    read = _as_sdks_read(expr)
    general = _compiled(read)
    required, excluded, rest = _string_sets(read)
    if not required and not excluded:
        return lambda p: general(p.flat)
    needed = tuple(required.items())
    refused = tuple(excluded.items())
    others = _compiled(rest[0] if len(rest) == 1 else ast.And(tuple(rest))) if rest else None

    def check(p: Prepared) -> bool:
        flat = p.flat
        if not p.plain:
            return general(flat)
        for key, allowed in needed:
            if flat.get(key) not in allowed:  # missing (None) is in no set
                return False
        for key, banned in refused:
            if flat.get(key) in banned:
                return False
        return others is None or others(flat)

    return check


def _compiled(expr: ast.Expr) -> Callable[[Mapping[str, Any]], bool]:
    # ``caseInsensitive`` (STR_* only; IN ignores it): Yggdrasil lower-cases both sides
    # (Rust's ``to_lowercase``, which Python's ``str.lower`` matches, final sigma included).
    # The shared evaluator's ``casefold`` is wider: "STRASSE" contains "straße", "ﬁle" starts
    # with "FILE" — matches no SDK makes.
    return compile_expr(expr, fold=str.lower)


def _string_sets(
    expr: ast.Expr,
) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]], list[ast.Expr]]:
    """A strategy's conjunction as set tests over single text values: per context name, the
    values ``IN`` (and one-value ``IN``, an equality) constraints allow — intersected, since one
    text value is in every set exactly when it is in their intersection — and the values
    ``NOT_IN`` refuses (their union); the other constraints as they are.

    A strategy's twenty ``IN`` constraints over two names (ten segments of two constraints)
    become two set lookups; the shared evaluator's per-atom closures were most of a frontend
    request's CPU. The rewrite holds only for single values, which is what an SDK context is
    (``Prepared.plain``); any other context takes the general evaluator."""
    atoms = expr.args if isinstance(expr, ast.And) else (expr,)
    required: dict[str, frozenset[str]] = {}
    excluded: dict[str, frozenset[str]] = {}
    rest: list[ast.Expr] = []
    for atom in atoms:
        negated = isinstance(atom, ast.Not)
        inner = atom.arg if isinstance(atom, ast.Not) else atom
        found = _text_set(inner)
        if found is None:
            rest.append(atom)
            continue
        key, values = found
        if negated:
            excluded[key] = excluded.get(key, frozenset()) | values
        else:
            required[key] = required[key] & values if key in required else values
    return required, excluded, rest


def _text_set(node: ast.Expr) -> tuple[str, frozenset[str]] | None:
    """(context name, the texts it may equal) of a case-sensitive ``In`` or ``eq`` of strings on
    one name; None for any other test."""
    if isinstance(node, ast.In):
        lits = node.values
    elif isinstance(node, ast.Cmp) and node.op == "eq":
        lits = (node.value,)
    else:
        return None
    if node.ci or len(node.path) != 1:
        return None
    texts = []
    for lit in lits:
        if lit.kind != "string" or not isinstance(lit.value, str):
            return None
        texts.append(lit.value)
    return node.path[0], frozenset(texts)


def _constant(c: Mapping[str, Any]) -> bool | None:
    """Check one constraint as Yggdrasil compiles it; its constant value where it has one
    (an empty ``IN``/``NOT_IN``, a ``v``-prefixed semver), else None."""
    name = c.get("contextName")
    operator = c.get("operator")
    if not isinstance(name, str) or operator not in _KNOWN_OPERATORS:
        raise Broken("unknown operator or context name")
    if name not in STANDARD_FIELDS:
        quoted(name)
    inverted = c.get("inverted") is True
    values = c.get("values") or []
    value = c.get("value")
    if operator in _STRINGY:
        for v in values:
            if not isinstance(v, str):
                raise Broken("a value is not text")
            escaped(v)
        if not values:
            if operator in _STR_OPS:
                raise Broken(f"{operator} without values")
            # Yggdrasil's empty list: IN is false and NOT_IN true, even on a missing field.
            return bool((operator == "NOT_IN") != inverted)
        return None
    if operator == "REGEX":
        if not isinstance(value, str):
            raise Broken("REGEX without a value")
        escaped(value)
        return None
    if not isinstance(value, str):
        raise Broken(f"{operator} without a value")
    text = value.strip(" \t")
    if operator in _SEMVER_OPS:
        if value.startswith("v"):
            return False  # Yggdrasil writes "false" for it, inverted or not
        if SEMVER_RE.fullmatch(text) is None:
            raise Broken("not a semver")
    elif operator in _NUM_OPS:
        if _YGG_NUMBER.fullmatch(text) is None:
            raise Broken("not a number Yggdrasil reads")
    elif operator in _DATE_OPS and (
        _YGG_DATE.fullmatch(text) is None or parse_datetime_us(text) is None
    ):
        raise Broken("not a date Yggdrasil reads")
    return None


def _as_sdks_read(expr: ast.Expr) -> ast.Expr:
    """The parsed condition, read as the SDKs read a context. Context names are keys, not
    paths (``a.b`` is the property ``"a.b"``): each path becomes one step. A date compares only
    when the context's value is a full instant (date, time and zone), as Rust's parser takes
    it; the shared evaluator would also read ``2025-01-01`` (as UTC midnight), which is wider."""
    if isinstance(expr, ast.And | ast.Or):
        return type(expr)(tuple(_as_sdks_read(a) for a in expr.args))
    if isinstance(expr, ast.Not):
        return ast.Not(_as_sdks_read(expr.arg))
    if isinstance(expr, ast.Quant):
        return msgspec.structs.replace(
            expr, path=(".".join(expr.path),), cond=_as_sdks_read(expr.cond)
        )
    if isinstance(expr, ast.SegmentRef):
        return expr
    if isinstance(expr, ast.CmpAttr):
        # No Unleash constraint compares two attributes; read its names as keys all the same.
        return msgspec.structs.replace(
            expr, left=(".".join(expr.left),), right=(".".join(expr.right),)
        )
    if isinstance(expr, ast.Arith):
        return expr  # no Unleash constraint has arithmetic
    if len(expr.path) > 1:
        expr = msgspec.structs.replace(expr, path=(".".join(expr.path),))
    if isinstance(expr, ast.Cmp) and expr.value.kind == "datetime":
        return ast.And((ast.Regex(expr.path, _FULL_INSTANT, False), expr))
    return expr
