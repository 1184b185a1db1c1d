"""How an API surface shows a core segment: its id and detail URL there, and the projection of
the condition into its language (``dialects.renderings`` puts every surface's view side by side).

A view is a presentation only: the rules it obeys (never widen, ``core.allocation``; the form
as sent, ``core.sent_forms``) live in ``core/`` and are called from the projection."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.expr import ast
from core.expr.ast import Expr
from core.model import Segment
from core.segment_views import SegmentView


@dataclass(frozen=True)
class SegmentRendering:
    """One surface's view of a segment, for the portability matrix."""

    id_of: Callable[[Segment], Any]
    """The segment's id in the surface's own API."""
    url_of: Callable[[Segment], str]
    """The path of its detail in the surface's API."""
    view: SegmentView
    """The projection of its condition (``{"expression": …}``), cached per segment version."""
    shows: str
    """What a column of this view holds (``PQL``, ``constraints``): the UI's column subtitle."""
    heading: str | None = None
    """The UI column's title where it says more than the surface's label."""
    name_only: bool = False
    """The surface states no condition: a segment is its name there."""


def condition(segment: Segment) -> Expr | None:
    return ast.decode(segment.expression) if segment.expression is not None else None


def extension(segment: Segment, dialect: str) -> Mapping[str, Any]:
    """The segment's extensions of ``dialect`` (the forms it was sent in there)."""
    found = segment.extensions.get(dialect)
    return found if isinstance(found, dict) else {}
