"""How HAL shows a segment: by slug in its project (the sandbox), its condition as an OData
``filter`` (``dialects.hal.translate.filter_of``: the filter as sent while the condition is
unchanged); a static segment has none. One that is
archived, unallocated or allocated to a proportion is refused (a filter states a condition
only)."""

from __future__ import annotations

from urllib.parse import quote

from core.segment_views import SegmentView
from dialects.hal.translate import filter_of
from dialects.views import SegmentRendering


def _q(text: str) -> str:
    return quote(text, safe="")


VIEW = SegmentRendering(
    id_of=lambda s: s.slug,
    url_of=lambda s: f"/{_q(s.sandbox)}/individual-segments/{_q(s.slug)}",
    view=SegmentView("OData", lambda s: {"expression": filter_of(s)}),
    shows="OData $filter",
)
