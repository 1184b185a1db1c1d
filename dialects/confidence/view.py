"""How Confidence shows a segment: as ``segments/<slug>``, its targeting as sent while the
canonical condition is unchanged (the ``expression`` digest in its extension), else rendered
anew (as ``dialects.confidence.translate``). Confidence states lifecycle and allocation
exactly, so it shows every dynamic segment; a static one has no targeting."""

from __future__ import annotations

from typing import Any

from core.errors import NotExpressible
from core.expr import ast
from core.expr.confidence import render_targeting
from core.model import Segment
from core.segment_views import SegmentView
from core.sent_forms import sent_form
from dialects.views import SegmentRendering, extension


def _targeting(segment: Segment) -> Any:
    if segment.kind == "static":
        raise NotExpressible("confidence", "static segments (member lists) have no targeting")
    found, sent = sent_form(
        extension(segment, "confidence"), "targeting", "expression", segment.expression
    )
    if found:
        return sent if isinstance(sent, dict) else None
    if segment.expression is None:
        return None
    return render_targeting(ast.decode(segment.expression))


VIEW = SegmentRendering(
    id_of=lambda s: f"segments/{s.slug}",
    url_of=lambda s: f"/v1/segments/{s.slug}",
    view=SegmentView("confidence", lambda s: {"expression": _targeting(s)}),
    shows="targeting",
)
