"""Wire shapes of segmux's own, dialect-neutral API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import msgspec

from core.bounded import ENTRY_OVERHEAD, MB, Versioned
from core.model import Segment, SegmentKind
from dialects.renderings import renderings


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
    reasons: dict[str, str]
    """Segment id -> why it matches no context whatever its condition (``archived``,
    ``unallocated``, ``needs a unit``); only the segments that have such a reason."""


class BatchIn(msgspec.Struct, forbid_unknown_fields=True):
    contexts: list[dict[str, Any]]
    segments: list[str] | None = None
    unit: str | None = None


class BatchOut(msgspec.Struct):
    results: list[EvaluateOut]


def evaluate_out(results: dict[str, bool], reasons: dict[str, str]) -> EvaluateOut:
    return EvaluateOut(
        matches=[k for k, v in results.items() if v],
        results=results,
        reasons={k: v for k, v in reasons.items() if k in results},
    )


class ConditionIn(msgspec.Struct, forbid_unknown_fields=True):
    """A condition in one of the languages of ``core.expr.languages``."""

    language: str
    expression: Any


class SegmentIn(msgspec.Struct, forbid_unknown_fields=True):
    """A create: the condition as the canonical AST (``expression``, as GET shows it) or in a
    language (``condition``), not both; neither is a condition that matches everyone."""

    name: str
    description: str | None = None
    kind: SegmentKind = "dynamic"
    sandbox: str | None = None
    expression: Any | msgspec.UnsetType = msgspec.UNSET
    condition: ConditionIn | msgspec.UnsetType = msgspec.UNSET


class SegmentChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    """A PATCH: only the fields given change."""

    name: str | msgspec.UnsetType = msgspec.UNSET
    description: str | msgspec.UnsetType | None = msgspec.UNSET
    kind: SegmentKind | msgspec.UnsetType = msgspec.UNSET
    expression: Any | msgspec.UnsetType = msgspec.UNSET
    condition: ConditionIn | msgspec.UnsetType = msgspec.UNSET


class AllocationOut(msgspec.Struct):
    proportion: str
    exclusivityTags: list[str]
    exclusiveTo: list[str]


class SegmentOut(msgspec.Struct, omit_defaults=True):
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
    renderings: msgspec.Raw
    """``dialects.renderings.renderings`` (per dialect), encoded once per segment version."""
    usedBy: dict[str, list[str]] = {}
    """The flags whose rules use the segment, per API (``confidence``: ``flags/<id>``,
    ``unleash``: feature names); absent when none does. Not part of ``renderings``: those are
    cached per segment version, and a rule changes no segment."""


RFC3339_KEPT = 16_384
"""Timestamps kept by :func:`rfc3339`: a full page's (1,000 segments, two each) eight times over.
It was 65,536 (16 MB, not in the documented bounds), filled by writes alone."""


class SegmentList(msgspec.Struct):
    items: list[SegmentOut]
    next: str | None


@lru_cache(maxsize=RFC3339_KEPT)
def rfc3339(us: int) -> str:
    """µs since the epoch as RFC 3339 UTC, microsecond precision. Cached: a list shows the same
    segments' timestamps on every request, and strftime was a fifth of a list's time. Every
    write makes a new timestamp, so the cache is full after a few thousand writes: ~250 bytes
    an entry (the int, the 27-character string, the LRU's link), 4 MB at 16,384."""
    seconds, micros = divmod(us, 1_000_000)
    text = dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{micros:06d}Z"


RENDERINGS_MAX_BYTES = 32 * MB
_renderings: Versioned[tuple[str, str, str | None], msgspec.Raw] = Versioned(
    capacity=50_000, max_bytes=RENDERINGS_MAX_BYTES
)


def _encoded_renderings(s: Segment, default_sandbox: str | None) -> msgspec.Raw:
    """The renderings as encoded JSON, cached: one entry per segment (and per reader's default
    sandbox where it hides the segment from the sandbox-bound dialects; otherwise it changes
    nothing, so readers share the entry), stamped with everything they are made of: the segment
    version (the projections of ``SegmentView`` are cached on it too) and the ids and paths
    (seq, slug, sandbox). A new version replaces the entry of the old one."""
    hiding = default_sandbox if default_sandbox not in (None, s.sandbox) else None
    key = (s.tenant, s.id, hiding)
    stamp = (s.version, s.seq, s.slug, s.sandbox)
    found = _renderings.get(key, stamp)
    if found is None:
        found = msgspec.Raw(ENCODER.encode(renderings(s, hiding)))
        _renderings.put(key, stamp, found, len(found) + ENTRY_OVERHEAD)
    return found


def segment_out(
    s: Segment,
    default_sandbox: str | None = None,
    used_by: dict[str, list[str]] | None = None,
) -> SegmentOut:
    a = s.allocation
    return SegmentOut(
        id=s.id,
        seq=s.seq,
        slug=s.slug,
        sandbox=s.sandbox,
        name=s.name,
        description=s.description,
        kind=s.kind,
        expression=msgspec.Raw(s.expression) if s.expression is not None else None,
        allocation=AllocationOut(a.proportion, list(a.exclusivity_tags), list(a.exclusive_to)),
        state=s.state,
        labels=s.labels,
        owner=s.owner,
        createdAt=rfc3339(s.created_at),
        updatedAt=rfc3339(s.updated_at),
        version=s.version,
        renderings=_encoded_renderings(s, default_sandbox),
        usedBy=used_by or {},
    )


def segment_list(
    items: Sequence[Segment],
    next_cursor: str | None,
    default_sandbox: str | None = None,
    used: dict[str, dict[str, list[str]]] | None = None,
) -> SegmentList:
    used = used or {}
    return SegmentList(
        items=[segment_out(s, default_sandbox, used.get(s.id)) for s in items], next=next_cursor
    )


class Error(msgspec.Struct, omit_defaults=True):
    error: str
    reason: str
    field: str | None = None
    position: int | None = None
    language: str | None = None


ENCODER = msgspec.json.Encoder()
