"""Unleash constraint lists ⇄ the AST.

A segment's constraints are a conjunction; an empty list is everyone (``None``). Mapping
(``docs/dialects/unleash.md`` is the reference):

==============================  =================================================================
constraint                      AST
==============================  =================================================================
``IN [v…]``                     ``In(p, string v…)`` (one value: ``Cmp eq``)
``NOT_IN [v…]``                 ``Not(In(…))``: true on a missing field, as in the SDKs
``STR_STARTS_WITH`` etc.        ``StrOp(starts_with|ends_with|contains, p, values, ci)``
``NUM_EQ/GT/GTE/LT/LTE v``      ``Cmp(eq|gt|ge|lt|le, p, number)``
``DATE_AFTER / DATE_BEFORE v``  ``Cmp(gt|lt, p, datetime)`` (UTC ``Z`` text)
``SEMVER_EQ/GT/GTE/LT/LTE v``   ``Cmp(…, p, semver)``
``REGEX v``                     ``Regex(p, v, ci)``
``inverted: true``              ``Not(atom)`` (also negates the missing-field result)
==============================  =================================================================

``caseInsensitive`` only counts on ``STR_*`` and ``REGEX``; the SDKs ignore it on ``IN``/``NOT_IN``
and so does the parser. ``contextName`` ``a.b`` is the path ``("a", "b")``.

The renderer refuses (``NotExpressible``) whatever a constraint list cannot say exactly: ``Or``
across atoms (an ``Or`` of equalities on one path is one ``IN`` after ``normalize``), ``Not`` of a
non-atom that De Morgan cannot push down, number sets (``IN`` compares the *text* ``"1.0"`` ≠
``"1"``, so only one number can go, as ``NUM_EQ``), ``ci`` equality (``IN`` ignores it), ``Exists``
(no operator; an empty ``NOT_IN`` is refused by the admin API), ``ne`` (present and different,
while ``NOT_IN`` is true on a missing field), ``Like``, ``Quant``, ``SegmentRef``, ``bool``,
``date`` (a calendar day is not an instant), ``version`` (Confidence versions are not SemVer),
inverted ``REGEX`` (the admin API refuses it), and values the admin API would refuse (empty or
over 100 characters).

SDK facts the AST does not carry: Unleash looks ``currentTime`` up as "now" when it is missing,
and nests custom fields under ``properties``; :func:`unleash_context` turns such a context into the
flat JSON object the evaluator reads. Differences accepted: the SDKs stringify booleans for ``IN``
and lower-case for ``caseInsensitive`` where the AST's ``ci`` case-folds (the Unleash engine's
constraints, ``core.unleash_constraints``, lower-case as they do); the Node SDK trims ``IN`` values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import msgspec

from core.errors import Invalid, LimitExceeded, NotExpressible
from core.expr import re2
from core.expr.ast import (
    And,
    Cmp,
    CmpOp,
    Expr,
    In,
    Lit,
    Not,
    NowPart,
    Occurs,
    Or,
    Path,
    Regex,
    StrOp,
    StrOpName,
)
from core.expr.kinds import (
    NUMBER_RE,
    SEMVER_RE,
    canonical_datetime,
    canonical_number,
    number_text,
)
from core.expr.limits import DEFAULT_LIMITS, Limits
from core.expr.normalize import normalize

LANGUAGE = "unleash"

LIST_OPERATORS = ("IN", "NOT_IN", "STR_STARTS_WITH", "STR_ENDS_WITH", "STR_CONTAINS")
_STR_OPS: dict[str, StrOpName] = {
    "STR_STARTS_WITH": "starts_with",
    "STR_ENDS_WITH": "ends_with",
    "STR_CONTAINS": "contains",
}
_NUM_OPS: dict[str, CmpOp] = {
    "NUM_EQ": "eq",
    "NUM_GT": "gt",
    "NUM_GTE": "ge",
    "NUM_LT": "lt",
    "NUM_LTE": "le",
}
_SEMVER_OPS: dict[str, CmpOp] = {
    "SEMVER_EQ": "eq",
    "SEMVER_GT": "gt",
    "SEMVER_GTE": "ge",
    "SEMVER_LT": "lt",
    "SEMVER_LTE": "le",
}
_DATE_OPS: dict[str, CmpOp] = {"DATE_AFTER": "gt", "DATE_BEFORE": "lt"}
OPERATORS = (
    *LIST_OPERATORS,
    *_NUM_OPS,
    *_DATE_OPS,
    *_SEMVER_OPS,
    "REGEX",
)
_KEYS = frozenset({"contextName", "operator", "values", "value", "inverted", "caseInsensitive"})
MAX_VALUE_LENGTH = 100
"""joi: each ``values[i]`` is 1..100 characters."""


# ----------------------------------------------------------------------------- parse


def parse_constraints(
    constraints: list[dict[str, Any]], limits: Limits = DEFAULT_LIMITS
) -> Expr | None:
    """Constraints → AST (normal form); ``[]`` → None (everyone). Raises ``Invalid``."""
    if not isinstance(constraints, list):
        raise Invalid("constraints", "must be a list of constraints")
    if len(msgspec.json.encode(constraints)) > limits.max_text:
        raise LimitExceeded("constraints", f"longer than {limits.max_text} characters of JSON")
    atoms: list[Expr] = []
    total = 0
    for i, constraint in enumerate(constraints):
        atom, count = _parse_constraint(constraint, f"constraints[{i}]")
        atoms.append(atom)
        total += count
    if total > limits.max_values:
        raise LimitExceeded("constraints", f"more than {limits.max_values} values in total")
    if not atoms:
        return None
    return normalize(atoms[0] if len(atoms) == 1 else And(tuple(atoms)))


def _parse_constraint(c: object, where: str) -> tuple[Expr, int]:
    if not isinstance(c, dict):
        raise Invalid(where, "must be an object")
    for key in c:
        if key not in _KEYS:
            raise Invalid(f"{where}.{key}", "is not allowed in a constraint")
    path = _context_path(c.get("contextName"), f"{where}.contextName")
    operator = c.get("operator")
    if operator not in OPERATORS:
        raise Invalid(f"{where}.operator", f"must be one of {', '.join(OPERATORS)}")
    values = _values(c.get("values"), f"{where}.values")
    value = _value(c.get("value"), f"{where}.value")
    inverted = _flag(c.get("inverted"), f"{where}.inverted")
    ci = _flag(c.get("caseInsensitive"), f"{where}.caseInsensitive")
    atom = _atom(operator, path, values, value, ci, inverted, where)
    return (Not(atom) if inverted else atom), len(values)


def _context_path(name: object, where: str) -> Path:
    if not isinstance(name, str) or not name:
        raise Invalid(where, "is required: a non-empty string")
    path = tuple(name.split("."))
    if "" in path:
        raise Invalid(where, "has an empty path step")
    return path


def _coerce_text(v: object) -> object:
    """ajv's coercion of scalars to strings (``1`` → ``"1"``, ``true`` → ``"true"``)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        number = canonical_number(v)
        return v if number is None else number_text(float(number))
    return v


def _values(raw: object, where: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise Invalid(where, "must be a list of strings")
    out: list[str] = []
    for j, item in enumerate(raw):
        text = _coerce_text(item)
        if not isinstance(text, str):
            raise Invalid(f"{where}[{j}]", "must be a string")
        if not 1 <= len(text) <= MAX_VALUE_LENGTH:
            raise Invalid(f"{where}[{j}]", f"must be 1 to {MAX_VALUE_LENGTH} characters long")
        out.append(text)
    return out


def _value(raw: object, where: str) -> str | None:
    if raw is None:
        return None
    text = _coerce_text(raw)
    if not isinstance(text, str) or not text:
        raise Invalid(where, "must be a non-empty string")
    return text


def _flag(raw: object, where: str) -> bool:
    if raw is None:
        return False
    if not isinstance(raw, bool):
        raise Invalid(where, "must be a boolean")
    return raw


def _atom(
    operator: str,
    path: Path,
    values: list[str],
    value: str | None,
    ci: bool,
    inverted: bool,
    where: str,
) -> Expr:
    """One constraint's atom, validated in the order Unleash's admin API checks them
    (docs/dialects/unleash.md)."""
    if operator in LIST_OPERATORS:
        if not values:
            raise Invalid(f"{where}.values", f"{operator} needs at least one value in values")
        if operator in _STR_OPS:
            return StrOp(_STR_OPS[operator], path, tuple(values), ci)
        node = In(path, tuple(Lit("string", v) for v in values))
        return Not(node) if operator == "NOT_IN" else node
    if value is None:
        raise Invalid(f"{where}.value", f"{operator} needs a non-empty value")
    if operator in _NUM_OPS:
        number = _number(value)
        if number is None:
            raise Invalid(f"{where}.value", f"{operator} needs a number, got {value!r}")
        return Cmp(_NUM_OPS[operator], path, Lit("number", number))
    if operator in _SEMVER_OPS:
        if not _canonical_semver(value):
            raise Invalid(
                f"{where}.value", f"{value!r} is not a valid semver (strict, e.g. 1.2.3-rc.1)"
            )
        return Cmp(_SEMVER_OPS[operator], path, Lit("semver", value))
    if operator in _DATE_OPS:
        text = canonical_datetime(value)
        if text is None:
            raise Invalid(f"{where}.value", f"{value!r} is not a valid ISO 8601 date")
        return Cmp(_DATE_OPS[operator], path, Lit("datetime", text))
    problem = re2.problem(value)
    if problem is not None:
        raise Invalid(f"{where}.value", f"invalid regular expression: {problem}")
    if inverted:
        raise Invalid(f"{where}.inverted", "REGEX constraints cannot be inverted")
    return Regex(path, value, ci)


def _number(text: str) -> int | float | None:
    text = text.strip()  # Number(" 12 ") is 12 in the admin API and the SDKs
    if not NUMBER_RE.fullmatch(text):
        return None
    return canonical_number(float(text))


def _canonical_semver(text: str) -> bool:
    """Strict SemVer without build metadata: node-semver ``clean(v) === v``, as the admin API."""
    m = SEMVER_RE.fullmatch(text)
    return m is not None and m[5] is None


# ----------------------------------------------------------------------------- render


def render_constraints(expr: Expr | None) -> list[dict[str, Any]]:
    """AST → constraint list (``[]`` = everyone); ``NotExpressible`` where not exact."""
    norm = normalize(expr)
    if norm is None:
        return []
    args = norm.args if isinstance(norm, And) else (norm,)
    return [_render(arg) for arg in args]


def _refuse(reason: str) -> NotExpressible:
    return NotExpressible(LANGUAGE, reason)


def _render(arg: Expr) -> dict[str, Any]:
    if isinstance(arg, Not):
        return _render_atom(arg.arg, negated=True)
    return _render_atom(arg, negated=False)


def _context_name(path: Path) -> str:
    if not path:
        raise _refuse("a condition on the whole context has no contextName")
    for step in path:
        if not step or "." in step:
            raise _refuse(f"path step {step!r} cannot be written as a dotted contextName")
    return ".".join(path)


def _render_atom(atom: Expr, negated: bool) -> dict[str, Any]:
    if isinstance(atom, In | Cmp) and _is_string_equality(atom):
        return _render_in(atom, negated)
    if isinstance(atom, Cmp):
        return _render_cmp(atom, negated)
    if isinstance(atom, StrOp):
        return _render_strop(atom, negated)
    if isinstance(atom, Regex):
        return _render_regex(atom, negated)
    if isinstance(atom, In):
        raise _refuse(
            "IN compares text, so a set of numbers, booleans or dates has no exact constraint"
        )
    kind = type(atom).__name__
    if isinstance(atom, Occurs | NowPart):
        # DATE_AFTER/DATE_BEFORE hold a fixed instant, and a client payload is cached and
        # evaluated later by the SDK: "last week" written as fixed dates would go stale
        raise _refuse(
            "a time relative to now (occurs last/this/next, N units before/after, now, today, "
            "currentMonth()): DATE_AFTER and DATE_BEFORE hold a fixed instant, so a cached "
            "client payload cannot say it"
        )
    if isinstance(atom, And):
        raise _refuse("a negated conjunction is an OR, and constraints are ANDed")
    if isinstance(atom, Not | Or):
        raise _refuse("constraints are ANDed: an OR of different conditions has no constraint")
    raise _refuse(f"{kind} has no Unleash constraint operator")


def _is_string_equality(atom: In | Cmp) -> bool:
    if isinstance(atom, Cmp):
        return atom.op == "eq" and atom.value.kind == "string"
    return bool(atom.values) and all(v.kind == "string" for v in atom.values)


def _constraint(
    path: Path,
    operator: str,
    negated: bool,
    ci: bool = False,
    *,
    values: list[str] | None = None,
    value: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"contextName": _context_name(path), "operator": operator}
    if values is not None:
        for v in values:
            if not 1 <= len(v) <= MAX_VALUE_LENGTH:
                raise _refuse(f"the admin API refuses values outside 1..{MAX_VALUE_LENGTH} chars")
        out["values"] = values
    if value is not None:
        out["value"] = value
    if negated:
        out["inverted"] = True
    if ci:
        out["caseInsensitive"] = True
    return out


def _render_in(atom: In | Cmp, negated: bool) -> dict[str, Any]:
    if atom.ci:
        raise _refuse("IN/NOT_IN ignore caseInsensitive in the SDKs")
    lits = atom.values if isinstance(atom, In) else (atom.value,)
    values = [str(v.value) for v in lits]
    if not negated:
        return _constraint(atom.path, "IN", False, values=values)
    return _constraint(atom.path, "NOT_IN", False, values=values)


def _render_cmp(atom: Cmp, negated: bool) -> dict[str, Any]:
    kind, op = atom.value.kind, atom.op
    if op == "ne":
        raise _refuse("'present and different' has no operator (NOT_IN is true when missing)")
    if kind == "number":
        if not isinstance(atom.value.value, int | float) or isinstance(atom.value.value, bool):
            raise _refuse("not a number literal")
        operator = {v: k for k, v in _NUM_OPS.items()}[op]
        text = number_text(float(atom.value.value))
        return _constraint(atom.path, operator, negated, value=text)
    if kind == "semver":
        if not isinstance(atom.value.value, str):
            raise _refuse("not a semver literal")
        if not _canonical_semver(atom.value.value):
            raise _refuse("the admin API accepts only strict semver without build metadata")
        operator = {v: k for k, v in _SEMVER_OPS.items()}[op]
        return _constraint(atom.path, operator, negated, value=atom.value.value)
    if kind == "datetime":
        if op not in ("gt", "lt") or not isinstance(atom.value.value, str):
            raise _refuse("dates compare only strictly after / before (DATE_AFTER, DATE_BEFORE)")
        operator = "DATE_AFTER" if op == "gt" else "DATE_BEFORE"
        return _constraint(atom.path, operator, negated, value=atom.value.value)
    if kind == "date":
        raise _refuse("a calendar day is not an instant: DATE_* compare instants")
    if kind == "version":
        raise _refuse("Confidence versions are not SemVer")
    raise _refuse(f"{kind} comparisons ({op}) have no Unleash operator")


def _render_strop(atom: StrOp, negated: bool) -> dict[str, Any]:
    if not atom.values:
        raise _refuse("the admin API refuses STR_* with no values")
    operator = {v: k for k, v in _STR_OPS.items()}[atom.op]
    return _constraint(atom.path, operator, negated, atom.ci, values=list(atom.values))


def _render_regex(atom: Regex, negated: bool) -> dict[str, Any]:
    if negated:
        raise _refuse("the admin API refuses an inverted REGEX")
    problem = re2.problem(atom.pattern)
    if problem is not None:
        raise _refuse(f"the pattern is not RE2: {problem}")
    return _constraint(atom.path, "REGEX", False, atom.ci, value=atom.pattern)


# ----------------------------------------------------------------------------- SDK context


STANDARD_FIELDS = ("userId", "sessionId", "remoteAddress", "environment", "appName", "currentTime")


def unleash_context(context: Mapping[str, Any], now: dt.datetime | None = None) -> dict[str, Any]:
    """An Unleash SDK context as the flat object the evaluator reads: ``properties`` merged in
    (standard fields win, as in the SDKs' lookup order) and ``currentTime`` = now when missing."""
    flat: dict[str, Any] = {}
    props = context.get("properties")
    if isinstance(props, Mapping):
        flat.update(props)
    flat.update({k: v for k, v in context.items() if k != "properties"})
    if flat.get("currentTime") is None:
        moment = now or dt.datetime.now(dt.UTC)
        flat["currentTime"] = moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return flat
