"""The backup format of ``segmux export`` / ``segmux import``: NDJSON, one record a line.

Version 3 (written now; version 2 is the same without its last two kinds) opens with a header
line, then one record per line, each an object whose ``record`` names its kind, in the order
import needs them (what a record refers to first)::

    {"format": "segmux-backup", "version": 3, "tenant": "t1", "exported_at": 1733540000000000}
    {"record": "tenant", "name": ..., "default_sandbox": ..., "created_at": ..., "settings": {...},
     "next_seq": ...}
    {"record": "project", ...}        {"record": "environment", ...}
    {"record": "segment", ..., "expression": <canonical AST or null>, "bitset": <see below>}
    {"record": "profile", ...}        {"record": "membership", ...}
    {"record": "flag", ...}           {"record": "rule", ...}
    {"record": "confidence_client", ...}  {"record": "confidence_flag", ...}

Each record's other fields are the ``core.model`` record's (``core.store.backup`` for
``tenant`` and ``membership``, ``core.confidence_model`` for the Confidence kinds) as msgspec
encodes it. A Confidence client is written without its credentials: their secrets exist only as
hashes, and a credential without its secret resolves nothing, so a restored client gets new
ones. A segment's ``bitset`` is null when the
store holds none (all buckets, or an UNALLOCATED segment) and otherwise the stored 125,000 bytes,
zlib-compressed, base64. Version 1 (segmux before the header) is a segment per line and no
header; it is still read. A reader refuses a version newer than it knows rather than guess.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from typing import Any

import msgspec

from core.confidence_model import ConfidenceClient, ConfidenceFlag
from core.expr import ast
from core.model import Environment, Flag, Profile, Project, Rule, Segment
from core.store.backup import Membership, TenantBackup

FORMAT = "segmux-backup"
VERSION = 3
"""The version this segmux writes; it reads every version from 1 up to it."""
KINDS = (
    "tenant",
    "project",
    "environment",
    "segment",
    "profile",
    "membership",
    "flag",
    "rule",
    "confidence_client",
    "confidence_flag",
)
_SINCE = {"confidence_client": 3, "confidence_flag": 3}
"""Kinds newer than version 2, by the version that brought them."""
BITSET_BYTES = 125_000

Record = (
    TenantBackup
    | Project
    | Environment
    | Segment
    | Profile
    | Membership
    | Flag
    | Rule
    | ConfidenceClient
    | ConfidenceFlag
)
_TYPES: dict[str, type[Any]] = {
    "tenant": TenantBackup,
    "project": Project,
    "environment": Environment,
    "segment": Segment,
    "profile": Profile,
    "membership": Membership,
    "flag": Flag,
    "rule": Rule,
    "confidence_client": ConfidenceClient,
    "confidence_flag": ConfidenceFlag,
}


class BackupError(Exception):
    """The file cannot be read as a backup at all (a version this segmux does not know)."""


class SegmentRecord(msgspec.Struct, frozen=True):
    segment: Segment
    bitset: bytes | None


def header(tenant: str, exported_at: int) -> str:
    return _line(
        {"format": FORMAT, "version": VERSION, "tenant": tenant, "exported_at": exported_at}
    )


def encode(kind: str, record: Any, *, bitset: bytes | None = None) -> str:
    if kind == "confidence_client":
        record = msgspec.structs.replace(record, credentials=())
    data: dict[str, Any] = {"record": kind, **msgspec.to_builtins(record)}
    if kind == "segment":
        assert isinstance(record, Segment)
        data["expression"] = (
            None if record.expression is None else msgspec.json.decode(record.expression)
        )
        data["bitset"] = (
            None if bitset is None else base64.b64encode(zlib.compress(bitset)).decode()
        )
    return _line(data)


def _line(data: dict[str, Any]) -> str:
    return msgspec.json.encode(data).decode()


def read_header(data: Any) -> int | None:
    """The version a first line declares, or None when it is no header (version 1)."""
    if not isinstance(data, dict) or "format" not in data:
        return None
    if data.get("format") != FORMAT:
        raise BackupError(f"not a segmux backup: format {data.get('format')!r}")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BackupError(f"the header's version is not a version number: {version!r}")
    if version > VERSION:
        raise BackupError(
            f"the backup is format version {version}; this segmux reads "
            f"versions 1 to {VERSION} (upgrade segmux to import it)"
        )
    return version


def decode(data: Any, version: int, tenant: str) -> tuple[str, Any]:
    """``(kind, record)`` of one decoded line, moved into ``tenant``. ``msgspec.ValidationError``
    when it is not a record of this version."""
    if not isinstance(data, dict):
        raise msgspec.ValidationError("a line must be a JSON object")
    if version == 1:
        kind = "segment"
    else:
        kind = data.pop("record", None)
        if kind not in _TYPES or _SINCE.get(kind, 2) > version:
            known = [k for k in KINDS if _SINCE.get(k, 2) <= version]
            raise msgspec.ValidationError(
                f"unknown record kind {kind!r} (one of {', '.join(known)})"
            )
    if kind == "segment":
        return kind, _segment(data, tenant)
    if kind == "tenant":
        data["name"] = tenant
    elif kind != "membership":
        data["tenant"] = tenant
    return kind, msgspec.convert(data, _TYPES[kind])


def _segment(data: dict[str, Any], tenant: str) -> SegmentRecord:
    expression = data.pop("expression", None)
    packed = data.pop("bitset", None)
    data["tenant"] = tenant
    segment = msgspec.convert(data, Segment)
    if expression is not None:
        raw = msgspec.json.encode(expression)
        # Decoding checks that the expression is a canonical AST before it reaches the store;
        # the bytes kept are the backup's own (the digests of forms kept as sent are of them).
        ast.decode(raw)
        segment = msgspec.structs.replace(segment, expression=raw)
    return SegmentRecord(segment, _bitset(packed))


def _bitset(packed: Any) -> bytes | None:
    if packed is None:
        return None
    if not isinstance(packed, str):
        raise msgspec.ValidationError("bitset must be null or a base64 string")
    try:
        raw = zlib.decompress(base64.b64decode(packed, validate=True))
    except (binascii.Error, zlib.error) as exc:
        raise msgspec.ValidationError(f"bitset is not zlib data in base64: {exc}") from exc
    if len(raw) != BITSET_BYTES:
        raise msgspec.ValidationError(f"bitset holds {len(raw)} bytes, not {BITSET_BYTES}")
    return raw
