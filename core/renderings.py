"""Every dialect's view of one segment: its exact form there, or why it has none.

One row per dialect: how it names the segment, where its detail lives, and the projection that
renders the condition in its language (``NotExpressible`` where it cannot say it exactly). The
rules are the dialects' own: Unleash's ``constraints_of``; Adobe and Confidence return the form
they were sent while the canonical condition is unchanged (``expressionOf`` / ``expression``
digests in their extensions), else render it anew; HAL shows a static segment with no filter;
v2.3 shows every segment by name. Projections are cached per segment version (``SegmentView``).

Never widen: the views whose language states only a condition (Unleash, Adobe, HAL) refuse an
ARCHIVED or UNALLOCATED segment and one allocated to a proportion of units
(``core.allocation.check_condition_only``); Confidence shows state and allocation exactly. v2.3
shows a name and nothing else — no condition, no members — so showing any segment there claims
nothing about who is in it and widens nothing; it shows them all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from core.allocation import check_condition_only
from core.constraint_segments import constraints_of
from core.errors import NotExpressible
from core.expr import ast
from core.expr.ast import Expr
from core.expr.confidence import render_targeting
from core.expr.odata import render_odata
from core.expr.pql import render_pql
from core.model import Segment
from core.segment_views import Hidden, SegmentView
from core.sent_forms import sent_form

DIALECTS = ("v23", "unleash", "adobe", "confidence", "hal")


def _condition(segment: Segment) -> Expr | None:
    return ast.decode(segment.expression) if segment.expression is not None else None


def _ext(segment: Segment, dialect: str) -> Mapping[str, Any]:
    found = segment.extensions.get(dialect)
    return found if isinstance(found, dict) else {}


def _v23(segment: Segment) -> Any:
    return None


def _unleash(segment: Segment) -> Any:
    return constraints_of(segment)


def _adobe(segment: Segment) -> Any:
    """PQL text (``dialects.adobe.translate.expression_out``: the text as sent while current)."""
    if segment.kind == "static":
        raise NotExpressible("pql", "a static segment (a list of members) has no PQL condition")
    check_condition_only(segment, "pql", "PQL")
    found, stored = sent_form(_ext(segment, "adobe"), "expression", "expressionOf",
                              segment.expression)
    if (found and isinstance(stored, dict) and stored.get("format") == "pql/text"
            and isinstance(stored.get("value"), str)):
        return stored["value"]
    return render_pql(_condition(segment))


def _confidence(segment: Segment) -> Any:
    """Targeting (``dialects.confidence.translate._targeting``: as sent while current)."""
    if segment.kind == "static":
        raise NotExpressible("confidence", "static segments (member lists) have no targeting")
    found, sent = sent_form(_ext(segment, "confidence"), "targeting", "expression",
                            segment.expression)
    if found:
        return sent if isinstance(sent, dict) else None
    if segment.expression is None:
        return None
    return render_targeting(ast.decode(segment.expression))


def _hal(segment: Segment) -> Any:
    """OData ``filter`` (``dialects.hal.translate.filter_of``)."""
    check_condition_only(segment, "OData")
    if segment.kind == "static":
        return None
    return render_odata(_condition(segment))


@dataclass(frozen=True)
class Dialect:
    name: str
    id_of: Callable[[Segment], Any]
    url_of: Callable[[Segment], str]
    view: SegmentView


def _q(text: str) -> str:
    return quote(text, safe="")


TABLE: tuple[Dialect, ...] = (
    Dialect("v23", lambda s: s.id, lambda s: f"/v2.3/data/segments/{s.id}",
            SegmentView("v2.3", lambda s: {"expression": _v23(s)})),
    Dialect("unleash", lambda s: s.seq, lambda s: f"/api/admin/segments/{s.seq}",
            SegmentView("unleash", lambda s: {"expression": _unleash(s)})),
    Dialect("adobe", lambda s: s.id, lambda s: f"/data/core/ups/segment/definitions/{s.id}",
            SegmentView("pql", lambda s: {"expression": _adobe(s)})),
    Dialect("confidence", lambda s: f"segments/{s.slug}", lambda s: f"/v1/segments/{s.slug}",
            SegmentView("confidence", lambda s: {"expression": _confidence(s)})),
    Dialect("hal", lambda s: s.slug,
            lambda s: f"/{_q(s.sandbox)}/individual-segments/{_q(s.slug)}",
            SegmentView("OData", lambda s: {"expression": _hal(s)})),
)


SANDBOXED = {"v23": "v2.3", "unleash": "Unleash", "confidence": "Confidence"}
"""Dialects that serve only the token's default sandbox (the others name the sandbox: Adobe's
``x-sandbox-name``, HAL's project in the path)."""


def renderings(
    segment: Segment, default_sandbox: str | None = None
) -> dict[str, dict[str, Any]]:
    """Per dialect: ``{"expressible": True, id, url, expression}`` or
    ``{"expressible": False, reason}``. With ``default_sandbox`` (the reader's), a segment of
    another sandbox is not shown by the dialects bound to the default one."""
    out: dict[str, dict[str, Any]] = {}
    for dialect in TABLE:
        label = SANDBOXED.get(dialect.name)
        if label and default_sandbox is not None and segment.sandbox != default_sandbox:
            out[dialect.name] = {"expressible": False, "reason": (
                f"{label} serves only the token's default sandbox {default_sandbox!r}; this "
                f"segment is in {segment.sandbox!r}")}
            continue
        try:
            fields = dialect.view.fields(segment)
        except Hidden as exc:
            out[dialect.name] = {"expressible": False, "reason": exc.reason}
            continue
        out[dialect.name] = {
            "expressible": True,
            "id": dialect.id_of(segment),
            "url": dialect.url_of(segment),
            "expression": fields["expression"],
        }
    return out
