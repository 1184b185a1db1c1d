"""pql/json's node types, and turning JSON (text or already decoded) into them safely.

The four msgspec structs are the node format documented in ``core.expr.pqljson``; PQL text is
parsed into the same nodes (``core.expr.pql_tree``). Decoding is kept apart from PQL's rules
(``pqljson_read``) because its job is different: bound the input (text length, raw JSON
nesting) *before* msgspec's recursive decoder sees it, and report malformed JSON as ``Invalid``.
The literal value checks live here too, so that reading and rendering agree on what a valid
literal is.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import TypeAlias

import msgspec

from core.errors import Invalid, LimitExceeded
from core.expr.limits import Limits

__all__ = [
    "EVERYONE",
    "FIELD",
    "LITERAL_TYPES",
    "NOBODY",
    "FieldLookup",
    "FnApply",
    "Literal",
    "LiteralValue",
    "Node",
    "ParameterReference",
    "decode",
    "encode",
    "is_number",
    "normal_number",
    "valid_date",
]

FIELD = "expression"
"""The request field every PQL error names."""


# --------------------------------------------------------------------------- node types


class FnApply(msgspec.Struct, frozen=True, tag="fnApply", tag_field="nodeType"):
    fnName: str
    params: list[Node]


class FieldLookup(msgspec.Struct, frozen=True, tag="fieldLookup", tag_field="nodeType"):
    fieldName: str
    object: Node


class ParameterReference(
    msgspec.Struct, frozen=True, tag="parameterReference", tag_field="nodeType"
):
    position: int


class Literal(msgspec.Struct, frozen=True, tag="literal", tag_field="nodeType"):
    literalType: str
    value: LiteralValue


LiteralValue: TypeAlias = "str | int | float | bool | list[Literal] | None"
Node: TypeAlias = FnApply | FieldLookup | ParameterReference | Literal

EVERYONE = Literal("Boolean", True)
NOBODY = Literal("Boolean", False)

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Node)


def encode(node: Node) -> str:
    """Compact JSON text; keys come out in the documented order (tag, then struct fields)."""
    return _encoder.encode(node).decode()


# --------------------------------------------------------------------------- decoding

_BYTE_RE = re.compile(r"\(byte ([0-9]+)\)")
_JSON_DEPTH_FACTOR = 3
"""pql/json nests two JSON levels per condition level plus one per path step; the raw
nesting bound (``3 * max_depth``) only protects msgspec's recursive decoder, the AST depth is
checked exactly afterwards."""


def decode(value: str | dict[str, object] | list[object], limits: Limits) -> Node:
    """The node tree of pql/json text or of the already-decoded JSON object, within ``limits``
    (``LimitExceeded`` / ``Invalid`` name the ``expression`` field)."""
    return _decode_text(value, limits) if isinstance(value, str) else _convert_object(value, limits)


def _decode_text(text: str, limits: Limits) -> Node:
    if len(text) > limits.max_text:
        raise LimitExceeded(FIELD, f"the pql/json text is longer than {limits.max_text} characters")
    _check_json_nesting(text, _JSON_DEPTH_FACTOR * limits.max_depth)
    try:
        return _decoder.decode(text)
    except msgspec.ValidationError as exc:
        raise Invalid(FIELD, f"pql/json: {exc}") from None
    except msgspec.DecodeError as exc:
        match = _BYTE_RE.search(str(exc))
        position = int(match.group(1)) if match else None
        raise Invalid(FIELD, f"pql/json is not valid JSON: {exc}", position) from None
    except UnicodeEncodeError:
        # Lone surrogates cannot come through HTTP (the JSON decoder refuses them) but can come
        # from Python callers (the CLI's import, migrate).
        raise Invalid(FIELD, "pql/json is not valid UTF-8 text") from None


def _check_json_nesting(text: str, bound: int) -> None:
    """Linear scan of bracket nesting outside strings, before the recursive decoder runs."""
    depth = 0
    in_string = False
    escaped = False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > bound:
                raise LimitExceeded(
                    FIELD, f"pql/json nests deeper than {bound} levels (position {i})", i
                )
        elif ch in "]}":
            depth -= 1


def _convert_object(value: object, limits: Limits) -> Node:
    bound = _JSON_DEPTH_FACTOR * limits.max_depth
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:  # iterative: a hostile object may nest far deeper than Python recursion
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > bound:
                raise LimitExceeded(FIELD, f"pql/json nests deeper than {bound} levels")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    try:
        size = len(_encoder.encode(value))
        if size > limits.max_text:
            raise LimitExceeded(
                FIELD, f"the pql/json text is longer than {limits.max_text} characters"
            )
        node: Node = msgspec.convert(value, Node)
    except msgspec.ValidationError as exc:
        raise Invalid(FIELD, f"pql/json: {exc}") from None
    except (TypeError, msgspec.EncodeError) as exc:
        raise Invalid(FIELD, f"pql/json: {exc}") from None
    return node


# --------------------------------------------------------------------------- literal values

_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
LITERAL_TYPES = frozenset({"String", "Integer", "Double", "Boolean", "Date", "Array"})
"""The documented ``literalType`` values (to tell a bad value from an unknown type)."""


def is_number(value: object) -> bool:
    """A JSON number the AST can hold: not a bool (an int in Python), not NaN or infinite."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not isinstance(value, float) or math.isfinite(value)


def normal_number(value: object) -> int | float:
    """The AST keeps integral numbers as int (``3.0`` and ``3`` are the same literal)."""
    assert isinstance(value, int | float)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def valid_date(value: str) -> bool:
    """``YYYY-MM-DD`` exactly (``fromisoformat`` alone also takes other ISO spellings)."""
    if not _DATE_RE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True
