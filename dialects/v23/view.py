"""How v2.3 shows a segment: by id and name only. It has no condition and no members, so
showing any segment there claims nothing about who is in it and widens nothing: every segment
is shown."""

from __future__ import annotations

from core.segment_views import SegmentView
from dialects.views import SegmentRendering

VIEW = SegmentRendering(
    id_of=lambda s: s.id,
    url_of=lambda s: f"/v2.3/data/segments/{s.id}",
    view=SegmentView("v2.3", lambda s: {"expression": None}),
    shows="name only: no conditions",
    name_only=True,
)
