"""segmux's wire shapes <-> the core's records: conditions, creates, patches, ``If-Match``."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from core.errors import Invalid
from core.expr import ast
from core.expr.canonical import read_canonical, refuse_segment_criteria
from core.expr.languages import language
from core.expr.normalize import normalize
from core.model import NewSegment, Principal, SegmentPatch
from dialects.http import convert
from dialects.segmux.wire import ConditionIn, SegmentChangeIn, SegmentIn

_ETAG_RE = re.compile(r'^"([1-9][0-9]{0,17})"$')


def _body(value: Any) -> Any:
    if not isinstance(value, dict):
        raise Invalid("", "the body must be a JSON object")
    return value


def condition(
    expression: Any | msgspec.UnsetType, sent: ConditionIn | msgspec.UnsetType
) -> bytes | msgspec.UnsetType | None:
    """The canonical expression bytes of whichever form was given (UNSET: neither)."""
    if not isinstance(sent, msgspec.UnsetType):
        if not isinstance(expression, msgspec.UnsetType):
            raise Invalid(
                "condition",
                "give the condition as `expression` (the canonical AST) "
                "or as `condition` (in a language), not both",
            )
        expr = normalize(language(sent.language, "condition.language").parse(sent.expression))
    elif isinstance(expression, msgspec.UnsetType):
        return msgspec.UNSET
    else:
        expr = read_canonical(expression)
    refuse_segment_criteria(expr, "condition")
    return None if expr is None else ast.encode(expr)


def new_segment(body: Any, who: Principal) -> NewSegment:
    data = convert(_body(body), SegmentIn)
    if data.sandbox == "":
        raise Invalid("sandbox", "must not be empty (leave it out for the token's default)")
    expression = condition(data.expression, data.condition)
    return NewSegment(
        name=data.name,
        description=data.description,
        kind=data.kind,
        sandbox=who.default_sandbox if data.sandbox is None else data.sandbox,
        expression=None if isinstance(expression, msgspec.UnsetType) else expression,
    )


def segment_patch(body: Any) -> SegmentPatch:
    data = convert(_body(body), SegmentChangeIn)
    if not body:
        raise Invalid("", "give at least one of name, description, kind, expression, condition")
    return SegmentPatch(
        name=data.name,
        description=data.description,
        kind=data.kind,
        expression=condition(data.expression, data.condition),
    )


def if_match(value: str | None) -> int | None:
    """The version an ``If-Match`` names (our ETags are ``"<version>"``); None when absent or
    ``*`` (any version)."""
    if value is None or value == "*":
        return None
    found = _ETAG_RE.match(value)
    if found is None:
        raise Invalid("If-Match", 'must be "*" or an ETag this API returned, e.g. "3"')
    return int(found.group(1))


def etag(version: int) -> str:
    return f'"{version}"'
