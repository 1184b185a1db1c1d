"""Wire shapes of the v2.3 API: ``{success, result}`` envelopes around Laravel conventions."""

from __future__ import annotations

from typing import Any

import msgspec


class SegmentOut(msgspec.Struct):
    id: str
    name: str


class ListResult(msgspec.Struct):
    currentPage: int
    perPage: int
    lastPage: int
    total: int
    items: list[SegmentOut]
    filters: list[Any]


class Ok(msgspec.Struct, kw_only=True):
    success: bool = True
    result: SegmentOut | ListResult


class Failure(msgspec.Struct, kw_only=True):
    success: bool = False
    message: str
    errors: dict[str, list[str]] | msgspec.UnsetType = msgspec.UNSET


ENCODER = msgspec.json.Encoder()
