"""The AST → PQL text, printed from the pql/json nodes ``core.expr.pqljson_render`` lowers it
to (so PQL text and pql/json state every condition alike).

Rendering always writes implicit paths (``$1.`` only before a keyword-named first step),
``not (…)`` with parentheses, and quantifier variables ``X1``, ``X2`` … by nesting level; the
parser (``core.expr.pql``) reads the text back to an equal AST.
"""

from __future__ import annotations

from typing import Literal as TypingLiteral
from typing import TypeAlias

from core.errors import NotExpressible
from core.expr.ast import Expr
from core.expr.pql_vocab import NAME_RE, RESERVED_FIRST_STEPS, SEGMENT_FN
from core.expr.pqljson import FieldLookup, FnApply, Literal, Node, ParameterReference, lower

__all__ = ["render_pql"]

Kind: TypeAlias = TypingLiteral["and", "or", "not", "quant", "atom"]


def render_pql(expr: Expr | None) -> str:
    """PQL text for ``expr`` (None = everyone = ``true``); the parser reads it back to an
    equal AST. Raises ``NotExpressible("pql", …)`` where PQL cannot say it exactly."""
    if expr is None:
        return "true"
    return _write(lower(expr, "pql"), 1)[0]


def _write(node: Node, level: int) -> tuple[str, Kind]:
    if not isinstance(node, FnApply):  # pragma: no cover - lower() returns a condition
        raise NotExpressible("pql", "not a condition")
    fn, params = node.fnName, node.params
    if fn in ("and", "or"):
        wrap: set[Kind] = {"or", "and", "quant"} if fn == "and" else {"or", "quant"}
        parts = [_write_child(param, level, wrap) for param in params]
        kind: Kind = "and" if fn == "and" else "or"
        return f" {fn} ".join(parts), kind
    if fn == "not":
        return f"not ({_write(params[0], level)[0]})", "not"
    if fn == SEGMENT_FN:
        return f"{fn}({write_literal(params[0])})", "atom"
    if fn in ("exists", "forall"):
        body = _write(params[1], level + 1)[0]
        head = f"{fn} {_var_name(level + 1)} from {_path(params[0])}"
        return f"{head} where {body}", "quant"
    target = _target(params[0])
    args = [write_literal(p) if isinstance(p, Literal) else _target(p) for p in params[1:]]
    if fn == "occurs":
        tail = params[1]
        assert isinstance(tail, Literal) and isinstance(tail.value, str)
        return f"{target} occurs {tail.value}", "atom"
    if fn in ("in", "notIn", "like") or not fn[0].isalpha():
        return f"{target} {fn} {args[0]}", "atom"
    return f"{target}.{fn}({', '.join(args)})", "atom"


def _write_child(node: Node, level: int, wrap: set[Kind]) -> str:
    text, kind = _write(node, level)
    return f"({text})" if kind in wrap else text


def _target(node: Node) -> str:
    """The left side of an atom: a path, or a method's value on one (``a.distinct().count()``)."""
    if isinstance(node, FnApply) and not node.params:
        return f"{node.fnName}()"  # currentMonth()
    if isinstance(node, FnApply) and node.fnName in ("%", "+", "-", "*", "/"):
        left, right = (
            write_literal(p) if isinstance(p, Literal) else _target(p) for p in node.params
        )
        return f"{left} {node.fnName} {right}"
    if isinstance(node, FnApply):
        args = ", ".join(write_literal(param) for param in node.params[1:])
        return f"{_target(node.params[0])}.{node.fnName}({args})"
    return _path(node)


def _var_name(position: int) -> str:
    return f"X{position - 1}"


def _path(node: Node) -> str:
    steps: list[str] = []
    while isinstance(node, FieldLookup):
        steps.append(node.fieldName)
        node = node.object
    assert isinstance(node, ParameterReference)
    steps.reverse()
    head = _var_name(node.position) if node.position != 1 else None
    if head is None and (not NAME_RE.fullmatch(steps[0]) or steps[0] in RESERVED_FIRST_STEPS):
        head = "$1"
    text = head or ""
    for step in steps:
        if not step or any("\ud800" <= ch <= "\udfff" for ch in step):
            raise NotExpressible("pql", f"the attribute name {step!r} cannot be written in PQL")
        if not NAME_RE.fullmatch(step):
            # any key, written as map access (PQL's .get)
            text += f".get({_quote(step)})"
        else:
            text += f".{step}" if text else step
    return text


def write_literal(node: Node) -> str:
    assert isinstance(node, Literal)
    value = node.value
    match node.literalType:
        case "String":
            assert isinstance(value, str)
            return _quote(value)
        case "Boolean":
            return "true" if value else "false"
        case "Date":
            assert isinstance(value, str)
            year, month, day = (int(part) for part in value.split("-"))
            return f"date({year}, {month}, {day})"
        case "Array":
            assert isinstance(value, list)
            return "[" + ", ".join(write_literal(item) for item in value) + "]"
    return repr(value)  # Integer / Double: repr round-trips floats exactly


_QUOTE_MAP = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b"}
_QUOTE_MAP["\f"] = "\\f"


def _quote(value: str) -> str:
    out = []
    for ch in value:
        if ch in _QUOTE_MAP:
            out.append(_QUOTE_MAP[ch])
        elif ch < " " or "\ud800" <= ch <= "\udfff" or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'
