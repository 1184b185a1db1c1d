"""Confidence's flags as the core keeps them: a flag with its variants and its ordered rules, and
the clients (with credentials) allowed to resolve it.

These records are what the store reads and writes and what the resolver (``core.resolver``)
takes as input; the Confidence dialect translates them to and from proto3 JSON. Resource names
are kept in Confidence's own form (``flags/<flag>``, ``flags/<flag>/variants/<v>``,
``flags/<flag>/rules/<r>``, ``clients/<c>``, ``clients/<c>/credentials/<k>``, ``segments/<slug>``)
because they are what resolve answers and resolve tokens carry. Times are microseconds since the
epoch, as in ``core.model``.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

FlagState = Literal["ACTIVE", "ARCHIVED"]
AssignmentKind = Literal["variant", "fallthrough", "client_default"]
DEFAULT_TARGETING_KEY = "targeting_key"


class BucketRange(msgspec.Struct, frozen=True):
    """Buckets ``lower <= b < upper`` of a rule's ``bucketCount``."""

    lower: int
    upper: int


class Assignment(msgspec.Struct, frozen=True, kw_only=True):
    """One assignment of a rule's ``assignmentSpec``: a variant, a fallthrough (move on to the
    next rule) or the client's default (match, no variant), over some bucket ranges."""

    assignment_id: str = ""
    kind: AssignmentKind
    variant: str | None = None
    """``flags/<flag>/variants/<v>`` when ``kind == "variant"``."""
    bucket_ranges: tuple[BucketRange, ...] = ()


class FlagRule(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    """``flags/<flag>/rules/<id>``."""
    segment: str
    """``segments/<slug>``: any segment of the tenant, whichever dialect made it."""
    targeting_key_selector: str = ""
    """Where the unit is read from. Blank (the proto's default) reads ``targeting_key`` but is
    not the same as naming it: Confidence's resolver lets a blank selector without a unit
    through to a full rollout, and skips a rule whose named selector is missing."""
    enabled: bool = True
    environments: tuple[str, ...] = ()
    bucket_count: int = 0
    assignments: tuple[Assignment, ...] = ()
    labels: dict[str, str] = {}
    materialization_spec: dict[str, Any] = {}
    """``materializationSpec`` as sent (proto3 JSON, camelCase); empty when the rule has none.
    Kept so the resolver can refuse what it cannot evaluate instead of ignoring it."""
    create_time: int = 0
    update_time: int = 0
    creator: str | None = None
    """The token that created it (shown as ``identities/<token>``)."""
    updater: str | None = None


class FlagVariant(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    """``flags/<flag>/variants/<v>``."""
    value: dict[str, Any] = {}
    description: str = ""
    labels: dict[str, str] = {}
    create_time: int = 0
    update_time: int = 0
    creator: str | None = None
    updater: str | None = None


class ConfidenceFlag(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    name: str
    """``flags/<flag>``."""
    description: str = ""
    schema: dict[str, Any] = {}
    """The flag's value schema as proto3 JSON (``{"schema": {"<field>": {"boolSchema": {}}}}``)."""
    state: FlagState = "ACTIVE"
    clients: tuple[str, ...] = ()
    """``clients/<c>`` allowed to resolve this flag."""
    variants: tuple[FlagVariant, ...] = ()
    rules: tuple[FlagRule, ...] = ()
    """In evaluation order."""
    labels: dict[str, str] = {}
    owner: str = ""
    create_time: int = 0
    update_time: int = 0
    version: int = 1
    extensions: dict[str, Any] = {}
    creator: str | None = None
    updater: str | None = None


class ClientCredential(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    """``clients/<c>/credentials/<k>``."""
    display_name: str = ""
    environments: tuple[str, ...] = ()
    """The environments whose rules this credential resolves. Empty: only rules that name no
    environment (Confidence's resolver reads it so; never every environment)."""
    labels: dict[str, str] = {}
    create_time: int = 0
    update_time: int = 0
    creator: str | None = None


class ConfidenceClient(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    name: str
    """``clients/<c>``."""
    display_name: str = ""
    labels: dict[str, str] = {}
    credentials: tuple[ClientCredential, ...] = ()
    create_time: int = 0
    update_time: int = 0
    creator: str | None = None
    updater: str | None = None
