"""Wire shapes of Confidence's segments API: proto3 JSON as Google's HTTP transcoding writes it.

Out: lowerCamelCase, default values omitted (``omit_defaults``), enums as names, int64 as
strings. In: camelCase or the proto's snake_case (:func:`camel_keys` turns the latter into the
former before decoding), unknown fields refused, ``null`` meaning "default" as proto3 JSON says.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from core.errors import Invalid

_SNAKE = re.compile(r"_([a-z0-9])")
_MAP_FIELDS = frozenset({"labels", "criteria"})
"""Fields whose keys are data (label keys, criterion ids): never renamed."""


def to_camel(name: str) -> str:
    return _SNAKE.sub(lambda m: m.group(1).upper(), name)


def camel_keys(value: Any, where: str = "", opaque: frozenset[str] = frozenset()) -> Any:
    """``value`` with every field name in lowerCamelCase; a field given in both spellings is
    ``Invalid`` (proto3 JSON parsers refuse a field set twice). Fields named in ``opaque`` are
    kept as sent, whole (a ``google.protobuf.Struct`` value: every key in it is data)."""
    if isinstance(value, list):
        return [camel_keys(v, where, opaque) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        camel = to_camel(key) if isinstance(key, str) else key
        path = f"{where}.{camel}" if where else camel
        if camel in out:
            raise Invalid(path, "is set twice (camelCase and snake_case)")
        if camel in opaque:
            out[camel] = item
        elif camel in _MAP_FIELDS and isinstance(item, dict):
            out[camel] = {k: camel_keys(v, f"{path}.{k}", opaque) for k, v in item.items()}
        else:
            out[camel] = camel_keys(item, path, opaque)
    return out


# --- in --------------------------------------------------------------------------------------

Unset = msgspec.UnsetType
UNSET = msgspec.UNSET


class DecimalIn(msgspec.Struct, forbid_unknown_fields=True):
    value: str | None = None


class AllocationIn(msgspec.Struct, forbid_unknown_fields=True):
    proportion: DecimalIn | Unset | None = UNSET
    exclusivityTags: list[str] | Unset | None = UNSET
    exclusiveTo: list[str] | Unset | None = UNSET
    targetingKeySelector: str | Unset | None = UNSET


class SegmentIn(msgspec.Struct, forbid_unknown_fields=True):
    """A Segment in a request body; UNSET fields were not sent."""

    name: str | Unset | None = UNSET
    displayName: str | Unset | None = UNSET
    description: str | Unset | None = UNSET
    targeting: dict[str, Any] | Unset | None = UNSET
    allocation: AllocationIn | Unset | None = UNSET
    labels: dict[str, str] | Unset | None = UNSET
    workflowInstance: str | Unset | None = UNSET
    flag: str | Unset | None = UNSET
    owner: str | Unset | None = UNSET
    # OUTPUT_ONLY: accepted and ignored (AIP-203).
    state: Any = UNSET
    bitsetAllocation: Any = UNSET
    createTime: Any = UNSET
    updateTime: Any = UNSET
    creator: Any = UNSET
    updater: Any = UNSET


class QueryParams(msgspec.Struct, forbid_unknown_fields=True):
    targeting: dict[str, Any] | None = None
    exclusivityTags: list[str] | None = None
    exclusiveTo: list[str] | None = None


class AvailableSpaceIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str | None = None
    queryParams: QueryParams | None = None


class Empty(msgspec.Struct, forbid_unknown_fields=True):
    """The ``{}`` body of ``:allocate`` and ``:archive`` (the resource name may be repeated)."""

    name: str | None = None


class TokenIn(msgspec.Struct, forbid_unknown_fields=True):
    grantType: str | None = None
    clientId: str | None = None
    clientSecret: str | None = None


# --- out -------------------------------------------------------------------------------------


class DecimalOut(msgspec.Struct):
    value: str


class AllocationOut(msgspec.Struct, omit_defaults=True):
    proportion: DecimalOut | None = None
    exclusivityTags: list[str] = []
    exclusiveTo: list[str] = []
    targetingKeySelector: str = ""


class BitsetAllocation(msgspec.Struct):
    bitset: str


class SegmentOut(msgspec.Struct, omit_defaults=True):
    createTime: str = ""
    updateTime: str = ""
    creator: str = ""
    updater: str = ""
    name: str = ""
    displayName: str = ""
    description: str = ""
    targeting: dict[str, Any] | None = None
    allocation: AllocationOut | None = None
    state: str = ""
    bitsetAllocation: BitsetAllocation | None = None
    labels: dict[str, str] = {}
    workflowInstance: str = ""
    flag: str = ""
    owner: str = ""


class ListOut(msgspec.Struct, omit_defaults=True):
    segments: list[SegmentOut]
    nextPageToken: str = ""


class AvailableSpaceOut(msgspec.Struct):
    availableSpace: DecimalOut


class TokenOut(msgspec.Struct):
    accessToken: str
    expiresIn: str


class Status(msgspec.Struct):
    """``google.rpc.Status``."""

    code: int
    message: str
    details: list[dict[str, Any]]


ENCODER = msgspec.json.Encoder()
