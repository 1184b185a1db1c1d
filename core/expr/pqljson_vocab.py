"""PQL's function vocabulary and refusal wording, shared by every PQL module.

The same ``fnName`` strings name operators in pql/json and functions or methods in PQL text, so
the tables live in one place for reading (``pqljson_read``), rendering (``pqljson_render``) and
the text parser and printer (``core.expr.pql``, ``pql_tree``, ``pql_render``); the refusal
wording lives here so that an unsupported construct is named the same way whichever form it
arrived in.
"""

from __future__ import annotations

from core.expr.ast import ArithName, CmpOp, DatePartName, StrOpName

__all__ = [
    "ARRAY_FNS",
    "CMP_FNS",
    "CMP_SYMBOLS",
    "DATE_PARTS",
    "DATE_PART_FNS",
    "METHODS",
    "NEGATED_STR_FNS",
    "NEGATED_STR_FN_NAMES",
    "STR_FNS",
    "STR_FN_NAMES",
    "VALUE_FNS",
    "describe_function",
    "refused",
]

CMP_FNS: dict[str, CmpOp] = {"=": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
CMP_SYMBOLS: dict[CmpOp, str] = {op: sym for sym, op in CMP_FNS.items()}

STR_FNS: dict[str, StrOpName] = {
    "startsWith": "starts_with",
    "endsWith": "ends_with",
    "contains": "contains",
}
NEGATED_STR_FNS: dict[str, StrOpName] = {
    "doesNotStartWith": "starts_with",
    "doesNotEndWith": "ends_with",
    "doesNotContain": "contains",
}
STR_FN_NAMES: dict[StrOpName, str] = {op: fn for fn, op in STR_FNS.items()}
NEGATED_STR_FN_NAMES: dict[StrOpName, str] = {op: fn for fn, op in NEGATED_STR_FNS.items()}

ARRAY_FNS = frozenset({"includes", "intersects", "supersetOf", "subsetOf"})
"""Array tests that are conditions (``a.includes("x")``)."""
DATE_PARTS: dict[str, DatePartName] = {
    "getYear": "year",
    "getMonth": "month",
    "getDayOfMonth": "day",
}
DATE_PART_FNS: dict[DatePartName, str] = {part: fn for fn, part in DATE_PARTS.items()}
NOW_PARTS: dict[str, DatePartName] = {
    "currentYear": "year",
    "currentMonth": "month",
    "currentDayOfMonth": "day",
}
"""Functions of the request's clock (``person.birthMonth = currentMonth()``)."""
NOW_PART_FNS: dict[DatePartName, str] = {part: fn for fn, part in NOW_PARTS.items()}
ARITH_FNS: dict[str, ArithName] = {"+": "add", "-": "sub", "*": "mul", "/": "div"}
"""PQL's arithmetic (``a + b > 3``); ``%`` is the remainder (``Mod``)."""
ARITH_SYMBOLS: dict[ArithName, str] = {name: fn for fn, name in ARITH_FNS.items()}
VALUE_FNS = frozenset({"count", "distinct", "intersection", "%", *DATE_PARTS, *ARITH_FNS})
"""Methods whose value a comparison compares (``a.distinct().count() > 1``)."""

METHODS = frozenset(
    {
        *STR_FNS,
        *NEGATED_STR_FNS,
        *ARRAY_FNS,
        *VALUE_FNS,
        "equals",
        "notEqualTo",
        "matches",
        "isNull",
        "isNotNull",
        "get",
    }
)
"""Method names (``path.name(...)``) in the supported subset."""

_REFUSED_METHODS: dict[str, str] = {
    **{n: "aggregation .{}()" for n in ("sum", "average", "min", "max")},
    **{n: "aggregation .{}()" for n in ("topN", "bottomN", "head")},
    **{
        n: "array function .{}()"
        for n in (
            "groupBy",
            "filter",
            "map",
        )
    },
    **{n: "map function .{}()" for n in ("keys", "values")},
    "regexGroup": ".regexGroup() (it returns a value, not a condition)",
}
_REFUSED_FUNCTIONS: dict[str, str] = {
    "if": "if()",
    "count": "count() as a function (write attribute.count())",
    "chain": "chain()",
    "CHAIN": "CHAIN()",
}


def describe_function(name: str, *, method: bool) -> str:
    """How a refusal names an unsupported PQL method (``.count()``) or function (``if()``);
    pql/json has no syntax for the difference, so it asks for the function form."""
    if name in _REFUSED_METHODS:
        text = _REFUSED_METHODS[name].format(name)
        return text if method else text.replace(".", "", 1)
    if name in _REFUSED_FUNCTIONS:
        return _REFUSED_FUNCTIONS[name].format(name)
    return f"function .{name}()" if method else f"function {name}()"


def refused(construct: str, where: str) -> str:
    """The one wording every refusal of an unsupported construct uses."""
    return f"{construct} is not supported in segment conditions ({where})"
