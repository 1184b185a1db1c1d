"""The core records. Dialects translate their wire shapes to and from these; nothing here knows
HTTP.

Times are integers of microseconds since the epoch, UTC, so both stores keep them exactly and every
dialect can render its own precision (Unleash ms, Adobe ms/s, Confidence µs, HAL s).
"""

from __future__ import annotations

import re
import secrets
import string
import time
from typing import Any, Literal

import msgspec

SegmentKind = Literal["dynamic", "static"]
SLUG_RE = re.compile(r"^[a-z0-9-]{4,63}$")
_SLUG_ALPHABET = string.ascii_lowercase + string.digits
DEFAULT_SANDBOX = "prod"
MAX_NAME = 1024
"""Longest segment name the core stores (dialects may allow less: v2.3 says 255)."""


def now_us() -> int:
    return time.time_ns() // 1000


def new_slug() -> str:
    """A generated slug: 20 characters of [a-z0-9], as Confidence generates segment ids."""
    return "".join(secrets.choice(_SLUG_ALPHABET) for _ in range(20))


class Allocation(msgspec.Struct, frozen=True, omit_defaults=True):
    """Confidence allocation: a proportion (exact decimal string) of the 1,000,000 buckets."""

    proportion: str = "1"
    exclusivity_tags: tuple[str, ...] = ()
    exclusive_to: tuple[str, ...] = ()


class Segment(msgspec.Struct, frozen=True, kw_only=True):
    """One segment, as every dialect sees it."""

    id: str
    """Canonical UUID (Adobe's and v2.3's id)."""
    seq: int
    """Integer unique per tenant (Unleash's id)."""
    slug: str
    """``^[a-z0-9-]{4,63}$``, unique per tenant (Confidence's and HAL's id)."""
    tenant: str
    sandbox: str
    name: str
    description: str | None = None
    kind: SegmentKind = "dynamic"
    expression: bytes | None = None
    """Canonical AST as JSON bytes (``core.expr.ast.encode``), or None: matches everyone."""
    allocation: Allocation = Allocation()
    state: str = "OK"
    labels: dict[str, str] = {}
    owner: str | None = None
    created_at: int
    updated_at: int
    created_by: str | None = None
    updated_by: str | None = None
    version: int = 1
    extensions: dict[str, Any] = {}
    """Per-dialect JSON the core does not interpret, keyed by dialect name."""


class NewSegment(msgspec.Struct, frozen=True, kw_only=True):
    """What a create needs; the store fills ids (unless given), times and version."""

    name: str
    sandbox: str = DEFAULT_SANDBOX
    description: str | None = None
    kind: SegmentKind = "dynamic"
    expression: bytes | None = None
    allocation: Allocation = Allocation()
    state: str = "OK"
    labels: dict[str, str] = {}
    owner: str | None = None
    extensions: dict[str, Any] = {}
    seq: int | None = None
    slug: str | None = None
    id: str | None = None


class SegmentPatch(msgspec.Struct, frozen=True, kw_only=True):
    """A partial update: ``UNSET`` fields are left as they are."""

    name: str | msgspec.UnsetType = msgspec.UNSET
    description: str | msgspec.UnsetType | None = msgspec.UNSET
    kind: SegmentKind | msgspec.UnsetType = msgspec.UNSET
    expression: bytes | msgspec.UnsetType | None = msgspec.UNSET
    allocation: Allocation | msgspec.UnsetType = msgspec.UNSET
    state: str | msgspec.UnsetType = msgspec.UNSET
    labels: dict[str, str] | msgspec.UnsetType = msgspec.UNSET
    owner: str | msgspec.UnsetType | None = msgspec.UNSET
    extensions: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET


SortField = Literal["name", "created_at", "updated_at", "seq", "slug", "id", "state"]


class Sort(msgspec.Struct, frozen=True):
    field: SortField
    descending: bool = False


class Page(msgspec.Struct, frozen=True):
    """One page of a listing and the total number of rows that match."""

    items: list[Segment]
    total: int


class Tenant(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    default_sandbox: str = DEFAULT_SANDBOX
    created_at: int
    settings: dict[str, Any] = {}
    """Per-tenant settings (Adobe IMS org id, Confidence account id, limits)."""


Scope = str
"""``admin`` or ``client:<environment>``."""


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who is calling: the token's tenant, scope and name (never the token itself)."""

    tenant: str
    scope: Scope
    token_name: str
    default_sandbox: str = DEFAULT_SANDBOX

    @property
    def is_admin(self) -> bool:
        return self.scope == "admin"

    @property
    def environment(self) -> str | None:
        return self.scope.split(":", 1)[1] if self.scope.startswith("client:") else None


class TokenInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A stored token, as listed: no secret, only its hash's prefix as an id."""

    id: str
    tenant: str
    scope: Scope
    name: str
    created_at: int
    client_id: str | None = None
