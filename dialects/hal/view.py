"""How HAL shows a segment: by slug in its project (the sandbox), its condition as an OData
``filter`` (as ``dialects.hal.translate.filter_of``); a static segment has none. One that is
archived, unallocated or allocated to a proportion is refused (a filter states a condition
only)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from core.allocation import check_condition_only
from core.expr.odata import render_odata
from core.model import Segment
from core.segment_views import SegmentView
from dialects.views import SegmentRendering, condition


def _filter(segment: Segment) -> Any:
    check_condition_only(segment, "OData")
    if segment.kind == "static":
        return None
    return render_odata(condition(segment))


def _q(text: str) -> str:
    return quote(text, safe="")


VIEW = SegmentRendering(
    id_of=lambda s: s.slug,
    url_of=lambda s: f"/{_q(s.sandbox)}/individual-segments/{_q(s.slug)}",
    view=SegmentView("OData", lambda s: {"expression": _filter(s)}),
    shows="OData $filter",
)
