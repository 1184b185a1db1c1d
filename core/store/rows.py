"""Row <-> record conversion shared by the SQL backends (JSON columns are text in both)."""

from __future__ import annotations

from typing import Any

import msgspec

from core.model import Allocation, Profile, Segment, Tenant, TokenInfo
from core.store.base import Row

_enc = msgspec.json.Encoder()
_alloc_dec = msgspec.json.Decoder(Allocation)
_dict_dec = msgspec.json.Decoder(dict[str, Any])
_labels_dec = msgspec.json.Decoder(dict[str, str])

SEGMENT_COLUMNS = (
    "tenant, id, seq, slug, sandbox, name, description, kind, expression, allocation, state, "
    "labels, owner, created_at, updated_at, created_by, updated_by, version, extensions"
)


def dumps(value: object) -> str:
    return _enc.encode(value).decode()


def segment_from_row(row: Row) -> Segment:
    expr = row["expression"]
    return Segment(
        tenant=row["tenant"],
        id=row["id"],
        seq=row["seq"],
        slug=row["slug"],
        sandbox=row["sandbox"],
        name=row["name"],
        description=row["description"],
        kind=row["kind"],
        expression=expr.encode() if isinstance(expr, str) else expr,
        allocation=_alloc_dec.decode(row["allocation"]),
        state=row["state"],
        labels=_labels_dec.decode(row["labels"]),
        owner=row["owner"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        created_by=row["created_by"],
        updated_by=row["updated_by"],
        version=row["version"],
        extensions=_dict_dec.decode(row["extensions"]),
    )


def profile_from_row(row: Row) -> Profile:
    return Profile(
        tenant=row["tenant"],
        sandbox=row["sandbox"],
        identifier=row["identifier"],
        attributes=_dict_dec.decode(row["attributes"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


def tenant_from_row(row: Row) -> Tenant:
    return Tenant(
        name=row["name"],
        default_sandbox=row["default_sandbox"],
        created_at=row["created_at"],
        settings=_dict_dec.decode(row["settings"]),
    )


def token_from_row(row: Row) -> TokenInfo:
    return TokenInfo(
        id=row["id"],
        tenant=row["tenant"],
        scope=row["scope"],
        name=row["name"],
        created_at=row["created_at"],
        client_id=row["client_id"],
    )
