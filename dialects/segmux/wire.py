"""Wire shapes of segmux's own, dialect-neutral API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import msgspec

from core.model import Segment
from core.renderings import renderings


class TranslateIn(msgspec.Struct, forbid_unknown_fields=True):
    from_: str = msgspec.field(name="from")
    to: str
    expression: Any


class TranslateOut(msgspec.Struct):
    expression: Any


class EvaluateIn(msgspec.Struct, forbid_unknown_fields=True):
    context: dict[str, Any]
    segments: list[str] | None = None
    unit: str | None = None
    """A targeting key: apply Confidence allocation (state and bucket) as well as conditions."""


class EvaluateOut(msgspec.Struct):
    matches: list[str]
    results: dict[str, bool]


class AllocationOut(msgspec.Struct):
    proportion: str
    exclusivityTags: list[str]
    exclusiveTo: list[str]


class SegmentOut(msgspec.Struct):
    id: str
    seq: int
    slug: str
    sandbox: str
    name: str
    description: str | None
    kind: str
    expression: msgspec.Raw | None
    """The canonical AST (``core.expr.ast``) as a JSON object, or null: matches everyone."""
    allocation: AllocationOut
    state: str
    labels: dict[str, str]
    owner: str | None
    createdAt: str
    updatedAt: str
    version: int
    renderings: dict[str, dict[str, Any]]


class SegmentList(msgspec.Struct):
    items: list[SegmentOut]
    next: str | None


def rfc3339(us: int) -> str:
    """µs since the epoch as RFC 3339 UTC, microsecond precision."""
    seconds, micros = divmod(us, 1_000_000)
    text = dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{micros:06d}Z"


def segment_out(s: Segment) -> SegmentOut:
    a = s.allocation
    return SegmentOut(
        id=s.id, seq=s.seq, slug=s.slug, sandbox=s.sandbox, name=s.name,
        description=s.description, kind=s.kind,
        expression=msgspec.Raw(s.expression) if s.expression is not None else None,
        allocation=AllocationOut(a.proportion, list(a.exclusivity_tags), list(a.exclusive_to)),
        state=s.state, labels=s.labels, owner=s.owner, createdAt=rfc3339(s.created_at),
        updatedAt=rfc3339(s.updated_at), version=s.version, renderings=renderings(s),
    )


def segment_list(items: Sequence[Segment], next_cursor: str | None) -> SegmentList:
    return SegmentList(items=[segment_out(s) for s in items], next=next_cursor)


class Error(msgspec.Struct, omit_defaults=True):
    error: str
    reason: str
    field: str | None = None
    position: int | None = None
    language: str | None = None


ENCODER = msgspec.json.Encoder()
