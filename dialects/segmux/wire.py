"""Wire shapes of segmux's own, dialect-neutral API."""

from __future__ import annotations

from typing import Any

import msgspec


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


class Error(msgspec.Struct, omit_defaults=True):
    error: str
    reason: str
    field: str | None = None
    position: int | None = None
    language: str | None = None


ENCODER = msgspec.json.Encoder()
