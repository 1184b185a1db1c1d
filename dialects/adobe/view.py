"""How Adobe shows a segment: by id, its condition as PQL text — the text as sent while the
canonical condition is unchanged (the ``expressionOf`` digest in its extension), else rendered
anew (as ``dialects.adobe.translate.expression_out``). A static segment has no PQL; one that
is archived, unallocated or allocated to a proportion is refused (PQL states a condition only)."""

from __future__ import annotations

from typing import Any

from core.allocation import check_condition_only
from core.errors import NotExpressible
from core.expr.pql_render import render_pql
from core.model import Segment
from core.segment_views import SegmentView
from core.sent_forms import sent_form
from dialects.views import SegmentRendering, condition, extension


def _pql(segment: Segment) -> Any:
    if segment.kind == "static":
        raise NotExpressible("pql", "a static segment (a list of members) has no PQL condition")
    check_condition_only(segment, "pql", "PQL")
    found, stored = sent_form(
        extension(segment, "adobe"), "expression", "expressionOf", segment.expression
    )
    if (
        found
        and isinstance(stored, dict)
        and stored.get("format") == "pql/text"
        and isinstance(stored.get("value"), str)
    ):
        return stored["value"]
    return render_pql(condition(segment))


VIEW = SegmentRendering(
    id_of=lambda s: s.id,
    url_of=lambda s: f"/data/core/ups/segment/definitions/{s.id}",
    view=SegmentView("pql", lambda s: {"expression": _pql(s)}),
    shows="PQL",
    heading="Adobe AEP",
)
