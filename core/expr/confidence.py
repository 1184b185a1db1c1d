"""Confidence targeting (criteria + expression) ⇄ the AST.

Mapping (``docs/dialects/confidence.md`` and the resolver spec's ``general`` results):

================================  ===============================================================
targeting                         AST
================================  ===============================================================
``eqRule {value: V}``             ``Cmp(eq, p, V)``; ``V = {}`` (null) → ``Not(Exists(p))``
``eqRule`` versionValue ``v``     ``Cmp(eq, p, string v)``: the resolver compares version *text*
``setRule {values}``              ``In(p, values)``; ``{}`` among them adds ``Or(…, Not(Exists))``;
                                  empty → ``In(p, ())`` (never matches)
``rangeRule`` one bound           ``Cmp(gt|ge|lt|le, p, bound)``
``rangeRule`` two bounds          ``Quant(any, p, And(lower, upper))``: *one* element in range
                                  (``[v, v]`` inclusive → ``Cmp(eq, p, v)``); no bound → never
``startsWith/endsWith/contains``  ``StrOp`` (JSON strings only, as the resolver)
``anyRule / allRule {rule}``      ``Quant(any|all, p, rule on the element ())``
``segment``                       ``SegmentRef("segments/x")``
``ref / not / and / or``          the criterion / ``Not`` / ``And`` / ``Or``
================================  ===============================================================

Value types: ``boolValue`` → bool, ``numberValue`` → number, ``stringValue`` → string,
``timestampValue`` → datetime, ``versionValue`` → version (ranges; equality is textual, above).
``listValue`` fits no rule and is refused, as are mixed value types in one rule.

Known residual differences (documented, not fixable in the AST): the resolver does not step
through lists in the middle of ``a.b`` (segmux does, any element); the resolver reads an invalid
context version as ``0.0.0.0`` (segmux: no match) and any non-``true`` string as ``false`` for a
bool rule (segmux: only ``false``/``FALSE``); Rust parses ``"inf"``/``"NaN"`` as numbers.

The renderer refuses (``NotExpressible("confidence", …)``) ``ci``, ``Like``, ``Regex``, ``semver``,
``date`` and ``null`` kinds, quantifiers whose condition is not one rule on the element, and paths
that cannot be dotted. Criterion ids are ``c0``, ``c1``… in order of first use.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from core.errors import Invalid, LimitExceeded, NotExpressible
from core.expr.ast import (
    And,
    Cmp,
    CmpOp,
    Exists,
    Expr,
    In,
    Lit,
    Not,
    NowPart,
    Occurs,
    Or,
    Path,
    Quant,
    SegmentRef,
    StrOp,
    StrOpName,
)
from core.expr.kinds import NUMBER_RE, canonical_datetime, canonical_number, version_tuple
from core.expr.limits import DEFAULT_LIMITS, Limits
from core.expr.normalize import normalize

LANGUAGE = "confidence"

_VALUE_KEYS = (
    "boolValue",
    "numberValue",
    "stringValue",
    "timestampValue",
    "versionValue",
    "listValue",
)
_STR_RULES: dict[str, StrOpName] = {
    "startsWithRule": "starts_with",
    "endsWithRule": "ends_with",
    "containsRule": "contains",
}
_INNER_RULES = ("eqRule", "setRule", "rangeRule", *_STR_RULES)
_RULES = (*_INNER_RULES, "anyRule", "allRule")
_CRITERION_KINDS = ("attribute", "segment", "materializedSegment")
_RANGE_BOUNDS: dict[str, CmpOp] = {
    "startInclusive": "ge",
    "startExclusive": "gt",
    "endInclusive": "le",
    "endExclusive": "lt",
}
_NULL = "null"


# ----------------------------------------------------------------------------- parse


def parse_targeting(t: dict[str, Any] | None, limits: Limits = DEFAULT_LIMITS) -> Expr | None:
    """Targeting → AST (normal form); ``{}``, no criteria or no expression → None (everyone)."""
    if t is None:
        return None
    if not isinstance(t, dict):
        raise Invalid("targeting", "must be an object")
    if len(msgspec.json.encode(t)) > limits.max_text:
        raise LimitExceeded("targeting", f"longer than {limits.max_text} characters of JSON")
    for key in t:
        if key not in ("criteria", "expression"):
            raise Invalid(f"targeting.{key}", "unknown field")
    reader = _Reader(limits)
    criteria = reader.criteria(t.get("criteria"))
    expression = t.get("expression")
    if expression is None:
        return None
    return normalize(reader.expression(expression, criteria, "targeting.expression", 1))


class _Reader:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def criteria(self, raw: object) -> dict[str, Expr]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise Invalid("targeting.criteria", "must be an object keyed by criterion id")
        return {cid: self.criterion(cid, c) for cid, c in raw.items()}

    def criterion(self, cid: str, raw: object) -> Expr:
        where = f"targeting.criteria.{cid}"
        if not cid:
            raise Invalid("targeting.criteria", "criterion ids must be non-empty")
        if not isinstance(raw, dict):
            raise Invalid(where, "must be an object")
        kinds = [k for k in raw if k in _CRITERION_KINDS]
        extra = [k for k in raw if k not in _CRITERION_KINDS]
        if extra:
            raise Invalid(f"{where}.{extra[0]}", "unknown field")
        if len(kinds) != 1:
            raise Invalid(where, "must hold exactly one of attribute, segment, materializedSegment")
        body = raw[kinds[0]]
        if kinds[0] == "segment":
            return self.segment(body, f"{where}.segment")
        if kinds[0] == "materializedSegment":
            raise Invalid(f"{where}.materializedSegment", "materialized segments are not supported")
        return self.attribute(body, f"{where}.attribute")

    def segment(self, body: object, where: str) -> Expr:
        ref = body.get("segment") if isinstance(body, dict) else None
        if not isinstance(body, dict) or set(body) != {"segment"} or not isinstance(ref, str):
            raise Invalid(where, 'must be {"segment": "segments/<id>"}')
        if not ref.startswith("segments/") or len(ref) == len("segments/"):
            raise Invalid(f"{where}.segment", "must name a segment as segments/<id>")
        return SegmentRef(ref)

    def attribute(self, body: object, where: str) -> Expr:
        if not isinstance(body, dict):
            raise Invalid(where, "must be an object")
        name = body.get("attributeName")
        if not isinstance(name, str) or not name:
            raise Invalid(f"{where}.attributeName", "is required: a non-empty string")
        path = tuple(name.split("."))
        if "" in path:
            raise Invalid(f"{where}.attributeName", "has an empty path step")
        for key in body:
            if key != "attributeName" and key not in _RULES:
                raise Invalid(f"{where}.{key}", "unknown field")
        rules = [k for k in body if k in _RULES]
        if len(rules) != 1:
            raise Invalid(where, "an attribute criterion needs exactly one rule")
        rule = rules[0]
        if rule in ("anyRule", "allRule"):
            inner = self.quantified(body[rule], f"{where}.{rule}")
            return Quant("any" if rule == "anyRule" else "all", path, inner)
        return self.rule(rule, body[rule], path, f"{where}.{rule}", element=False)

    def quantified(self, body: object, where: str) -> Expr:
        if (
            not isinstance(body, dict)
            or set(body) != {"rule"}
            or not isinstance(body["rule"], dict)
        ):
            raise Invalid(where, 'must be {"rule": {<one inner rule>}}')
        inner = body["rule"]
        if len(inner) != 1 or next(iter(inner)) not in _INNER_RULES:
            raise Invalid(f"{where}.rule", f"must hold exactly one of {', '.join(_INNER_RULES)}")
        name = next(iter(inner))
        return self.rule(name, inner[name], (), f"{where}.rule.{name}", element=True)

    # --------------------------------------------------------------- rules

    def rule(self, name: str, body: object, path: Path, where: str, *, element: bool) -> Expr:
        if not isinstance(body, dict):
            raise Invalid(where, "must be an object")
        if name == "eqRule":
            return self.eq_rule(body, path, where)
        if name == "setRule":
            return self.set_rule(body, path, where)
        if name == "rangeRule":
            return self.range_rule(body, path, where, element=element)
        if set(body) != {"value"} or not isinstance(body["value"], str):
            raise Invalid(f"{where}.value", "must be a string")
        return StrOp(_STR_RULES[name], path, (body["value"],))

    def eq_rule(self, body: dict[str, Any], path: Path, where: str) -> Expr:
        if set(body) != {"value"}:
            raise Invalid(where, 'must be {"value": <Value>}')
        lit = self.value(body["value"], f"{where}.value")
        if lit == _NULL:
            return Not(Exists(path))
        return Cmp("eq", path, _equality_lit(lit, f"{where}.value"))

    def set_rule(self, body: dict[str, Any], path: Path, where: str) -> Expr:
        values = body.get("values")
        if set(body) - {"values"} or not isinstance(values, list):
            raise Invalid(where, 'must be {"values": [<Value>, …]}')
        if len(values) > self.limits.max_values:
            raise LimitExceeded(f"{where}.values", f"more than {self.limits.max_values} values")
        lits: list[Lit] = []
        has_null = False
        for j, raw in enumerate(values):
            lit = self.value(raw, f"{where}.values[{j}]")
            if lit == _NULL:
                has_null = True
                continue
            lits.append(_equality_lit(lit, f"{where}.values[{j}]"))
        if len({lit.kind for lit in lits}) > 1:
            raise Invalid(f"{where}.values", "all values of a setRule must have one type")
        node = In(path, tuple(lits))
        if has_null:
            return Or((node, Not(Exists(path)))) if lits else Not(Exists(path))
        return node

    def range_rule(self, body: dict[str, Any], path: Path, where: str, *, element: bool) -> Expr:
        for key in body:
            if key not in _RANGE_BOUNDS:
                raise Invalid(f"{where}.{key}", "unknown field")
        starts = [k for k in body if k.startswith("start")]
        ends = [k for k in body if k.startswith("end")]
        if len(starts) > 1 or len(ends) > 1:
            raise Invalid(where, "at most one start and one end bound")
        bounds: list[Cmp] = []
        for key in (*starts, *ends):
            lit = self.value(body[key], f"{where}.{key}")
            if not isinstance(lit, Lit) or lit.kind not in _RANGE_KINDS:
                raise Invalid(
                    f"{where}.{key}", "a range bound is a number, string, timestamp or version"
                )
            bounds.append(Cmp(_RANGE_BOUNDS[key], () if len(body) == 2 else path, lit))
        if not bounds:
            return In(path, ())  # no bound: never matches (resolver spec)
        if len(bounds) == 1:
            return bounds[0]
        low, high = bounds
        if low.value.kind != high.value.kind:
            raise Invalid(where, "both bounds must have the same type")
        if low.op == "ge" and high.op == "le" and low.value == high.value:
            return Cmp("eq", path, low.value)  # [v, v]: the element equals v
        pair = And((low, high))
        return pair if element else Quant("any", path, pair)

    # --------------------------------------------------------------- values

    def value(self, raw: object, where: str) -> Lit | str:
        """A Value: a literal, or the marker ``"null"`` for ``{}``."""
        if not isinstance(raw, dict):
            raise Invalid(where, "must be a Value object")
        if not raw:
            return _NULL
        if len(raw) != 1 or next(iter(raw)) not in _VALUE_KEYS:
            raise Invalid(where, f"must hold exactly one of {', '.join(_VALUE_KEYS)}")
        key, v = next(iter(raw.items()))
        if key == "boolValue" and isinstance(v, bool):
            return Lit("bool", v)
        if key == "numberValue":
            number = _number(v)
            if number is not None:
                return Lit("number", number)
        if key == "stringValue" and isinstance(v, str):
            return Lit("string", v)
        if key == "timestampValue" and isinstance(v, str):
            text = canonical_datetime(v)
            if text is not None:
                return Lit("datetime", text)
        if key == "versionValue" and isinstance(v, dict) and set(v) == {"version"}:
            version = v["version"]
            if isinstance(version, str) and version_tuple(version) is not None:
                return Lit("version", version)
        if key == "listValue":
            raise Invalid(f"{where}.listValue", "a list value fits no rule")
        raise Invalid(f"{where}.{key}", "is not a valid value of its type")

    # --------------------------------------------------------------- expression

    def expression(self, raw: object, criteria: dict[str, Expr], where: str, depth: int) -> Expr:
        if depth > self.limits.max_depth:
            raise LimitExceeded(where, f"nested deeper than {self.limits.max_depth}")
        if not isinstance(raw, dict) or len(raw) != 1:
            raise Invalid(where, "must hold exactly one of ref, not, and, or")
        key, body = next(iter(raw.items()))
        if key == "ref":
            if not isinstance(body, str) or body not in criteria:
                raise Invalid(f"{where}.ref", f"names no criterion: {body!r}")
            return criteria[body]
        if key == "not":
            return Not(self.expression(body, criteria, f"{where}.not", depth + 1))
        if key in ("and", "or"):
            operands = body.get("operands") if isinstance(body, dict) else None
            if (
                not isinstance(body, dict)
                or set(body) != {"operands"}
                or not operands
                or not isinstance(operands, list)
            ):
                raise Invalid(f"{where}.{key}", 'must be {"operands": [<Expression>, …]}')
            args = tuple(
                self.expression(o, criteria, f"{where}.{key}.operands[{i}]", depth + 1)
                for i, o in enumerate(operands)
            )
            return And(args) if key == "and" else Or(args)
        raise Invalid(f"{where}.{key}", "must be one of ref, not, and, or")


def _number(v: object) -> int | float | None:
    """proto3 JSON doubles: a JSON number or a decimal string (no NaN/Infinity)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, str):
        if not NUMBER_RE.fullmatch(v):
            return None
        return canonical_number(float(v))
    if isinstance(v, int | float):
        return canonical_number(v)
    return None


def _equality_lit(lit: Lit | str, where: str) -> Lit:
    """eq/set literals: a version compares as its text (the resolver's struct equality)."""
    assert isinstance(lit, Lit)
    if lit.kind == "version":
        return Lit("string", lit.value)
    return lit


# ----------------------------------------------------------------------------- render


def render_targeting(expr: Expr | None) -> dict[str, Any]:
    """AST → ``{"criteria": …, "expression": …}`` (``{}`` = everyone)."""
    norm = normalize(expr)
    if norm is None:
        return {}
    writer = _Writer()
    expression = writer.expression(norm)
    return {"criteria": writer.criteria, "expression": expression}


def _refuse(reason: str) -> NotExpressible:
    return NotExpressible(LANGUAGE, reason)


_KIND_VALUE = {
    "bool": "boolValue",
    "number": "numberValue",
    "string": "stringValue",
    "datetime": "timestampValue",
}


def _value(lit: Lit) -> dict[str, Any]:
    if lit.kind == "version":
        return {"versionValue": {"version": lit.value}}
    key = _KIND_VALUE.get(lit.kind)
    if key is None:
        raise _refuse(f"{lit.kind} values have no Confidence type")
    return {key: lit.value}


def _attribute_name(path: Path) -> str:
    if not path:
        raise _refuse("a rule on the whole context has no attributeName")
    for step in path:
        if not step or "." in step:
            raise _refuse(f"path step {step!r} cannot be written as a dotted attributeName")
    return ".".join(path)


class _Writer:
    def __init__(self) -> None:
        self.criteria: dict[str, dict[str, Any]] = {}
        self._ids: dict[bytes, str] = {}

    def ref(self, criterion: dict[str, Any]) -> dict[str, Any]:
        key = msgspec.json.encode(criterion)
        cid = self._ids.get(key)
        if cid is None:
            cid = f"c{len(self._ids)}"
            self._ids[key] = cid
            self.criteria[cid] = criterion
        return {"ref": cid}

    def attribute(self, path: Path, rule: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.ref({"attribute": {"attributeName": _attribute_name(path), rule: body}})

    def expression(self, e: Expr) -> dict[str, Any]:
        if isinstance(e, And | Or):
            key = "and" if isinstance(e, And) else "or"
            return {key: {"operands": [self.expression(a) for a in e.args]}}
        if isinstance(e, Not):
            if isinstance(e.arg, Exists):
                return self.attribute(e.arg.path, "eqRule", {"value": {}})
            return {"not": self.expression(e.arg)}
        if isinstance(e, Exists):
            return {"not": self.attribute(e.path, "eqRule", {"value": {}})}
        if isinstance(e, SegmentRef):
            return self.ref({"segment": {"segment": e.ref}})
        if isinstance(e, Quant):
            return self.quant(e)
        return self.atom(e)

    def atom(self, e: Expr) -> dict[str, Any]:
        if isinstance(e, Cmp) and e.op == "ne":
            if e.ci:
                raise _refuse("case-insensitive comparison")
            # present and different = below or above, each false when missing
            return {
                "or": {
                    "operands": [
                        self.atom(Cmp("lt", e.path, e.value)),
                        self.atom(Cmp("gt", e.path, e.value)),
                    ]
                }
            }
        if isinstance(e, In) and any(v.kind == "version" for v in e.values):
            return {"or": {"operands": [self.atom(Cmp("eq", e.path, v)) for v in e.values]}}
        if isinstance(e, StrOp) and len(e.values) > 1:
            return {
                "or": {"operands": [self.atom(StrOp(e.op, e.path, (v,), e.ci)) for v in e.values]}
            }
        rule, body = _rule(e)
        path = _path(e)
        assert path is not None
        return self.attribute(path, rule, body)

    def quant(self, q: Quant) -> dict[str, Any]:
        direct = self.quant_rule(q.q, q.path, q.cond)
        if direct is not None:
            return direct
        # all … c = not (any … not c), and any … c = not (all … not c)
        flip: Literal["any", "all"] = "all" if q.q == "any" else "any"
        negated = normalize(Not(q.cond))
        assert negated is not None
        dual = self.quant_rule(flip, q.path, negated)
        if dual is not None:
            return {"not": dual}
        raise _refuse("a quantifier needs one rule on the element itself")

    def quant_rule(self, q: str, path: Path, cond: Expr) -> dict[str, Any] | None:
        if q == "any" and _is_range_pair(cond):
            rule, body = _rule(cond)  # one element in range: a plain rangeRule says that
            return self.attribute(path, rule, body)
        try:
            rule, body = _rule(cond, element=True)
        except NotExpressible:
            return None
        name = "anyRule" if q == "any" else "allRule"
        return self.attribute(path, name, {"rule": {rule: body}})


def _is_range_pair(e: Expr) -> bool:
    return (
        isinstance(e, And)
        and len(e.args) == 2
        and all(isinstance(a, Cmp) and a.path == () and a.op in _BOUND_KEYS for a in e.args)
    )


_BOUND_KEYS: dict[CmpOp, str] = {
    "ge": "startInclusive",
    "gt": "startExclusive",
    "le": "endInclusive",
    "lt": "endExclusive",
}
_RANGE_KINDS = ("number", "string", "datetime", "version")


def _rule(e: Expr, element: bool = False) -> tuple[str, dict[str, Any]]:
    """One rule (and its body) exactly equal to ``e`` on its path (``element``: path ``()``)."""
    if element and isinstance(e, Cmp | In | StrOp | Exists | Not) and _path(e) != ():
        raise _refuse("the condition must be on the element itself")
    if getattr(e, "ci", False):
        raise _refuse("Confidence rules are case-sensitive")
    if isinstance(e, Cmp):
        return _cmp_rule(e)
    if isinstance(e, In):
        if any(v.kind == "version" for v in e.values):
            raise _refuse("a set of versions is several rules")
        return "setRule", {"values": [_value(v) for v in e.values]}
    if isinstance(e, StrOp) and len(e.values) == 1:
        rule = {v: k for k, v in _STR_RULES.items()}[e.op]
        return rule, {"value": e.values[0]}
    if isinstance(e, Not) and isinstance(e.arg, Exists):
        return "eqRule", {"value": {}}
    if isinstance(e, Or) and element:
        return _set_with_null(e)
    if _is_range_pair(e):
        assert isinstance(e, And)
        low, high = sorted(e.args, key=lambda a: a.op not in ("ge", "gt"))  # type: ignore[union-attr]
        assert isinstance(low, Cmp) and isinstance(high, Cmp)
        if low.op not in ("ge", "gt") or high.op not in ("le", "lt"):
            raise _refuse("a range needs one lower and one upper bound")
        if low.value.kind != high.value.kind or low.value.kind not in _RANGE_KINDS:
            raise _refuse("range bounds of different or unordered types")
        return "rangeRule", {
            _BOUND_KEYS[low.op]: _value(low.value),
            _BOUND_KEYS[high.op]: _value(high.value),
        }
    if isinstance(e, Occurs | NowPart):
        raise _refuse("a time relative to now: Confidence rules compare with fixed values")
    raise _refuse(f"{type(e).__name__} has no Confidence rule")


def _path(e: Expr) -> Path | None:
    if isinstance(e, Not):
        return _path(e.arg)
    return getattr(e, "path", None)


def _cmp_rule(e: Cmp) -> tuple[str, dict[str, Any]]:
    kind = e.value.kind
    if e.op == "eq":
        if kind == "version":  # eqRule compares version text; a [v, v] range compares versions
            return "rangeRule", {"startInclusive": _value(e.value), "endInclusive": _value(e.value)}
        return "eqRule", {"value": _value(e.value)}
    if e.op == "ne" or kind not in _RANGE_KINDS:
        raise _refuse(f"{kind} values cannot be ordered in Confidence")
    return "rangeRule", {_BOUND_KEYS[e.op]: _value(e.value)}


def _set_with_null(e: Or) -> tuple[str, dict[str, Any]]:
    """``v in […] or v is null`` on the element: one setRule holding ``{}``."""
    values: list[dict[str, Any]] = []
    has_null = False
    for a in e.args:
        if isinstance(a, Not) and isinstance(a.arg, Exists) and a.arg.path == ():
            has_null = True
        elif isinstance(a, Cmp) and a.op == "eq" and a.path == () and not a.ci:
            values.append(_value(a.value))
        elif isinstance(a, In) and a.path == () and not a.ci:
            values.extend(_value(v) for v in a.values)
        else:
            raise _refuse("an OR on the element is a setRule of values and null only")
    if not has_null or any("versionValue" in v for v in values):
        raise _refuse("an OR on the element is a setRule of values and null only")
    return "setRule", {"values": [*values, {}]}
