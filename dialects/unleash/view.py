"""How Unleash shows a segment: by its sequence number, its condition as constraints
(``core.constraint_segments.constraints_of``, which refuses what constraints cannot state)."""

from __future__ import annotations

from core.constraint_segments import constraints_of
from core.segment_views import SegmentView
from dialects.views import SegmentRendering

VIEW = SegmentRendering(
    id_of=lambda s: s.seq,
    url_of=lambda s: f"/api/admin/segments/{s.seq}",
    view=SegmentView("unleash", lambda s: {"expression": constraints_of(s)}),
    shows="constraints",
)
