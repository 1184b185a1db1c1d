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
_SLUG_LENGTH = 20
DEFAULT_SANDBOX = "prod"
MAX_NAME = 1024
"""Longest segment name the core stores (dialects may allow less: v2.3 says 255)."""


def now_us() -> int:
    return time.time_ns() // 1000


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_ulid() -> str:
    """A ULID: 48 bits of milliseconds then 80 random bits, Crockford base32 (26 characters),
    so ids sort by creation time."""
    value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def random_text(alphabet: str, length: int) -> str:
    """``length`` characters drawn uniformly and independently from ``alphabet``, from one draw
    of the system's randomness: a uniform number below ``len(alphabet) ** length`` written in
    that base. (A ``secrets.choice`` per character was an ``os.urandom`` call each: some 5% of
    a segment create's CPU for its slug.)"""
    base = len(alphabet)
    value = secrets.randbelow(base**length)
    out = []
    for _ in range(length):
        value, digit = divmod(value, base)
        out.append(alphabet[digit])
    return "".join(out)


def new_slug() -> str:
    """A generated slug: 20 characters of [a-z0-9], as Confidence generates segment ids."""
    return random_text(_SLUG_ALPHABET, _SLUG_LENGTH)


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


SortField = Literal["name", "created_at", "updated_at", "seq", "slug", "id", "state", "description"]


class Sort(msgspec.Struct, frozen=True):
    field: SortField
    descending: bool = False


class ExtensionTest(msgspec.Struct, frozen=True):
    """A listing filter on a boolean a dialect keeps in ``Segment.extensions``: the value at
    ``path`` (``default`` where it is absent, e.g. on segments made by other dialects) must be
    ``value``."""

    path: tuple[str, ...]
    value: bool
    default: bool = False


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


class SegmentRoom(msgspec.Struct, frozen=True, kw_only=True):
    """What a create checks before it writes, read at once: the tenant (its limits) and a bound
    on its segments. Not whether the name is taken: the insert's unique key says so in O(log n),
    while a read of it may be planned as a scan of the tenant's segments (see
    ``ConstraintSegmentService.create``)."""

    tenant: Tenant
    segments_at_most: int
    """The tenant holds no more segments than this (in all its sandboxes): each has its own seq,
    at least 1 and below the tenant's next one (a given seq moves the next one above it). A
    limit above it cannot be reached, so only a tenant near its limit has its segments counted
    (a count reads every one of them)."""
    stored_settings: str = "{}"
    """The tenant's settings exactly as stored: a :class:`RoomGuard` compares them."""


class RoomGuard(msgspec.Struct, frozen=True, kw_only=True):
    """A create's condition on its tenant, checked by the statement that claims the new seq
    (under the tenant's row lock): its settings are still ``settings`` (so its limits are the
    ones the create was checked against) and its next seq is at most ``next_seq_at_most`` (so
    it holds fewer segments than its limit). Otherwise nothing is written and the store raises
    :class:`core.errors.RoomChanged`. It lets a process check a create against the tenant as it
    last read it, instead of reading it before every create."""

    settings: str
    next_seq_at_most: int


class SegmentToUpdate(msgspec.Struct, frozen=True, kw_only=True):
    """What an update by seq checks before it writes, read at once: the tenant (its limits) and
    the segment of that seq (None: there is none). Whether a new name is taken is left to the
    update's unique key, as for :class:`SegmentRoom`."""

    tenant: Tenant
    segment: Segment | None


Scope = str
"""``admin`` or ``client:<environment>``."""


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who is calling: the token's tenant, scope and name (never the token itself)."""

    tenant: str
    scope: Scope
    token_name: str
    default_sandbox: str = DEFAULT_SANDBOX
    client_id: str | None = None
    """The OAuth client id the token belongs to (Adobe's ``x-api-key``), if it has one."""

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


# --- flags and rules (what references segments) --------------------------------------------

DEFAULT_PROJECT = "default"
DEFAULT_ENVIRONMENTS = (("development", "development", 1), ("production", "production", 2))
"""(name, type, sort order) of the environments every tenant starts with (Unleash's defaults)."""


class Project(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    id: str
    name: str
    description: str | None = None
    created_at: int


class Environment(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    name: str
    type: str
    sort_order: int


class Flag(msgspec.Struct, frozen=True, kw_only=True):
    """A feature flag (an Unleash feature): rules per environment decide who gets it."""

    tenant: str
    name: str
    project: str
    type: str = "release"
    description: str | None = None
    enabled: dict[str, bool] = {}
    """Environment -> on/off; an environment not listed is off."""
    archived: bool = False
    created_at: int
    updated_at: int
    created_by: str | None = None
    version: int = 1
    extensions: dict[str, Any] = {}
    """Per-dialect JSON (Unleash: impressionData, stale)."""


class NewFlag(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    project: str = DEFAULT_PROJECT
    type: str = "release"
    description: str | None = None
    extensions: dict[str, Any] = {}


class Rule(msgspec.Struct, frozen=True, kw_only=True):
    """One targeting rule of a flag in one environment (an Unleash strategy)."""

    id: str
    """A ULID (Unleash strategy ids are strings; ULIDs sort by creation)."""
    tenant: str
    flag: str
    environment: str
    sort_order: int = 0
    payload: dict[str, Any] = {}
    """The rule as its dialect keeps it (Unleash: name, title, disabled, constraints,
    parameters, variants); the core does not interpret it."""
    segments: tuple[str, ...] = ()
    """Canonical ids of the segments the rule uses, in the order given."""
    created_at: int
    updated_at: int
    created_by: str | None = None
    version: int = 1


class NewRule(msgspec.Struct, frozen=True, kw_only=True):
    flag: str
    environment: str
    sort_order: int = 0
    payload: dict[str, Any] = {}
    segments: tuple[str, ...] = ()


class RulePatch(msgspec.Struct, frozen=True, kw_only=True):
    sort_order: int | msgspec.UnsetType = msgspec.UNSET
    payload: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET
    segments: tuple[str, ...] | msgspec.UnsetType = msgspec.UNSET


class SegmentUse(msgspec.Struct, frozen=True, kw_only=True):
    """One rule that uses a segment, with the project and state of its flag."""

    rule: Rule
    project: str
    archived: bool = False


# --- profiles (HAL's individuals) ----------------------------------------------------------

ProfileColumn = Literal["identifier", "created_at", "updated_at"]


class Profile(msgspec.Struct, frozen=True, kw_only=True):
    """An individual: an identifier in a sandbox and JSON attributes the core does not interpret
    (segment conditions address them by path; dynamic membership is computed, never stored)."""

    tenant: str
    sandbox: str
    identifier: str
    attributes: dict[str, Any] = {}
    created_at: int
    updated_at: int
    version: int = 1


class ProfileSort(msgspec.Struct, frozen=True):
    """Order by a column, or (``column`` None) by the first value at ``path`` in the
    attributes: numbers first in numeric order, then strings in byte order, then the rest."""

    column: ProfileColumn | None = None
    path: tuple[str, ...] = ()
    descending: bool = False


class ProfilePage(msgspec.Struct, frozen=True):
    items: list[Profile]
    total: int
