"""Wire shapes of Confidence's flags admin API (``confidence.flags.admin.v1``: Flag, Variant,
Rule) and of its clients and credentials (``confidence.iam.v1``), as proto3 JSON.

In: lowerCamelCase after :func:`dialects.confidence.wire.camel_keys` (which leaves a variant's
``value`` and a flag's ``schema`` alone: their keys are data), unknown fields refused, UNSET
for a field not sent (what an update without a mask changes), OUTPUT_ONLY fields accepted and
ignored (AIP-203). int32 fields take a JSON number or a decimal string, as proto3 JSON allows.
Out: default values omitted, times as RFC 3339, identities as ``identities/<token name>``.
"""

from __future__ import annotations

from typing import Any

import msgspec

Unset = msgspec.UnsetType
UNSET = msgspec.UNSET
Int32 = int | str


# --- in --------------------------------------------------------------------------------------


class VariantIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str | Unset | None = UNSET
    value: dict[str, Any] | Unset | None = UNSET
    labels: dict[str, str] | Unset | None = UNSET
    description: str | Unset | None = UNSET
    createTime: Any = UNSET
    updateTime: Any = UNSET
    creator: Any = UNSET
    updater: Any = UNSET


class BucketRangeIn(msgspec.Struct, forbid_unknown_fields=True):
    lower: Int32 | None = None
    upper: Int32 | None = None


class VariantAssignmentIn(msgspec.Struct, forbid_unknown_fields=True):
    variant: str | None = None


class EmptyIn(msgspec.Struct, forbid_unknown_fields=True):
    """``FallthroughAssignment`` and ``ClientDefaultAssignment``: empty messages."""


class AssignmentIn(msgspec.Struct, forbid_unknown_fields=True):
    assignmentId: str | None = None
    variant: VariantAssignmentIn | None = None
    fallthrough: EmptyIn | None = None
    clientDefault: EmptyIn | None = None
    bucketRanges: list[BucketRangeIn] | None = None


class AssignmentSpecIn(msgspec.Struct, forbid_unknown_fields=True):
    bucketCount: Int32 | Unset | None = UNSET
    assignments: list[AssignmentIn] | Unset | None = UNSET


class ReadModeIn(msgspec.Struct, forbid_unknown_fields=True):
    materializationMustMatch: bool | None = None
    segmentTargetingCanBeIgnored: bool | None = None


class MaterializationSpecIn(msgspec.Struct, forbid_unknown_fields=True):
    writeMaterialization: str | None = None
    readMaterialization: str | None = None
    mode: ReadModeIn | None = None


class RuleIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str | Unset | None = UNSET
    segment: str | Unset | None = UNSET
    assignmentSpec: AssignmentSpecIn | Unset | None = UNSET
    targetingKeySelector: str | Unset | None = UNSET
    enabled: bool | Unset | None = UNSET
    labels: dict[str, str] | Unset | None = UNSET
    environments: list[str] | Unset | None = UNSET
    materializationSpec: MaterializationSpecIn | Unset | None = UNSET
    usageMetadata: Any = UNSET
    createTime: Any = UNSET
    updateTime: Any = UNSET
    creator: Any = UNSET
    updater: Any = UNSET


class FlagIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str | Unset | None = UNSET
    description: str | Unset | None = UNSET
    schema: dict[str, Any] | Unset | None = UNSET
    variants: list[VariantIn] | Unset | None = UNSET
    rules: list[RuleIn] | Unset | None = UNSET
    clients: list[str] | Unset | None = UNSET
    labels: dict[str, str] | Unset | None = UNSET
    owner: str | Unset | None = UNSET
    state: Any = UNSET
    usageMetadata: Any = UNSET
    createTime: Any = UNSET
    updateTime: Any = UNSET
    creator: Any = UNSET
    updater: Any = UNSET


class ArchiveFlagIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str | None = None


class FlagClientIn(msgspec.Struct, forbid_unknown_fields=True):
    """``AddFlagClientRequest`` / ``RemoveFlagClientRequest`` (``flag`` is in the path and may
    be repeated in the body)."""

    client: str | None = None
    flag: str | None = None


class ClientIn(msgspec.Struct, forbid_unknown_fields=True):
    displayName: str | None = None
    labels: dict[str, str] | None = None
    name: Any = None
    lastSeenTime: Any = None
    createTime: Any = None
    updateTime: Any = None
    creator: Any = None
    updater: Any = None


class CredentialIn(msgspec.Struct, forbid_unknown_fields=True):
    displayName: str | None = None
    environments: list[str] | None = None
    labels: dict[str, str] | None = None
    clientSecret: Any = None
    """OUTPUT_ONLY in practice: the server makes the secret."""
    name: Any = None
    lastSeenTime: Any = None
    createTime: Any = None
    updateTime: Any = None
    creator: Any = None
    updater: Any = None


# --- out -------------------------------------------------------------------------------------


class VariantOut(msgspec.Struct, omit_defaults=True):
    name: str
    value: dict[str, Any]
    labels: dict[str, str] = {}
    description: str = ""
    createTime: str = ""
    updateTime: str = ""
    creator: str = ""
    updater: str = ""


class BucketRangeOut(msgspec.Struct, omit_defaults=True):
    lower: int = 0
    upper: int = 0


class VariantAssignmentOut(msgspec.Struct):
    variant: str


class EmptyOut(msgspec.Struct):
    pass


class AssignmentOut(msgspec.Struct, omit_defaults=True):
    assignmentId: str = ""
    variant: VariantAssignmentOut | None = None
    fallthrough: EmptyOut | None = None
    clientDefault: EmptyOut | None = None
    bucketRanges: list[BucketRangeOut] = []


class AssignmentSpecOut(msgspec.Struct, omit_defaults=True):
    bucketCount: int = 0
    assignments: list[AssignmentOut] = []


class RuleOut(msgspec.Struct, omit_defaults=True):
    name: str
    segment: str
    assignmentSpec: AssignmentSpecOut
    targetingKeySelector: str = ""
    enabled: bool = False
    createTime: str = ""
    updateTime: str = ""
    creator: str = ""
    updater: str = ""
    labels: dict[str, str] = {}
    environments: list[str] = []
    materializationSpec: dict[str, Any] | None = None


class FlagOut(msgspec.Struct, omit_defaults=True):
    name: str
    state: str
    schema: dict[str, Any]
    description: str = ""
    variants: list[VariantOut] = []
    rules: list[RuleOut] = []
    clients: list[str] = []
    createTime: str = ""
    updateTime: str = ""
    creator: str = ""
    updater: str = ""
    labels: dict[str, str] = {}
    owner: str = ""


class ListFlagsOut(msgspec.Struct, omit_defaults=True):
    flags: list[FlagOut]
    nextPageToken: str = ""


class ListVariantsOut(msgspec.Struct, omit_defaults=True):
    variants: list[VariantOut]
    nextPageToken: str = ""


class ListRulesOut(msgspec.Struct, omit_defaults=True):
    rules: list[RuleOut]
    nextPageToken: str = ""


class ClientOut(msgspec.Struct, omit_defaults=True):
    name: str
    displayName: str = ""
    labels: dict[str, str] = {}
    createTime: str = ""
    updateTime: str = ""
    creator: str = ""
    updater: str = ""


class ListClientsOut(msgspec.Struct, omit_defaults=True):
    clients: list[ClientOut]
    nextPageToken: str = ""


class ClientSecretOut(msgspec.Struct):
    secret: str


class CredentialOut(msgspec.Struct, omit_defaults=True):
    name: str
    displayName: str = ""
    clientSecret: ClientSecretOut | None = None
    """Only in the answer to the create: the secret is never shown again."""
    labels: dict[str, str] = {}
    createTime: str = ""
    updateTime: str = ""
    creator: str = ""
    updater: str = ""
    environments: list[str] = []


class ListCredentialsOut(msgspec.Struct, omit_defaults=True):
    clientCredentials: list[CredentialOut]
    nextPageToken: str = ""
