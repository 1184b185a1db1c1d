"""Every API surface's view of one segment: its exact form there, or why it has none.

One entry per registered surface with a view (``Surface.view``, in the registry's order): how
it names the segment, where its detail lives, and its projection of the condition
(``NotExpressible`` where it cannot say it exactly). A surface bound to the token's default
sandbox (``Surface.sandboxed``) does not show a segment of another sandbox."""

from __future__ import annotations

from functools import cache
from typing import Any

from core.model import Segment
from core.segment_views import Hidden
from dialects.views import SegmentRendering


@cache
def _views() -> tuple[tuple[str, str | None, SegmentRendering], ...]:
    """``(name, label if sandboxed, view)`` per surface with a view. Read once, on first use:
    the registry imports every surface, and a surface's modules may import this one."""
    from dialects.registry import SURFACES

    return tuple(
        (s.name, s.label if s.sandboxed else None, s.view) for s in SURFACES if s.view is not None
    )


def renderings(segment: Segment, default_sandbox: str | None = None) -> dict[str, dict[str, Any]]:
    """Per surface: ``{"expressible": True, id, url, expression}`` or
    ``{"expressible": False, reason}``. With ``default_sandbox`` (the reader's), a segment of
    another sandbox is not shown by the surfaces bound to the default one."""
    out: dict[str, dict[str, Any]] = {}
    for name, label, rendering in _views():
        if label and default_sandbox is not None and segment.sandbox != default_sandbox:
            out[name] = {
                "expressible": False,
                "reason": (
                    f"{label} serves only the token's default sandbox {default_sandbox!r}; this "
                    f"segment is in {segment.sandbox!r}"
                ),
            }
            continue
        try:
            fields = rendering.view.fields(segment)
        except Hidden as exc:
            out[name] = {"expressible": False, "reason": exc.reason}
            continue
        out[name] = {
            "expressible": True,
            "id": rendering.id_of(segment),
            "url": rendering.url_of(segment),
            "expression": fields["expression"],
        }
    return out
